/**
 * Re-runs a bench script in a network namespace of its own (loopback only) when it can: other
 * engineers' tests bind port 596 on this host, which would show up as "something on the port"
 * in clear-port timings, and the bench's own sockets on 596 would break their tests. The process
 * tree, /proc and the tools stay the host's, so owner lookups still walk every process.
 */
import { spawn, spawnSync } from 'node:child_process';

/** Set in the re-run child, so it does not nest again. */
const MARK = 'GHOSTPORT_BENCH_NETNS';

/** True when this process runs in the namespace made by `runInOwnNetns`. */
export function inOwnNetns(): boolean {
  return Boolean(process.env[MARK]);
}

/** Runs `script argv` in a new network namespace and returns its exit code, or null when the caller should run here instead. */
export async function runInOwnNetns(script: string, argv: readonly string[]): Promise<number | null> {
  if (inOwnNetns() || argv.includes('--host-netns')) return null;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  if (spawnSync('unshare', ['--net', '--', 'true']).status !== 0) return null;
  const child = spawn('unshare', ['--net', '--', 'bash', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, script, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1' },
  });
  // Ctrl-C reaches the whole foreground group by itself; a SIGTERM to this process is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1))));
}

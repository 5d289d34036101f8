/**
 * Test helper: `ghostport watch` as a child process (the bin shim, as users run it), with the
 * complete lines it has printed so far. A line cut short by a kill was never announced.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

/** The CLI's bin shim, relative to the checkout. */
export const BIN = 'electron/node/cli/ghostport.mjs';

/** One line of `watch --json`. */
export interface EventLine {
  readonly seq: number;
  readonly type: 'appeared' | 'disappeared' | 'owner-changed';
  readonly at: string;
  readonly flapping: boolean;
  readonly socket: { readonly id: string; readonly pid: number | null; readonly localAddress: string; readonly localPort: number };
}

/** A health line of `watch --json`. */
export interface HealthLine {
  readonly type: 'health';
  readonly health: string;
  readonly issues: readonly { readonly code: string; readonly message: string; readonly pending?: number }[];
}

/** A running watcher. */
export interface Watcher {
  readonly child: ChildProcess;
  /** Every complete line printed on stdout so far, parsed. */
  events(): EventLine[];
  /** The health lines printed on stdout so far (`watch --json` prints one per change of what it can see). */
  health(): HealthLine[];
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Resolves when the watcher says it is watching. */
  ready(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<Watcher>();

/** Starts `ghostport watch --json` with extra arguments; `wrap` runs it under e.g. bash -c 'ulimit ...; exec "$@"'. */
export function startWatcher(args: readonly string[], wrap: readonly string[] = [], options: SpawnOptions = {}): Watcher {
  const argv = [...wrap, process.execPath, BIN, 'watch', '--json', ...args];
  // These tests poll faster than users may (below 250 ms), to stress the store.
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...options, env: { ...process.env, GHOSTPORT_TEST_FAST_POLL: '1', ...options.env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += String(c)));
  child.stderr!.on('data', (c: Buffer) => (err += String(c)));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const lines = () => out.slice(0, out.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string });
  const watcher: Watcher = {
    child,
    events() {
      // Health lines (type "health") are not events.
      return lines().filter((e) => e.type !== 'health') as EventLine[];
    },
    health: () => lines().filter((e) => e.type === 'health') as HealthLine[],
    stderr: () => err,
    async ready() {
      const deadline = Date.now() + 30_000;
      while (!err.includes('watching')) {
        if (child.exitCode !== null) throw new Error(`watch exited early: ${err}`);
        if (Date.now() > deadline) throw new Error(`watch did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async kill(signal = 'SIGKILL') {
      live.delete(watcher);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  live.add(watcher);
  return watcher;
}

/** Kills every watcher still running. */
export async function killAllWatchers(): Promise<void> {
  await Promise.all([...live].map((w) => w.kill('SIGKILL')));
}

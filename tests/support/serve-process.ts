/**
 * Test helper: `ghostport serve` in a child process (its own signals, its own exit), with a
 * temporary state directory, the ports it watches written to its settings, and its log kept.
 * Every service is tracked and killed by `stopAllServices()` (call it in `after`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '#common/settings.ts';
import type { ServeOptions } from '#node/service/serve.ts';

/** A running (or finished) service. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly socketPath: string;
  readonly stateDir: string;
  /** stderr so far (the service's log). */
  log(): string;
  /** Resolves with the exit status. */
  readonly exited: Promise<number | null>;
  /** Resolves once it listens, with its metrics URL; rejects if it exits first. */
  readonly ready: Promise<{ readonly metricsUrl: string | null }>;
}

const live = new Set<ServeProcess>();
const LAUNCHER = new URL('./serve-launcher.ts', import.meta.url).pathname;

/** Writes the settings a service reads at start and on SIGHUP. */
export function writeServiceSettings(stateDir: string, ports: readonly number[], intervalMs = 250): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ports, intervalMs }));
}

// Removed when the test process exits (node:test's hooks are not used here: Playwright specs use this too).
const roots: string[] = [];
process.once('exit', () => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fresh directory for a socket and a state directory, removed when the test process exits. */
export function serviceDirs(): { socketPath: string; stateDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'ghostport-serve-'));
  roots.push(root);
  chmodSync(root, 0o755); // other users' clients must reach the socket (its own mode decides)
  return { socketPath: join(root, 'run', 'ghostport.sock'), stateDir: join(root, 'state') };
}

/** Starts `serve`; `ports` go into its settings.json (the state dir is created when missing). */
export function startService(options: ServeOptions & { ports?: readonly number[]; wrap?: readonly string[] }, env: NodeJS.ProcessEnv = {}): ServeProcess {
  const { ports, wrap = [], ...serve } = options;
  const stateDir = serve.dataDir ?? serviceDirs().stateDir;
  mkdirSync(stateDir, { recursive: true });
  if (ports) writeServiceSettings(stateDir, ports, serve.intervalMs ?? 250);
  const argv = [process.execPath, LAUNCHER, JSON.stringify({ intervalMs: 250, ...serve, dataDir: stateDir })];
  // `wrap` runs it through another command first, e.g. ['ip', 'netns', 'exec', NAME].
  const child = spawn([...wrap, ...argv][0]!, [...wrap, ...argv].slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<{ metricsUrl: string | null }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const line = /READY (.*)\n/.exec(out);
      if (line) resolve(JSON.parse(line[1]!) as { metricsUrl: string | null });
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code} before it was ready: ${stderr}`)));
  });
  ready.catch(() => undefined);
  const service: ServeProcess = { child, socketPath: serve.socketPath!, stateDir, log: () => stderr, exited, ready };
  live.add(service);
  void exited.then(() => live.delete(service));
  return service;
}

/** Stops every service still running (SIGKILL: tests that need a clean stop send SIGTERM themselves). */
export async function stopAllServices(): Promise<void> {
  await Promise.all([...live].map((s) => (s.child.kill('SIGKILL'), s.exited)));
}

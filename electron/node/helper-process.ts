/**
 * A long-lived helper process that answers one request at a time: the probe shell and the
 * netlink helper. Started lazily in its own process group (so a kill reaches whatever it runs),
 * never keeping Node alive for its sake, and started afresh on the next request after a kill.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/** Lets a child and its stdio pipes (sockets underneath) stop holding Node's event loop. */
export function unrefChild(child: ChildProcessWithoutNullStreams): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
}

/** Kills a child that still runs with SIGKILL and resolves once it is gone (held until then). */
export async function killAndWait(child: ChildProcessWithoutNullStreams | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.ref();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** One helper process and the queue of exchanges with it. */
export class HelperProcess {
  readonly #file: string;
  readonly #args: readonly string[];
  readonly #env: () => NodeJS.ProcessEnv;
  #child: ChildProcessWithoutNullStreams | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(file: string, args: readonly string[], env: () => NodeJS.ProcessEnv) {
    this.#file = file;
    this.#args = args;
    this.#env = env;
  }

  /** The running helper's pid, or null while none runs. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Runs `exchange` with the (started if need be) helper, one exchange at a time, in call order. */
  serialize<T>(exchange: (child: ChildProcessWithoutNullStreams) => Promise<T>): Promise<T> {
    const next = this.#queue.then(() => exchange(this.#running()));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Kills the helper and everything it started; the next exchange starts a new one. */
  kill(): void {
    const child = this.#child;
    this.#child = null;
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  #running(): ChildProcessWithoutNullStreams {
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) return this.#child;
    // Loaded on first use: a one-shot scan that reads /proc/net starts no helper.
    const child = process.getBuiltinModule('node:child_process').spawn(this.#file, [...this.#args], { stdio: 'pipe', detached: true, env: this.#env() });
    child.on('error', () => undefined);
    child.stdin.on('error', () => undefined);
    unrefChild(child);
    child.stderr.resume();
    this.#child = child;
    return child;
  }
}

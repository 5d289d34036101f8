/**
 * The bench's children (socket farm, port-596 holder, engine driver): spawned with a raised fd
 * limit, spoken to by one command per stdin line, answering with one JSON object per stdout line.
 * Every child is registered so that it is ended on success, failure and Ctrl-C alike; the
 * children also exit by themselves when their stdin closes, so a SIGKILLed bench leaves nothing.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One JSON message from a child. */
export type ChildMessage = Readonly<Record<string, unknown>>;

const live = new Set<ChildLink>();

/** A running child and its message queue. */
export class ChildLink {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  private readonly queue: ChildMessage[] = [];
  private readonly waiters: { readonly match: (m: ChildMessage) => boolean; readonly resolve: (m: ChildMessage) => void }[] = [];
  private readonly stderrTail: string[] = [];
  private exitInfo: string | null = null;
  private readonly exited: Promise<void>;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.process = child;
    if (child.pid === undefined) throw new Error(`${name}: could not start`);
    this.pid = child.pid;
    live.add(this);
    createInterface({ input: child.stdout! }).on('line', (line) => this.accept(line));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = `exited (${code ?? signal})`;
        live.delete(this);
        resolve();
      });
    });
  }

  /** Sends one command line. */
  send(command: string): void {
    if (this.exitInfo === null) this.process.stdin!.write(`${command}\n`);
  }

  /** Resolves with (and removes) the first queued or future message that matches; rejects on timeout or exit. */
  waitFor(match: (m: ChildMessage) => boolean, timeoutMs: number, what = 'a message'): Promise<ChildMessage> {
    const index = this.queue.findIndex(match);
    if (index >= 0) return Promise.resolve(this.queue.splice(index, 1)[0] as ChildMessage);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms${this.describeEnd()}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (m: ChildMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then(() => {
        const at = this.waiters.indexOf(waiter);
        if (at < 0) return;
        this.waiters.splice(at, 1);
        clearTimeout(timer);
        reject(new Error(`${this.name}: ${this.exitInfo} while waiting for ${what}${this.describeEnd()}`));
      });
    });
  }

  /** Sends a command and waits for the reply of the given type. */
  async request(command: string, replyType: string, timeoutMs: number): Promise<ChildMessage> {
    this.send(command);
    return this.waitFor((m) => m['type'] === replyType, timeoutMs, `"${replyType}" reply to "${command}"`);
  }

  /** Drops queued messages that match (e.g. events nobody asked about). */
  discard(match: (m: ChildMessage) => boolean): number {
    let dropped = 0;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (match(this.queue[i] as ChildMessage)) {
        this.queue.splice(i, 1);
        dropped++;
      }
    }
    return dropped;
  }

  /** Ends the child: closes its stdin (it exits cleanly), then SIGKILL if it lingers. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exitInfo !== null) return;
    this.process.stdin!.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the child now, by its own pid only. */
  kill(): void {
    if (this.exitInfo === null) this.process.kill('SIGKILL');
  }

  private accept(line: string): void {
    let message: ChildMessage;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== 'object') return;
      message = parsed as ChildMessage;
    } catch {
      return; // Not protocol: a stray log line from a library.
    }
    if (message['type'] === 'fatal') this.stderrTail.push(String(message['message']));
    const index = this.waiters.findIndex((w) => w.match(message));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(message);
    else this.queue.push(message);
  }

  private describeEnd(): string {
    return this.stderrTail.length > 0 ? `\n  ${this.name} stderr:\n    ${this.stderrTail.join('\n    ')}` : '';
  }
}

/**
 * Starts a Node script (run by this same Node, so .ts files work) as a child with `ulimit -n`
 * raised as far as allowed: the socket farm needs more descriptors than a default soft limit.
 */
export function spawnNodeChild(name: string, script: string, args: readonly string[], nodeFlags: readonly string[] = [], fdLimit = 65536): ChildLink {
  // Without CAP_SYS_RESOURCE (containers) even root cannot pass the hard limit: fall back to it.
  const raise = `ulimit -n ${fdLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"`;
  const child = spawn('bash', ['-c', `${raise}; exec "$0" "$@"`, process.execPath, ...nodeFlags, script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new ChildLink(name, child);
}

/** Stops every child still running (used on success, failure and signals). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(3000)));
}

/** Last-resort cleanup when the process is exiting synchronously. */
export function killAllChildren(): void {
  for (const c of live) c.kill();
}

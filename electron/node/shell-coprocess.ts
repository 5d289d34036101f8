/**
 * A long-lived `/bin/sh` that runs the poll's probe command (`ss` without owners), one at a time.
 * Forking the engine — a Node process of 100 MB or so — for every poll costs more than `ss`
 * itself (about 20 ms of CPU against 3-5 ms on our 2-core benchmark machine); a small shell forks
 * cheaply. Used only for commands whose output holds no untrusted text (no process names), and
 * bounded like every child: a command that does not answer in time kills the shell, which is
 * started afresh on the next call.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { formatInterval } from '#common/display-text.ts';
import type { CommandResult } from './run-command.ts';
import { HelperProcess } from './helper-process.ts';

/** Quotes one argument for the POSIX shell. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One shell, many commands. */
export class ShellCoprocess {
  readonly #shell = new HelperProcess('/bin/sh', [], () => ({ ...process.env, LC_ALL: 'C' }));
  // Made on first use: the scanner creates this shell at start, most scans never run it.
  #markerText: string | null = null;

  /** The shell's pid, or null while none runs (for the benchmark's CPU accounting). */
  get pid(): number | null {
    return this.#shell.pid;
  }

  /** Runs `file args...` in the shell; never rejects. */
  run(file: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
    return this.#shell
      .serialize((child) => this.#runNow(child, file, args, timeoutMs))
      .catch((error: unknown) => ({ kind: 'failed', message: `cannot start /bin/sh: ${String(error)}` }) as const);
  }

  /** Stops the shell. */
  dispose(): void {
    this.#shell.kill();
  }

  get #marker(): string {
    return (this.#markerText ??= `__ghostport_${process.getBuiltinModule('node:crypto').randomBytes(12).toString('hex')}__`);
  }

  #runNow(child: ChildProcessWithoutNullStreams, file: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
    return new Promise<CommandResult>((resolve) => {
      let out = '';
      const endTag = `\n${this.#marker} `;
      const finish = (result: CommandResult) => {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        resolve(result);
      };
      const onData = (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const at = out.lastIndexOf(endTag);
        if (at < 0) return;
        const tail = out.slice(at + endTag.length);
        const newline = tail.indexOf('\n');
        if (newline < 0) return;
        const code = Number(tail.slice(0, newline));
        const stdout = out.slice(0, at);
        if (code === 0) finish({ kind: 'ok', stdout });
        else if (code === 127) finish({ kind: 'missing', message: `${file} not found on PATH` });
        else finish({ kind: 'failed', message: `${file} exited with status ${code}` });
      };
      const onExit = () => finish({ kind: 'failed', message: 'the shell running the probe exited' });
      const timer = setTimeout(() => {
        this.dispose();
        finish({ kind: 'failed', message: `${file} did not answer within ${formatInterval(timeoutMs)}` });
      }, timeoutMs);
      child.stdout.on('data', onData);
      child.once('exit', onExit);
      const command = [file, ...args].map(shellQuote).join(' ');
      // The shell outlives changes to our PATH: look the tool up where a fresh spawn would.
      const path = `export PATH=${shellQuote(process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')}; `;
      child.stdin.write(`${path}${command} 2>/dev/null </dev/null; printf '\\n%s %d\\n' '${this.#marker}' "$?"\n`);
    });
  }
}

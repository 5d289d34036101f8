/**
 * Runs an external tool with a hard timeout and output cap, and tells "not installed" apart from
 * "failed": a missing `ss` must become a visible degraded state, never an empty result.
 *
 * On POSIX the tool runs in its own process group and the timeout kills the whole group: a
 * wrapper script (or anything the tool forks) cannot outlive the bound and pile up scan after
 * scan, and an orphan holding the output pipe open cannot stall the answer.
 */
import type { ChildProcess } from 'node:child_process';
import { formatInterval } from '#common/display-text.ts';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { errorMessage } from '#common/error-message.ts';

/** What running a tool gave. */
export type CommandResult =
  | { readonly kind: 'ok'; readonly stdout: string }
  | { readonly kind: 'missing'; readonly message: string }
  | { readonly kind: 'failed'; readonly message: string };

/** Default bound on any child process Ghostport starts. */
export const COMMAND_TIMEOUT_MS = 10_000;

const posix = process.platform !== 'win32';
// Groups still running, killed if Ghostport exits first (a detached group would outlive it).
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    if (posix) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // Already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled || !posix) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** True when `file` is an executable on PATH (as spawn would find it), without starting anything. */
export function isInstalled(file: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      const candidate = join(dir || '.', file);
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

/** Runs `file args...` without a shell; never rejects. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; maxBuffer?: number } = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  const maxBuffer = options.maxBuffer ?? 64 * 1024 * 1024;
  installExitHook();
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      // Loaded on first use: a one-shot scan that finds the port clear starts no process at all.
      child = process.getBuiltinModule('node:child_process').spawn(file, args, {
        detached: posix,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
        windowsHide: true,
      });
    } catch (error) {
      resolve({ kind: 'failed', message: `${file} could not be started: ${errorMessage(error)}` });
      return;
    }
    const pgid = child.pid;
    if (posix && pgid !== undefined) liveGroups.add(pgid);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: CommandResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (pgid !== undefined) liveGroups.delete(pgid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      killGroup(child);
      finish({ kind: 'failed', message: `${file} did not answer within ${formatInterval(timeoutMs)}` });
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBuffer) {
        killGroup(child);
        finish({ kind: 'failed', message: `${file} printed more than ${maxBuffer} bytes` });
        return;
      }
      stdout.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 64) stderr.push(chunk);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') finish({ kind: 'missing', message: `${file} not found on PATH` });
      else finish({ kind: 'failed', message: `${file} failed: ${error.message}` });
    });
    child.once('close', (code, signal) => {
      // Anything the tool left behind in its group goes with it.
      killGroup(child);
      if (code === 0) return finish({ kind: 'ok', stdout: Buffer.concat(stdout).toString('utf8') });
      const detail = Buffer.concat(stderr).toString('utf8').trim().split('\n')[0] || (signal ? `killed by ${signal}` : `exit status ${code}`);
      finish({ kind: 'failed', message: `${file} failed: ${detail}` });
    });
  });
}

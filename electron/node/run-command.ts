/**
 * Runs an external tool with a hard timeout and output cap, and tells "not installed" apart from
 * "failed": a missing `ss` must become a visible degraded state, never an empty result.
 */
import { execFile } from 'node:child_process';

/** What running a tool gave. */
export type CommandResult =
  | { readonly kind: 'ok'; readonly stdout: string }
  | { readonly kind: 'missing'; readonly message: string }
  | { readonly kind: 'failed'; readonly message: string };

/** Default bound on any child process Ghostport starts. */
export const COMMAND_TIMEOUT_MS = 10_000;

/** Runs `file args...` without a shell; never rejects. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; maxBuffer?: number } = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
        encoding: 'utf8',
        env: { ...process.env, LC_ALL: 'C' },
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ kind: 'ok', stdout });
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return resolve({ kind: 'missing', message: `${file} not found on PATH` });
        if ((error as { killed?: boolean }).killed) {
          return resolve({ kind: 'failed', message: `${file} did not answer within ${timeoutMs} ms` });
        }
        const detail = String(stderr || error.message).trim().split('\n')[0] ?? '';
        resolve({ kind: 'failed', message: `${file} failed: ${detail}` });
      },
    );
  });
}

/**
 * What every CLI command is given: where to write, the environment and the clock (injected so
 * tests run commands in-process), and the one error type that means "exit 2 with this line".
 */

/** Where the CLI writes, what it reads from its surroundings, and how it learns to stop. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The real stdout, for long listings written with back-pressure; absent in tests. */
  readonly stdout?: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => number;
  /** Resolves when the command should stop (SIGINT, SIGTERM, or the stdout reader went away). */
  readonly stopped: Promise<void>;
}

/** An error the user can act on: printed as one line, exit status 2, no stack trace. */
export class CliError extends Error {}

// Errors of the store and the data directory whose messages already say what to do.
const USER_ERRORS = new Set(['UnsafePathError', 'HistoryError']);

/** True for an error whose message is for the user (exit 2, no "bug" wording). */
export function isUserError(error: unknown): error is Error {
  return error instanceof CliError || (error instanceof Error && USER_ERRORS.has(error.name));
}

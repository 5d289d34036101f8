/**
 * The `ghostport` command line: the same engine and history as the tray app, with no Electron.
 * One entry: every outcome is an exit status, 0 clear, 1 found, 2 any error (bad arguments, an
 * unusable data directory, "cannot see sockets", a bug), with one line saying what to do and no
 * stack trace unless GHOSTPORT_DEBUG=1. Each command's modules load only when it runs.
 */
import { readFileSync } from 'node:fs';
import { escapeUnsafe } from '../../common/display-text.ts';
import { EXIT, MIN_INTERVAL_MS, helpText, parseCliArgs, type CliOptions, type CommandName } from './args.ts';
import { CliError, isUserError, type CliIo } from './io.ts';

/** How each command runs; a command's modules are loaded only when it is the one asked for. */
const RUNNERS: Readonly<Record<Exclude<CommandName, 'help' | 'version'>, (options: CliOptions, io: CliIo) => Promise<number>>> = {
  scan: async (options, io) => (await import('./scan.ts')).scan(options, io),
  watch: async (options, io) => (await import('./watch.ts')).watch(options, io),
  history: async (options, io) => (await import('./history.ts')).history(options, io),
};

/** Runs the CLI and resolves with the exit status; never rejects. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    // The stress tests poll faster than a user may; nothing else lowers the floor.
    const minIntervalMs = io.env.GHOSTPORT_TEST_FAST_POLL === '1' ? 10 : MIN_INTERVAL_MS;
    const parsed = parseCliArgs(argv, { now: io.now(), minIntervalMs });
    if (!parsed.ok) throw new CliError(`${parsed.reason}\nRun "ghostport help" for usage.`);
    const request = parsed.value;
    if (request.command === 'help') {
      io.out(helpText(request.topic));
      return EXIT.clear;
    }
    if (request.command === 'version') {
      io.out(`ghostport ${version()}\n`);
      return EXIT.clear;
    }
    return await RUNNERS[request.command](request.options, io);
  } catch (error) {
    io.err(describeFailure(error, io.env));
    return EXIT.error;
  }
}

/** The lines printed for a failure: the user's error as is, anything else as a bug. */
export function describeFailure(error: unknown, env: NodeJS.ProcessEnv): string {
  const debug = env.GHOSTPORT_DEBUG === '1';
  const stack = debug && error instanceof Error && error.stack ? `${error.stack}\n` : '';
  // Our own messages escape what they quote; the store's quote paths as they are.
  if (isUserError(error)) return `ghostport: ${error instanceof CliError ? error.message : escapeUnsafe(error.message)}\n${stack}`;
  const message = error instanceof Error ? error.message : String(error);
  return `ghostport: internal error: ${firstLine(message)}. This is a bug in Ghostport; please report it${debug ? '' : ' (GHOSTPORT_DEBUG=1 shows the details)'}.\n${stack}`;
}

function firstLine(text: string): string {
  return JSON.stringify(text.split('\n')[0]!.slice(0, 300)).slice(1, -1);
}

declare const GHOSTPORT_VERSION: string | undefined;

/** The package version: set by the bundler, else read from package.json beside the sources. */
function version(): string {
  if (typeof GHOSTPORT_VERSION === 'string') return GHOSTPORT_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The real process's I/O: stdout that tolerates a reader going away, signals that stop. */
export function processIo(): CliIo {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let stdoutClosed = false;
  // A reader that went away (`ghostport history | head`) is not an error: stop writing and end
  // as if interrupted. Anything else on stdout is fatal (exit 2).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosed = true;
    stop();
  });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    out: (text) => {
      if (!stdoutClosed) process.stdout.write(text);
    },
    err: (text) => process.stderr.write(text),
    stdout: process.stdout,
    env: process.env,
    now: Date.now,
    stopped,
  };
}

/** The process entry: runs the command, flushes the output, exits with the status. */
export async function main(argv: readonly string[]): Promise<never> {
  const io = processIo();
  const crash = (error: unknown) => {
    process.stderr.write(describeFailure(error, process.env));
    process.exit(EXIT.error);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  const code = await runCli(argv, io);
  // `watch` resolves only after SIGINT/SIGTERM; exit promptly rather than wait for stray handles,
  // but only once stdout has taken everything (a pipe to a slow reader would be cut at 64 KB).
  await flushOutput();
  process.exit(code);
}

/**
 * Resolves once stdout and stderr have handed everything written so far to the OS. Writes to a
 * pipe are asynchronous in Node, and process.exit() drops what is still queued.
 */
function flushOutput(): Promise<void> {
  const flush = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (stream.destroyed || !stream.writable) return resolve();
      // A reader that went away (EPIPE) ends the wait too.
      stream.once('error', () => resolve());
      stream.write('', () => resolve());
    });
  return Promise.all([flush(process.stdout), flush(process.stderr)]).then(() => undefined);
}

/**
 * The `ghostport` command line: the same engine and history as the tray app, with no Electron.
 * One entry: every outcome is an exit status, 0 clear, 1 found, 2 any error (bad arguments, an
 * unusable data directory, "cannot see sockets", a bug), with one line saying what to do and no
 * stack trace unless GHOSTPORT_DEBUG=1. Each command's modules load only when it runs.
 */
import { readFileSync, writeSync } from 'node:fs';
import { escapeUnsafe } from '#common/display-text.ts';
import { EXIT, MIN_INTERVAL_MS, helpText, parseCliArgs, type CliOptions, type CommandName } from './args.ts';
import { CliError, isUserError, type CliIo } from './io.ts';
import { errorMessage } from '#common/error-message.ts';

/** How each command runs; a command's modules are loaded only when it is the one asked for. */
const RUNNERS: Readonly<Record<Exclude<CommandName, 'help' | 'version'>, (options: CliOptions, io: CliIo) => Promise<number>>> = {
  scan: async (options, io) => (await import('./scan.ts')).scan(options, io),
  watch: async (options, io) => (await import('./watch.ts')).watch(options, io),
  history: async (options, io) => (await import('./history.ts')).history(options, io),
  ui: async (options, io) => (await import('./ui.ts')).ui(options, io, version()),
  serve: async (options, io) => (await import('./serve.ts')).serve(options, io, version()),
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
  const message = errorMessage(error);
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

/**
 * The real process's I/O. Short output goes straight to the file descriptors (creating
 * process.stdout costs a one-shot scan more than the scan); a long listing gets the stream, with
 * back-pressure. A reader that went away (`ghostport history | head`) is not an error: writing
 * stops and the command ends as if interrupted.
 */
export function processIo(): CliIo & { readonly flush: () => Promise<void> } {
  let stop!: () => void;
  let streamed = false;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let gone = false;
  const write = (fd: number, text: string) => {
    if (gone && fd === 1) return;
    let buffer = Buffer.from(text);
    while (buffer.length > 0) {
      try {
        buffer = buffer.subarray(writeSync(fd, buffer));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A non-blocking pipe that is full: wait for the reader (rare; short output).
        if (code === 'EAGAIN') continue;
        if (code === 'EPIPE' && fd === 1) {
          gone = true;
          stop();
          return;
        }
        throw error;
      }
    }
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    out: (text) => write(1, text),
    err: (text) => write(2, text),
    get stdout() {
      if (!streamed) {
        process.stdout.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EPIPE') throw error;
          gone = true;
          stop();
        });
      }
      streamed = true;
      return process.stdout;
    },
    env: process.env,
    now: Date.now,
    stopped,
    // process.exit() drops what a stream still queues for a pipe: wait until the OS has it.
    flush: () =>
      new Promise<void>((resolve) => {
        if (!streamed || process.stdout.destroyed || !process.stdout.writable) return resolve();
        process.stdout.once('error', () => resolve());
        process.stdout.write('', () => resolve());
      }),
  };
}

/** The process entry: runs the command, flushes the output, exits with the status. */
export async function main(argv: readonly string[]): Promise<never> {
  const io = processIo();
  const crash = (error: unknown) => {
    writeSync(2, describeFailure(error, process.env));
    process.exit(EXIT.error);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  const code = await runCli(argv, io);
  // `watch` resolves only after SIGINT/SIGTERM; exit promptly rather than wait for stray handles,
  // but only once stdout has taken everything (a pipe to a slow reader would be cut at 64 KB).
  await io.flush();
  process.exit(code);
}

/**
 * Parses the `ghostport` command line. Pure: every bad argument becomes a one-line reason,
 * never an exception, so the CLI can exit 2 with that line and the usage hint.
 */
import { DEFAULT_INTERVAL_MS, DEFAULT_PORT, isValidPort } from './model.ts';
import { MAX_INTERVAL_MS } from './settings.ts';
import { displayText } from './display-text.ts';

/** A parsed command. */
export type CliCommand =
  | { readonly command: 'scan'; readonly ports: readonly number[]; readonly json: boolean; readonly dataDir: string | null }
  | {
      readonly command: 'watch';
      readonly ports: readonly number[];
      readonly json: boolean;
      readonly intervalMs: number;
      readonly dataDir: string | null;
      readonly noHistory: boolean;
    }
  | {
      readonly command: 'history';
      readonly ports: readonly number[];
      readonly json: boolean;
      readonly since: string | null;
      readonly dataDir: string | null;
    }
  | { readonly command: 'help' }
  | { readonly command: 'version' };

/** The outcome of parsing. */
export type CliParse = { readonly ok: true; readonly value: CliCommand } | { readonly ok: false; readonly reason: string };

/** Usage text. */
export const USAGE = `Usage:
  ghostport scan    [--port N]... [--json]
  ghostport watch   [--port N]... [--interval MS] [--json] [--no-history]
  ghostport history [--since ISO-8601] [--port N]... [--json]
  ghostport help | --version

Options:
  --port N          watch port N (1-65535); repeatable; default ${DEFAULT_PORT}
  --interval MS     poll interval in milliseconds; default ${DEFAULT_INTERVAL_MS}
  --json            machine-readable output (one document for scan, one object a line otherwise)
  --since DATE      only events at or after DATE (ISO-8601, e.g. 2026-11-27T09:00:00Z)
  --data-dir DIR    where the history lives (default: the app-data folder, or $GHOSTPORT_DATA_DIR)
  --no-history      watch without recording events

Exit status: 0 nothing on the watched ports, 1 something is, 2 error (including "cannot see sockets").`;

const FLAGS_WITH_VALUE = new Set(['--port', '--interval', '--since', '--data-dir']);
const BOOLEAN_FLAGS = new Set(['--json', '--no-history']);
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  scan: ['--port', '--json', '--data-dir'],
  watch: ['--port', '--interval', '--json', '--data-dir', '--no-history'],
  history: ['--port', '--since', '--json', '--data-dir'],
};

/** Parses argv (without `node` and the script). */
export function parseCliArgs(argv: readonly string[]): CliParse {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { ok: true, value: { command: 'help' } };
  if (command === '--version' || command === 'version' || command === '-v') return { ok: true, value: { command: 'version' } };
  const allowed = ALLOWED[command];
  if (!allowed) return fail(`unknown command "${clip(command)}"`);

  const ports: number[] = [];
  let json = false;
  let noHistory = false;
  let intervalMs = DEFAULT_INTERVAL_MS;
  let since: string | null = null;
  let dataDir: string | null = null;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--help' || arg === '-h') return { ok: true, value: { command: 'help' } };
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!FLAGS_WITH_VALUE.has(flag) && !BOOLEAN_FLAGS.has(flag)) return fail(arg.startsWith('-') ? `unknown option "${clip(flag)}"` : `unexpected argument "${clip(arg)}"`);
    if (!allowed.includes(flag)) return fail(`option ${flag} does not apply to "${command}"`);
    if (BOOLEAN_FLAGS.has(flag)) {
      if (eq > 0) return fail(`option ${flag} takes no value`);
      if (flag === '--json') json = true;
      else noHistory = true;
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else value = rest[++i];
    if (value === undefined) return fail(`option ${flag} needs a value`);
    switch (flag) {
      case '--port': {
        const port = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!isValidPort(port)) return fail(`--port must be a whole number from 1 to 65535, not "${clip(value)}"`);
        if (!ports.includes(port)) ports.push(port);
        break;
      }
      case '--interval': {
        const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
        if (!Number.isFinite(ms) || ms <= 0) return fail(`--interval must be a positive number of milliseconds, not "${clip(value)}"`);
        if (ms > MAX_INTERVAL_MS) return fail(`--interval must be at most ${MAX_INTERVAL_MS} ms (one hour)`);
        intervalMs = Math.max(Math.round(ms), 1);
        break;
      }
      case '--since': {
        const t = Date.parse(value);
        if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) return fail(`--since must be an ISO-8601 date such as 2026-11-27T09:00:00Z, not "${clip(value)}"`);
        since = new Date(t).toISOString();
        break;
      }
      case '--data-dir':
        if (value.trim() === '') return fail('--data-dir needs a directory');
        dataDir = value;
        break;
    }
  }
  const watched = ports.length > 0 ? ports.sort((a, b) => a - b) : [DEFAULT_PORT];
  if (command === 'scan') return { ok: true, value: { command, ports: watched, json, dataDir } };
  if (command === 'watch') return { ok: true, value: { command, ports: watched, json, intervalMs, dataDir, noHistory } };
  return { ok: true, value: { command: 'history', ports, json, since, dataDir } };
}

function fail(reason: string): CliParse {
  return { ok: false, reason };
}

// Arguments are quoted back in errors: escaped like any untrusted text (a bidi override in an
// argument must not reorder the error line), then shortened.
function clip(text: string): string {
  return displayText(text, 40);
}

/**
 * The `ghostport` command line's one option table. Parsing (Node's `util.parseArgs`), `help`,
 * `CMD --help`, the man page and the shell completions are all derived from COMMANDS and
 * OPTIONS below: adding an option or a command is one entry here (plus its use in the command).
 * Every bad argument becomes a one-line reason, never an exception.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_INTERVAL_MS, DEFAULT_PORT, MAX_INTERVAL_MS, MIN_INTERVAL_MS, SAFETY_NET_MS, isValidPort } from '#common/model.ts';
import { errorMessage } from '#common/error-message.ts';

export { MIN_INTERVAL_MS };
import { displayText, formatInterval } from '#common/display-text.ts';

/** What conversions may depend on: the clock (ages such as `--since 1h`) and the polling floor. */
export interface ParseContext {
  readonly now: number;
  /** Smallest --interval accepted; MIN_INTERVAL_MS except in stress tests. */
  readonly minIntervalMs: number;
}

/** What a value-taking option turns its text into, or why it cannot. */
type Convert = (text: string, context: ParseContext) => { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

/** One option, as the parser, the help, the man page and the completions see it. */
export interface OptionSpec {
  /** Placeholder of the value (`N`, `MS`); absent for a flag. */
  readonly value?: string;
  readonly help: string;
  /** Repeatable; the values are collected in order. */
  readonly multiple?: boolean;
  /** One-letter alias (`-h`). */
  readonly short?: string;
  /** Also accepted as `--no-NAME` (sets it false). */
  readonly negatable?: boolean;
  /** Fixed choices, offered by the completions. */
  readonly choices?: readonly string[];
  /** Completes as a directory path. */
  readonly directory?: boolean;
  readonly convert?: Convert;
}

/** Every option of every command. */
export const OPTIONS = {
  port: { value: 'N', multiple: true, help: `watch port N (1-65535); repeatable; default: the settings' ports, else ${DEFAULT_PORT}`, convert: convertPort },
  interval: { value: 'MS', help: `time between polls: milliseconds, or with a unit (500ms, 2s, 1m); at least ${formatInterval(MIN_INTERVAL_MS)}; default: the settings' interval, else ${formatInterval(DEFAULT_INTERVAL_MS)}; where kernel events cover every socket (root on Linux) and the port is clear, the full scan runs only every ${formatInterval(SAFETY_NET_MS)}, as the safety net, and anything new is reported at once`, convert: convertInterval },
  state: { value: 'STATE', choices: ['listen', 'connected'], help: 'only sockets that hold the port (listening, or only bound: TCP BOUND, UDP UNCONN) or only connected ones', convert: convertChoice('state', ['listen', 'connected']) },
  since: { value: 'WHEN', help: 'only events at or after WHEN: a date (2026-11-27, 2026-11-27T09:00, 2026-11-27T09:00:00Z; local time unless a zone is given) or an age (90s, 30m, 1h, 7d)', convert: convertSince },
  limit: { value: 'N', help: 'only the newest N events', convert: convertCount },
  follow: { help: 'after the stored events, keep printing new ones as they are recorded (Ctrl-C stops)' },
  history: { negatable: true, help: 'record events in the history (default); --no-history only prints them' },
  json: { help: 'machine-readable output: one JSON document for scan, one JSON object a line otherwise' },
  details: { short: 'v', help: 'after the table, each socket\'s evidence: who (user, unit, container), what (executable, SHA-256, package), how it started (arguments, directory, parents), talking to' },
  quiet: { short: 'q', help: 'print nothing on stdout: the exit status is the answer (errors still go to stderr)' },
  service: { value: 'PATH', negatable: true, help: 'read from the Ghostport service at PATH (default: /run/ghostport/ghostport.sock, used when it answers); --no-service uses a local engine', convert: convertPath('--service') },
  socket: { value: 'PATH', help: 'serve: the Unix socket to listen on (default /run/ghostport/ghostport.sock)', convert: convertPath('--socket') },
  'socket-group': { value: 'GROUP', help: 'serve: the group that may read the socket (mode 0660), e.g. ghostport', convert: convertPath('--socket-group') },
  'metrics-address': { value: 'HOST:PORT', help: 'serve: Prometheus metrics at http://HOST:PORT/metrics (off by default; they name processes: 127.0.0.1:9596 for this host only)', convert: convertPath('--metrics-address') },
  'log-format': { value: 'FORMAT', choices: ['text', 'json'], help: 'serve: text (default) or json, one object a line for journald, Loki or Elasticsearch', convert: convertChoice('log-format', ['text', 'json']) },
  'data-dir': { value: 'DIR', directory: true, help: 'where the settings and history live (default: $GHOSTPORT_DATA_DIR, else the per-user folders)', convert: convertDir },
  'http-port': { value: 'N', help: 'serve the window on 127.0.0.1 port N (default: any free port)', convert: convertHttpPort },
  help: { short: 'h', help: 'show this command\'s help' },
} as const satisfies Record<string, OptionSpec>;

/** An option's long name. */
export type OptionName = keyof typeof OPTIONS;

/** One command. */
export interface CommandSpec {
  readonly summary: string;
  /** Positional operand, if any (only `help` takes one). */
  readonly operand?: string;
  readonly options: readonly OptionName[];
}

/** Every command, in the order help lists them. */
export const COMMANDS = {
  scan: { summary: 'look once at the watched ports and print what is on them', options: ['port', 'state', 'details', 'json', 'quiet', 'service', 'data-dir', 'help'] },
  watch: { summary: 'keep watching; print each event as it happens and record it in the history', options: ['port', 'interval', 'history', 'json', 'quiet', 'service', 'data-dir', 'help'] },
  history: { summary: 'print recorded events, oldest first', options: ['port', 'since', 'limit', 'follow', 'json', 'quiet', 'service', 'data-dir', 'help'] },
  serve: { summary: 'run the privileged service: watch for the whole host, serve the read-only API on a Unix socket (and metrics)', options: ['interval', 'socket', 'socket-group', 'metrics-address', 'log-format', 'data-dir', 'help'] },
  ui: { summary: 'serve the Ghostport window on this machine\'s loopback address (where the tray app cannot run) and print its address', options: ['http-port', 'data-dir', 'help'] },
  help: { summary: 'show the help of every command, or of one', operand: 'COMMAND', options: [] },
  version: { summary: 'print the version', options: [] },
} as const satisfies Record<string, CommandSpec>;

/** A command's name. */
export type CommandName = keyof typeof COMMANDS;

/** The parsed values of every option; an option not given is absent (callers apply settings, then defaults). */
export interface CliOptions {
  readonly port?: readonly number[];
  readonly interval?: number;
  readonly state?: 'listen' | 'connected';
  readonly since?: string;
  readonly limit?: number;
  readonly follow?: boolean;
  readonly history?: boolean;
  readonly json?: boolean;
  readonly details?: boolean;
  readonly quiet?: boolean;
  readonly 'data-dir'?: string;
  readonly 'http-port'?: number;
  /** A service socket, or false for --no-service. */
  readonly service?: string | false;
  readonly socket?: string;
  readonly 'socket-group'?: string;
  readonly 'metrics-address'?: string;
  readonly 'log-format'?: 'text' | 'json';
}

/** A parsed command line. `help` carries the command whose help was asked for, if any. */
export type CliRequest =
  | { readonly command: Exclude<CommandName, 'help'>; readonly options: CliOptions }
  | { readonly command: 'help'; readonly topic: CommandName | null; readonly options: CliOptions };

/** The outcome of parsing. */
export type CliParse = { readonly ok: true; readonly value: CliRequest } | { readonly ok: false; readonly reason: string };

/** Exit statuses: what scripts may rely on. */
export const EXIT = { clear: 0, found: 1, error: 2 } as const;

const PARSE_CONFIG = Object.fromEntries(
  Object.entries(OPTIONS).map(([name, spec]: [string, OptionSpec]) => [name, { type: spec.value ? 'string' : 'boolean', ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) }] as const),
) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** Parses argv (without `node` and the script). */
export function parseCliArgs(argv: readonly string[], context: ParseContext = { now: Date.now(), minIntervalMs: MIN_INTERVAL_MS }): CliParse {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') return ok({ command: 'help', topic: null, options: {} });
  if (first === '--version' || first === '-V') return ok({ command: 'version', options: {} });
  if (!isCommand(first)) return fail(first.startsWith('-') ? `unknown option "${clip(first)}"` : `unknown command "${clip(first)}"`);
  const spec: CommandSpec = COMMANDS[first];
  let tokens: ReturnType<typeof parseArgs>['tokens'];
  try {
    ({ tokens } = parseArgs({ args: [...rest], options: PARSE_CONFIG, strict: false, allowPositionals: true, allowNegative: true, tokens: true }));
  } catch (error) {
    return fail(`cannot read the arguments (${clip(errorMessage(error))})`);
  }
  const values: Record<string, unknown> = {};
  const operands: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      operands.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const name = token.name;
    const option: OptionSpec | undefined = Object.hasOwn(OPTIONS, name) ? OPTIONS[name as OptionName] : undefined;
    const negated = token.rawName.startsWith('--no-');
    if (!option || (negated && !option.negatable)) return fail(`unknown option "${clip(token.rawName)}"`);
    if (name === 'help') return ok({ command: 'help', topic: first, options: {} });
    if (!spec.options.includes(name as OptionName)) return fail(`option ${token.rawName} does not apply to "${first}" (see: ghostport help ${first})`);
    if (negated && option.convert) {
      values[name] = false;
      continue;
    }
    if (!option.convert) {
      if (token.value !== undefined) return fail(`option ${token.rawName} takes no value`);
      values[name] = !negated;
      continue;
    }
    if (token.value === undefined) return fail(`option ${token.rawName} needs a value (${option.value})`);
    const converted = option.convert(token.value, context);
    if (!converted.ok) return fail(converted.reason);
    if (option.multiple) values[name] = [...((values[name] as unknown[] | undefined) ?? []), converted.value];
    else values[name] = converted.value;
  }
  if (Array.isArray(values.port)) values.port = [...new Set(values.port as number[])].sort((a, b) => a - b);
  if (first === 'help') {
    if (operands.length > 1) return fail(`unexpected argument "${clip(operands[1]!)}"`);
    const topic = operands[0];
    if (topic !== undefined && !isCommand(topic)) return fail(`unknown command "${clip(topic)}"`);
    return ok({ command: 'help', topic: topic ?? null, options: {} });
  }
  if (operands.length > 0) return fail(`unexpected argument "${clip(operands[0]!)}"`);
  return ok({ command: first, options: values as CliOptions });
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

function ok(value: CliRequest): CliParse {
  return { ok: true, value };
}

function fail(reason: string): CliParse {
  return { ok: false, reason };
}

// Arguments are quoted back in errors: escaped like any untrusted text (a bidi override in an
// argument must not reorder the error line), then shortened.
function clip(text: string): string {
  return displayText(text, 40);
}

function convertHttpPort(text: string): ReturnType<Convert> {
  const converted = convertPort(text);
  return converted.ok ? converted : { ok: false, reason: converted.reason.replace('--port', '--http-port') };
}

function convertPort(text: string): ReturnType<Convert> {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return isValidPort(port) ? { ok: true, value: port } : { ok: false, reason: `--port must be a whole number from 1 to 65535, not "${clip(text)}"` };
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

function convertInterval(text: string, { minIntervalMs }: ParseContext): ReturnType<Convert> {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) return { ok: false, reason: `--interval must be a number of milliseconds or a duration such as 500ms, 2s or 1m, not "${clip(text)}"` };
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  if (ms < minIntervalMs) return { ok: false, reason: `--interval must be at least ${formatInterval(minIntervalMs)}, not ${clip(text)}${m[2] ? '' : ' ms'} (polling faster costs a core and sees no more)` };
  if (ms > MAX_INTERVAL_MS) return { ok: false, reason: `--interval must be at most ${formatInterval(MAX_INTERVAL_MS)}` };
  return { ok: true, value: Math.round(ms) };
}

function convertChoice(option: string, choices: readonly string[]): Convert {
  return (text) => (choices.includes(text) ? { ok: true, value: text } : { ok: false, reason: `--${option} must be one of ${choices.join(', ')}, not "${clip(text)}"` });
}

function convertCount(text: string): ReturnType<Convert> {
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  return n >= 1 ? { ok: true, value: n } : { ok: false, reason: `--limit must be a whole number of events, at least 1, not "${clip(text)}"` };
}

function convertPath(option: string): Convert {
  return (text) => (text.trim() === '' ? { ok: false, reason: `${option} needs a value` } : { ok: true, value: text });
}

function convertDir(text: string): ReturnType<Convert> {
  return text.trim() === '' ? { ok: false, reason: '--data-dir needs a directory' } : { ok: true, value: text };
}

/** `--since`: an age (`1h`) or a strict calendar date; Feb 30 and hour 25 are errors, not rolled over. */
function convertSince(text: string, { now }: ParseContext): ReturnType<Convert> {
  const age = /^(\d{1,9})(s|m|h|d|w)$/.exec(text);
  if (age) return { ok: true, value: new Date(now - Number(age[1]) * UNIT_MS[age[2]!]!).toISOString() };
  const at = parseStrictDate(text);
  if (at === null) return { ok: false, reason: `--since must be a real date such as 2026-11-27 or 2026-11-27T09:00:00Z, or an age such as 1h or 7d, not "${clip(text)}"` };
  return { ok: true, value: new Date(at).toISOString() };
}

/**
 * Milliseconds since the epoch of a strict ISO-8601 date or date-time, or null. Without a zone
 * the time is local (as `date` and `journalctl --since` read it). Every field is range-checked:
 * nothing rolls over into the next month or day.
 */
export function parseStrictDate(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth || hour > 23 || minute > 59 || second > 59) return null;
  const zone = m[8];
  if (zone === undefined) {
    const local = new Date(year!, month! - 1, day!, hour, minute, second, ms);
    // A local time skipped by a daylight-saving change does not exist.
    return local.getHours() === hour && local.getMinutes() === minute ? local.getTime() : null;
  }
  const utc = Date.UTC(year!, month! - 1, day!, hour, minute, second, ms);
  if (zone === 'Z') return utc;
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  if (Number(z[2]) > 23 || Number(z[3]) > 59) return null;
  return z[1] === '+' ? utc - offset : utc + offset;
}

/** The synopsis of one command, as help and the man page print it. */
export function synopsis(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const parts = spec.options.filter((o) => o !== 'help').map((o) => `[${optionLabel(o)}]${(OPTIONS[o] as OptionSpec).multiple ? '...' : ''}`);
  return ['ghostport', name, ...(spec.operand ? [`[${spec.operand}]`] : []), ...parts].join(' ');
}

/** `--port N`, `--[no-]history`, `--json`. */
export function optionLabel(name: OptionName): string {
  const spec: OptionSpec = OPTIONS[name];
  return `--${spec.negatable ? `[no-]${name}` : name}${spec.value ? ` ${spec.value}` : ''}`;
}

const EXIT_TEXT = 'Exit status: 0 nothing on the watched ports, 1 something is, 2 an error (including "cannot see sockets", and nothing seen while some socket tables could not be read).';

/** `ghostport help` (every command) or `ghostport help CMD` / `ghostport CMD --help` (that command only). */
export function helpText(topic: CommandName | null): string {
  if (topic === null) {
    const names = Object.keys(COMMANDS) as CommandName[];
    const width = Math.max(...names.map((n) => n.length));
    return [
      'Ghostport watches TCP/UDP port 596 (SMSD, a dead DEC protocol) and tells you what is on it.',
      '',
      'Usage: ghostport COMMAND [OPTIONS]',
      '',
      'Commands:',
      ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary}`),
      '',
      'Run "ghostport help COMMAND" or "ghostport COMMAND --help" for its options.',
      EXIT_TEXT,
      '',
    ].join('\n');
  }
  const spec: CommandSpec = COMMANDS[topic];
  const labels = spec.options.map((o) => [optionLabel(o), OPTIONS[o].help] as const);
  const width = Math.max(0, ...labels.map(([l]) => l.length));
  return [
    `Usage: ${synopsis(topic)}`,
    '',
    `${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`,
    ...(labels.length ? ['', 'Options:', ...labels.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`)] : []),
    ...(topic === 'scan' || topic === 'watch' ? ['', EXIT_TEXT] : []),
    '',
  ].join('\n');
}

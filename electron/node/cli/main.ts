/**
 * The `ghostport` command line: the same engine and history as the tray app, with no Electron.
 * Exit status: 0 clear, 1 something on a watched port, 2 error (bad arguments, cannot see sockets).
 */
import { readFileSync } from 'node:fs';
import { parseCliArgs, USAGE, type CliCommand } from '../../common/cli-args.ts';
import type { HealthIssue, PortEvent, PortSocket, Snapshot } from '../../common/model.ts';
import { toEventJson, toScanJson } from '../../common/socket-format.ts';
import { describeEndpoint, describeOwner, displayText, escapeUnsafe, formatEndpoint, describePorts } from '../../common/display-text.ts';
import { Engine } from '../engine.ts';
import { History, HistoryError } from '../history.ts';
import { resolveDataDir, UnsafePathError } from '../data-dir.ts';
import { writeLines } from '../write-lines.ts';
import type { HistoryEntry } from '../../common/history-query.ts';

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

// A reader that went away (`ghostport history | head`) is not an error: stop writing, finish
// quietly, and end `watch` as if interrupted. Anything else on stdout stays fatal.
let stdoutClosed = false;
const closedListeners = new Set<() => void>();
let stdoutGuarded = false;
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosed = true;
    for (const listener of closedListeners) listener();
  });
}

const defaultIo: CliIo = {
  out: (text) => {
    if (!stdoutClosed) process.stdout.write(text);
  },
  err: (text) => process.stderr.write(text),
};

/** Runs the CLI and resolves with the exit status. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  if (io === defaultIo) guardStdout();
  const parsed = parseCliArgs(argv);
  if (!parsed.ok) {
    io.err(`ghostport: ${parsed.reason}\nRun "ghostport help" for usage.\n`);
    return 2;
  }
  const cmd = parsed.value;
  switch (cmd.command) {
    case 'help':
      io.out(`Ghostport watches TCP/UDP port 596 (SMSD, a dead DEC protocol) and tells you what is on it.\n\n${USAGE}\n`);
      return 0;
    case 'version':
      io.out(`${readVersion()}\n`);
      return 0;
    case 'scan':
      return scan(cmd, io);
    case 'watch':
      return watch(cmd, io);
    case 'history':
      return history(cmd, io);
  }
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return `ghostport ${pkg.version ?? 'unknown'}`;
  } catch {
    return 'ghostport (version unknown)';
  }
}

async function scan(cmd: Extract<CliCommand, { command: 'scan' }>, io: CliIo): Promise<number> {
  const engine = new Engine({ ports: cmd.ports });
  const snapshot = await engine.scanNow();
  if (cmd.json) io.out(`${JSON.stringify(toScanJson(snapshot))}\n`);
  else io.out(formatSnapshot(snapshot));
  for (const issue of snapshot.issues) io.err(formatIssue(issue));
  if (snapshot.health === 'blind') return 2;
  return snapshot.sockets.length > 0 ? 1 : 0;
}

/** The human-readable table of a snapshot. */
export function formatSnapshot(snapshot: Snapshot): string {
  const where = describePorts(snapshot.ports);
  if (snapshot.health === 'blind') return `Cannot see sockets on ${where}: the result is unknown, not clear.\n`;
  const lines: string[] = [];
  if (snapshot.sockets.length === 0) {
    lines.push(`${capitalize(where)}: clear. Nothing is listening on it or talking to it.`);
  } else {
    lines.push(`${capitalize(where)}: ${snapshot.sockets.length} ${snapshot.sockets.length === 1 ? 'socket' : 'sockets'}`);
    lines.push(...table(snapshot.sockets));
  }
  if (snapshot.lingering.length > 0) {
    lines.push(`(${snapshot.lingering.length} closed ${snapshot.lingering.length === 1 ? 'connection is' : 'connections are'} lingering in TIME_WAIT: kernel leftovers, no process owns them.)`);
  }
  return `${lines.join('\n')}\n`;
}

function table(sockets: readonly PortSocket[]): string[] {
  const rows = sockets.map((s) => [
    `${s.protocol}${s.family}`,
    formatEndpoint(s.localAddress, s.localPort),
    formatEndpoint(s.remoteAddress, s.remotePort),
    s.state,
    s.pid === null ? '?' : String(s.pid),
    displayText(s.process?.user ?? (s.pid === null ? '?' : ''), 16),
    s.process ? displayText(s.process.command, 80) : (s.ownerUnknownReason ?? ''),
  ]);
  const header = ['PROTO', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'USER', 'COMMAND'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One line on stderr for a health issue; escaped, since messages may quote tool output or paths. */
export function formatIssue(issue: HealthIssue): string {
  return `ghostport: ${escapeUnsafe(issue.message)}${issue.hint ? ` ${escapeUnsafe(issue.hint)}` : ''}\n`;
}

/** One human-readable line for an event. */
export function formatEvent(e: PortEvent): string {
  const verb = e.type === 'appeared' ? '+ appeared   ' : '- disappeared';
  const flap = e.flapping ? ' [flapping]' : '';
  const unwatched = e.unwatched ? ` [went while Ghostport was not watching; last seen ${e.unwatched.lastSeenAt}]` : '';
  return `${e.at}  ${verb}  ${describeEndpoint(e.socket)}  ${describeOwner(e.socket)}${flap}${unwatched}\n`;
}

/**
 * One line of the listed history: an event, or watching starting or stopping (gaps in coverage).
 * `--json` stays one record type, events, for scripts: coverage lines are for people.
 */
export function formatEntry(entry: HistoryEntry, json: boolean): string {
  if (entry.kind === 'event') return json ? `${JSON.stringify(toEventJson(entry.event))}\n` : formatEvent(entry.event);
  const m = entry.mark;
  if (json) return '';
  const who = `${escapeUnsafe(m.label)} pid ${m.pid}`;
  if (m.type === 'watching-started') return `${m.at}  = watching started (${who})\n`;
  return `${m.at}  = watching stopped (${who})${m.clean === false ? ': not cleanly, this is its last sign of life' : ''}\n`;
}

async function watch(cmd: Extract<CliCommand, { command: 'watch' }>, io: CliIo): Promise<number> {
  let history: History | null = null;
  try {
    history = cmd.noHistory ? null : History.open({ dataDir: resolveDataDir(cmd.dataDir), label: 'watch' });
  } catch (error) {
    return storeError(error, io);
  }
  // What the store has to say (recovered, locked, writable again), the moment it happens.
  const showHistoryIssues = () => {
    for (const line of history?.takeLog() ?? []) io.err(`ghostport: ${escapeUnsafe(line)}\n`);
  };
  for (const issue of history?.issues ?? []) if (issue.code === 'history-recovered') io.err(formatIssue(issue));
  showHistoryIssues();
  const engine = new Engine({ ports: cmd.ports, intervalMs: cmd.intervalMs, history });
  let lastHealth = '';
  engine.onScan((snapshot, events) => {
    for (const e of events) io.out(cmd.json ? `${JSON.stringify(toEventJson(e))}\n` : formatEvent(e));
    // A write that failed (full disk) moved the history to memory: say so the moment it happens.
    showHistoryIssues();
    const health = `${snapshot.health}:${snapshot.issues.map((i) => i.code).join(',')}`;
    if (health !== lastHealth) {
      lastHealth = health;
      for (const issue of snapshot.issues) io.err(formatIssue(issue));
    }
  });
  io.err(`ghostport: watching ${describePorts(cmd.ports)} every ${cmd.intervalMs} ms${history?.path ? `, recording to ${history.path}` : ''}. Ctrl-C stops.\n`);
  engine.start();
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io === defaultIo) closedListeners.add(stop);
  });
  await engine.stop();
  history?.close();
  return 0;
}

async function history(cmd: Extract<CliCommand, { command: 'history' }>, io: CliIo): Promise<number> {
  let store: History;
  try {
    store = History.openReader({ dataDir: resolveDataDir(cmd.dataDir) });
  } catch (error) {
    return storeError(error, io);
  }
  let count = 0;
  try {
    const filter = { ...(cmd.since ? { since: cmd.since } : {}), ...(cmd.ports.length ? { ports: [...cmd.ports] } : {}) };
    const lines = (function* () {
      for (const entry of store.entries(filter)) {
        if (entry.kind === 'event') count++;
        yield formatEntry(entry, cmd.json);
      }
    })();
    if (io === defaultIo) await writeLines(lines, process.stdout);
    else for (const line of lines) io.out(line);
  } catch (error) {
    return storeError(error, io);
  } finally {
    store.close();
  }
  if (!cmd.json && count === 0 && !stdoutClosed) io.err('ghostport: no events recorded for that filter.\n');
  return 0;
}

/** A store that cannot be used: its own message, exit 2 (never 0 or 1, which mean clear and found). */
function storeError(error: unknown, io: CliIo): number {
  if (!(error instanceof HistoryError) && !(error instanceof UnsafePathError)) throw error;
  io.err(`ghostport: ${escapeUnsafe(error.message)}\n`);
  return 2;
}

/**
 * Resolves once stdout and stderr have handed everything written so far to the OS. Writes to a
 * pipe are asynchronous in Node, and process.exit() drops what is still queued.
 */
export function flushOutput(): Promise<void> {
  const flush = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (stream.destroyed || !stream.writable) return resolve();
      // A reader that went away (EPIPE) ends the wait too.
      stream.once('error', () => resolve());
      stream.write('', () => resolve());
    });
  return Promise.all([flush(process.stdout), flush(process.stderr)]).then(() => undefined);
}

if (import.meta.main) {
  runCli(process.argv.slice(2)).then(
    async (code) => {
      await flushOutput();
      process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`ghostport: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}

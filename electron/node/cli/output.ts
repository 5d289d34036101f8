/** How the CLI writes snapshots, events and health issues for people. Pure formatting. */
import { formatDetailsBlocks } from '#common/evidence-text.ts';
import { mayMissSockets, type HealthIssue, type PortEvent, type PortSocket, type Snapshot } from '#common/model.ts';
import type { HistoryEntry } from '#common/history-query.ts';
import { toEventJson } from '#common/cli-json.ts';
import { describeEndpoint, describeOwner, describePorts, displayText, escapeUnsafe, formatEndpoint } from '#common/display-text.ts';

/** The human-readable table of a snapshot; `allowed` marks sockets of allowlisted programs. */
export function formatSnapshot(snapshot: Snapshot, allowed: (s: PortSocket) => boolean = () => false, details = false): string {
  const where = describePorts(snapshot.ports);
  if (snapshot.health === 'blind') return `Cannot see sockets on ${where}: the result is unknown, not clear.\n`;
  const lines: string[] = [];
  if (snapshot.sockets.length === 0) {
    lines.push(
      mayMissSockets(snapshot)
        ? `${capitalize(where)}: nothing seen, but not a clear: some socket tables could not be read (see below).`
        : `${capitalize(where)}: clear. Nothing is listening on it or talking to it.`,
    );
  } else {
    lines.push(`${capitalize(where)}: ${count(snapshot.sockets.length, 'socket')}`);
    lines.push(...table(snapshot.sockets, allowed));
    if (details) lines.push(...formatDetailsBlocks(snapshot.sockets));
  }
  if (snapshot.lingering.length > 0) {
    lines.push(`(${snapshot.lingering.length} closed ${snapshot.lingering.length === 1 ? 'connection is' : 'connections are'} lingering in TIME_WAIT: kernel leftovers, no process owns them.)`);
  }
  return `${lines.join('\n')}\n`;
}

function table(sockets: readonly PortSocket[], allowed: (s: PortSocket) => boolean): string[] {
  // Where a socket lives, only when something lives outside the host's network namespace.
  const elsewhere = sockets.some((s) => s.netns && !s.netns.host);
  const rows = sockets.map((s) => [
    s.protocol.toUpperCase(),
    formatEndpoint(s.localAddress, s.localPort),
    formatEndpoint(s.remoteAddress, s.remotePort),
    s.state,
    ...(elsewhere ? [displayText(s.netns?.label ?? 'host', 40)] : []),
    s.pid === null ? '?' : String(s.pid),
    displayText(s.process?.user ?? (s.pid === null ? '?' : ''), 16),
    `${s.process ? displayText(s.process.command, 80) : (s.ownerUnknownReason ?? '')}${allowed(s) ? '  (allowlisted)' : ''}`,
  ]);
  const header = ['PROTO', 'LOCAL', 'REMOTE', 'STATE', ...(elsewhere ? ['NETNS'] : []), 'PID', 'USER', 'COMMAND'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

/** "1 socket", "2 sockets". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One line on stderr for a health issue; escaped, since messages may quote tool output or paths. */
export function formatIssue(issue: HealthIssue): string {
  return `ghostport: ${escapeUnsafe(issue.message)}${issue.hint ? ` ${escapeUnsafe(issue.hint)}` : ''}\n`;
}

/**
 * Prints each health issue once while it lasts, and again only after it went away: another issue
 * coming or going (a namespace that cannot be read, say) does not repeat the ones still there.
 */
export function issuePrinter(err: (text: string) => void): (issues: readonly HealthIssue[]) => void {
  let shown = new Set<string>();
  return (issues) => {
    const now = new Set(issues.map((issue) => `${issue.code}:${issue.message}`));
    for (const issue of issues) if (!shown.has(`${issue.code}:${issue.message}`)) err(formatIssue(issue));
    shown = now;
  };
}

/** One human-readable line for an event. */
export function formatEvent(e: PortEvent): string {
  const verb = e.type === 'appeared' ? '+ appeared   ' : e.type === 'owner-changed' ? '~ owner      ' : '- disappeared';
  const before = e.type === 'owner-changed' ? ` (was ${e.previous ? `${displayText(e.previous.name, 64)} pid ${e.previous.pid}` : 'no process'})` : '';
  const flap = e.flapping ? ' [flapping]' : '';
  const unwatched = e.unwatched ? ` [went while Ghostport was not watching; last seen ${e.unwatched.lastSeenAt}]` : '';
  return `${e.at}  ${verb}  ${describeEndpoint(e.socket)}  ${describeOwner(e.socket)}${before}${flap}${unwatched}\n`;
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

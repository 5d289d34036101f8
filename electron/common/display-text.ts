/**
 * Makes untrusted text (process names, command lines, paths) safe to show in a terminal, a
 * notification, a menu or the window: control, format and invisible characters become visible
 * escapes, so a hostile name can neither spoof a line nor reorder what is shown.
 * Also the short descriptions of sockets and owners shared by the CLI, tray, notifications and
 * window. Pure; the window relies on React's escaping for markup and on this for invisibles.
 */

import type { HealthIssue, PortSocket } from './model.ts';

/** A run of untrusted text that is either shown as is or stands for one hidden character. */
export interface VisibleSegment {
  readonly text: string;
  /** True when `text` is a marker standing for an invisible or control character. */
  readonly hidden: boolean;
}

// Every character of Unicode's control (Cc), format (Cf: bidi controls, zero-widths, soft hyphen,
// BOM, tags), line and paragraph separator (Zl, Zp) and surrogate (Cs: lone halves) categories,
// plus the Hangul fillers: letters that render blank, a known trick for invisible names.
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u115F\u1160\u3164\uFFA0]/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * The visible escape for one hidden character (`\n`, `\x1b`, `\u202e`, `\u{e0041}`): plain ASCII,
 * so it renders in every font and terminal. The window styles it distinctly, so a literal
 * backslash typed in a command line cannot pass for one.
 */
export function markerFor(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/**
 * The one text escaper of Ghostport (CLI, tray, notifications, window): replaces every hidden
 * character with its visible escape.
 */
export function escapeUnsafe(text: string): string {
  return text.replace(HIDDEN, markerFor);
}

/** Untrusted text split into plain runs and markers for hidden characters (the window styles the markers). */
export function toVisibleSegments(raw: string): readonly VisibleSegment[] {
  const segments: VisibleSegment[] = [];
  let last = 0;
  for (const match of raw.matchAll(HIDDEN)) {
    if (match.index > last) segments.push({ text: raw.slice(last, match.index), hidden: false });
    segments.push({ text: markerFor(match[0]), hidden: true });
    last = match.index + match[0].length;
  }
  if (last < raw.length) segments.push({ text: raw.slice(last), hidden: false });
  return segments;
}

/** True when the text holds anything that `escapeUnsafe` would replace. */
export function hasHiddenCharacters(raw: string): boolean {
  return raw.search(HIDDEN) >= 0;
}

/** Shortens text to at most `max` UTF-16 units, marking the cut with an ellipsis; never splits a surrogate pair. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max - 1);
  const unit = text.charCodeAt(cut - 1);
  if (unit >= 0xd800 && unit <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}…`;
}

/** Escaped and shortened: what a one-line display of untrusted text should use. */
export function displayText(text: string | null | undefined, max = 200): string {
  if (text === null || text === undefined) return '';
  return truncateText(escapeUnsafe(text), max);
}

/** "port 596" or "ports 596, 8080". */
export function describePorts(ports: readonly number[]): string {
  if (ports.length === 1) return `port ${ports[0]}`;
  return `ports ${ports.join(', ')}`;
}

/** True when the socket holds the watched port as its own: a TCP listener, a TCP socket only bound (BOUND), bound UDP. */
export function isListening(s: PortSocket): boolean {
  return s.side === 'local' && (s.state === 'LISTEN' || s.state === 'BOUND' || (s.protocol === 'udp' && s.state === 'UNCONN'));
}

/** `127.0.0.1:596`, `[::1]:596`: IPv6 hosts bracketed, `*` for a wildcard or missing part, `*` alone for no endpoint. */
export function formatEndpoint(address: string | null, port: number | null): string {
  if (address === null && port === null) return '*';
  const host = address === null || address === '' ? '*' : address.includes(':') ? `[${address}]` : address;
  return `${host}:${port ?? '*'}`;
}

/** "TCP [::]:596 listening", "TCP 10.0.0.5:51234 → 203.0.113.9:596": protocol, endpoints, state. */
export function describeEndpoint(s: PortSocket): string {
  // One vocabulary: TCP and UDP; the address shows the family ([::] is IPv6).
  const proto = s.protocol.toUpperCase();
  const local = formatEndpoint(s.localAddress, s.localPort);
  const where = describeWhere(s);
  if (isListening(s)) return `${proto} ${local} ${s.state === 'LISTEN' ? 'listening' : 'bound'}${where}`;
  const arrow = s.side === 'remote' ? '→' : '←';
  return `${proto} ${local} ${arrow} ${formatEndpoint(s.remoteAddress, s.remotePort)} ${s.state}${where}`;
}

/**
 * " in ip netns blue", " in docker container 3f2a…": where the socket lives when that is not the
 * host's network namespace (a container or namespace is where listeners hide); "" on the host.
 */
export function describeWhere(s: Pick<PortSocket, 'netns'>): string {
  return s.netns && !s.netns.host ? ` in ${displayText(s.netns.label, 64)}` : '';
}

/** "nc (pid 4711, user bob)", or why the owner is unknown; escaped for display. */
export function describeOwner(s: PortSocket): string {
  const p = s.process;
  if (p) return `${displayText(p.name, 64)} (pid ${p.pid}${p.user ? `, user ${displayText(p.user, 32)}` : ''})`;
  if (s.pid !== null) return `pid ${s.pid}`;
  return 'an unknown process (owner hidden)';
}

/** "nc (pid 4711)": the owner in the fewest words. */
export function describeOwnerShort(s: PortSocket): string {
  const p = s.process;
  if (p) return `${displayText(p.name, 32)} (pid ${p.pid})`;
  if (s.pid !== null) return `pid ${s.pid}`;
  return 'unknown owner';
}

/** Why activity on this port deserves a look, in one sentence. */
export function whyItMatters(port: number): string {
  if (port === 596) {
    return 'Port 596 belongs to SMSD, a DEC protocol nothing uses today: whatever is here is something else.';
  }
  return `Port ${port} is on your watch list.`;
}

/** A duration in the two largest units that matter: `42 s`, `3 min 05 s`, `2 h 03 min`, `4 d 07 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '\u2014';
  // The main process's clock may run a little ahead of the window's: just seen is "<1 s", not "—".
  const totalSeconds = Math.floor(ms / 1000);
  if (totalSeconds < 1) return '<1 s';
  if (totalSeconds < 60) return `${totalSeconds} s`;
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes} min ${padTwo(totalSeconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${padTwo(minutes % 60)} min`;
  return `${Math.floor(hours / 24)} d ${padTwo(hours % 24)} h`;
}

const padTwo = (n: number): string => String(n).padStart(2, '0');

/**
 * A setting or a bound in one unit, the largest that keeps it readable: `250 ms`, `2 s`,
 * `1.5 min`, `1 h`. Intervals, budgets and timeouts everywhere (the window, the CLI, the engine's
 * notes and errors); `formatDuration` is for how long something has lasted.
 */
export function formatInterval(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))} s`;
  if (ms < 3_600_000) return `${Number((ms / 60_000).toFixed(1))} min`;
  return `${Number((ms / 3_600_000).toFixed(1))} h`;
}

/**
 * What to do about a health issue, with its live counts (events waiting to be written, dropped)
 * first: the counts are fields so the issue's own text stays the same while they change.
 */
export function issueHint(issue: HealthIssue): string | null {
  const dropped = issue.dropped ? ` (${issue.dropped} older ones dropped to bound memory)` : '';
  const waiting = issue.pending === undefined ? '' : `${issue.pending} ${issue.pending === 1 ? 'event' : 'events'} waiting to be written${dropped}. `;
  return `${waiting}${issue.hint ?? ''}` || null;
}

/**
 * Makes untrusted text (process names, command lines, paths) safe to show in a terminal, a
 * notification or a table: control characters, line breaks and bidirectional overrides become
 * visible escapes, so a hostile name can neither spoof a line nor reorder what is shown.
 * Also the short descriptions of sockets and owners shared by the CLI, tray, notifications and
 * window. Pure; the window relies on React's escaping for markup and on this for invisibles.
 */

import type { PortSocket } from './model.ts';

// C0/C1 controls, DEL, and Unicode's invisible formatting characters that can spoof text:
// bidi embeddings/overrides/isolates, zero-width characters, line/paragraph separators, BOM.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Replaces every unsafe character with a visible escape (`\n`, `\x1b`, `\u202e`). */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Shortens text to at most `max` characters (after escaping), marking the cut with an ellipsis. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
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

/** True when the socket waits for others on the watched port (TCP listener or bound UDP). */
export function isListening(s: PortSocket): boolean {
  return s.side === 'local' && (s.state === 'LISTEN' || (s.protocol === 'udp' && s.state === 'UNCONN'));
}

/** `host:port`, with IPv6 hosts bracketed; `*` for a missing endpoint. */
export function formatEndpoint(address: string | null, port: number | null): string {
  if (address === null || port === null) return '*';
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** "TCP [::]:596 listening", "TCP 10.0.0.5:51234 → 203.0.113.9:596": protocol, endpoints, state. */
export function describeEndpoint(s: PortSocket): string {
  const proto = `${s.protocol.toUpperCase()}${s.family === 6 ? 'v6' : ''}`;
  const local = formatEndpoint(s.localAddress, s.localPort);
  if (isListening(s)) return `${proto} ${local} ${s.protocol === 'udp' ? 'bound' : 'listening'}`;
  const arrow = s.side === 'remote' ? '→' : '←';
  return `${proto} ${local} ${arrow} ${formatEndpoint(s.remoteAddress, s.remotePort)} ${s.state}`;
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

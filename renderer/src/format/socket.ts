/**
 * How sockets and processes read in the window: endpoints, states, sizes. Pure. (Allowlist
 * matching and the tray's one-line phrases live in electron/common; this is the table's vocabulary.)
 */
import type { PortSocket } from '#common/model.ts';

/** `TCP`/`UDP` plus the address family, e.g. `TCP · IPv6`. */
export function formatTransport(socket: Pick<PortSocket, 'protocol' | 'family'>): string {
  return `${socket.protocol.toUpperCase()} \u00B7 IPv${socket.family}`;
}

const STATE_WORDS: Readonly<Record<string, string>> = {
  LISTEN: 'Listening',
  UNCONN: 'Bound',
  BOUND: 'Bound, not listening',
  ESTABLISHED: 'Connected',
  SYN_SENT: 'Connecting',
  SYN_RECV: 'Accepting',
  FIN_WAIT1: 'Closing',
  FIN_WAIT2: 'Closing',
  CLOSE_WAIT: 'Closing',
  CLOSING: 'Closing',
  LAST_ACK: 'Closing',
  TIME_WAIT: 'Closed (lingering)',
  CLOSE: 'Closed',
};

/** The socket state in words, e.g. `Listening` for LISTEN; unknown states pass through. */
export function describeState(state: string): string {
  return STATE_WORDS[state.toUpperCase()] ?? state;
}

/** What a socket is doing in one phrase: `listening on`, `connected to`. */
export function describeSide(socket: Pick<PortSocket, 'side' | 'state'>): string {
  if (socket.side === 'remote') return 'talking to';
  return socket.state === 'LISTEN' || socket.state === 'UNCONN' || socket.state === 'BOUND' ? 'bound to' : 'connected on';
}

/** Bytes as `12.3 MB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '\u2014';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** CPU percent of one core, `0.4 %`. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '\u2014';
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} %`;
}

/**
 * Sockets in the order the table shows them: oldest first (then by identity), so a socket that
 * appears is added at the bottom and the rows someone is reading never move.
 */
export function orderForDisplay(sockets: readonly PortSocket[]): readonly PortSocket[] {
  return [...sockets].sort((a, b) => a.firstSeenAt.localeCompare(b.firstSeenAt) || a.id.localeCompare(b.id));
}

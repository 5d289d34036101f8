/**
 * What makes two observations the same socket, and which sockets are mere kernel leftovers.
 * Pure.
 */
import type { PortSocket } from './model.ts';
import type { RawSocket } from './socket-parse.ts';

/**
 * Identity of a socket across scans: protocol, family, both endpoints, the owner pid and the
 * owner's start time (a reused pid is a different process), and the kernel inode where known
 * (a socket closed and reopened is a new socket), and the network namespace unless it is the
 * host's (so host sockets keep the identity they had before namespaces were seen).
 */
export function socketIdentity(
  s: Pick<RawSocket, 'protocol' | 'family' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort' | 'pid' | 'inode' | 'netns'>,
  startedAt: string | null,
): string {
  return [
    s.protocol,
    s.family,
    s.localAddress,
    s.localPort,
    s.remoteAddress ?? '*',
    s.remotePort ?? '*',
    s.pid ?? '-',
    startedAt ?? '-',
    s.inode ?? '-',
    ...(s.netns && !s.netns.host ? [`netns:${s.netns.inode}`] : []),
  ].join('|');
}

/**
 * What makes two sightings the same socket for the history, whoever saw them: the kernel's
 * socket (protocol, endpoints, inode, network namespace) where its inode is known, whatever its
 * owner looked like to the watcher (a watcher without privileges sees no owner; one started after
 * an owner change sees the new owner); the full identity otherwise.
 */
export function historyKey(s: Pick<PortSocket, 'id' | 'protocol' | 'family' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort' | 'inode' | 'netns'>): string {
  if (!s.inode || s.id.includes('|kernel:')) return s.id;
  const where = s.netns && !s.netns.host ? `|netns:${s.netns.inode}` : '';
  return `${s.protocol}|${s.family}|${s.localAddress}|${s.localPort}|${s.remoteAddress ?? '*'}|${s.remotePort ?? '*'}|inode:${s.inode}${where}`;
}

// States a socket is left in after its owner closed it; the kernel finishes them alone.
const LEFTOVER_STATES = new Set(['TIME_WAIT', 'FIN_WAIT2', 'FIN_WAIT1', 'CLOSING', 'LAST_ACK', 'CLOSE']);

/**
 * True for kernel leftovers of closed connections: TIME_WAIT always (no process can own it), and
 * closing states whose inode is 0 (orphaned: the owner has closed its descriptor). These never
 * alert and never count as "something on the port". Privilege-independent: a hidden owner of a
 * live socket still has a non-zero inode.
 */
export function isLingering(s: Pick<RawSocket, 'state' | 'inode'>): boolean {
  if (s.state === 'TIME_WAIT') return true;
  return LEFTOVER_STATES.has(s.state) && s.inode === 0;
}

/** Sockets that appeared and disappeared between two scans, by identity. */
export interface SocketDiff {
  readonly appeared: readonly PortSocket[];
  readonly disappeared: readonly PortSocket[];
}

/** Compares the previous scan's sockets with the current one's. */
export function diffSockets(previous: readonly PortSocket[], current: readonly PortSocket[]): SocketDiff {
  const before = new Map(previous.map((s) => [s.id, s]));
  const now = new Set(current.map((s) => s.id));
  const appeared = current.filter((s) => !before.has(s.id));
  const disappeared = previous.filter((s) => !now.has(s.id));
  return { appeared, disappeared };
}

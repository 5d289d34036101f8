/**
 * Parsers that turn the text of socket tools (ss) and systeminformation's rows into raw sockets,
 * with addresses, ports and states normalized so that rows from different sources compare equal.
 * Pure: property-tested in tests/common/socket-parse.test.ts.
 */
import type { Family, NetnsRef, Protocol, SocketEndpoints } from './model.ts';

/** A socket as a source reports it, before owners are looked up. */
export interface RawSocket extends SocketEndpoints {
  /** Owner pid where the source knows it. */
  readonly pid: number | null;
  /** Every pid holding the socket (forked servers share one listener). */
  readonly pids: readonly number[];
  readonly inode: number | null;
  /** Owner uid where the source reports it. */
  readonly uid: number | null;
  /** The network namespace, where the source reports it. */
  readonly netns?: NetnsRef;
  /** No holder found, but some processes' descriptors could not be read: one of them may hold it. */
  readonly ownerHidden?: boolean;
}

// ss(8) state names → netstat's, which the JSON contract uses.
const SS_STATES: Readonly<Record<string, string>> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  UNCONN: 'UNCONN',
  // An ss that knows Linux 6.7's TCP_BOUND_INACTIVE prints TCP sockets only bound so.
  'BOUND-INACTIVE': 'BOUND',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
  CLOSE: 'CLOSE',
  'CLOSED': 'CLOSE',
  UNKNOWN: 'UNKNOWN',
};

/** Maps a state name from ss or netstat to netstat's upper-case spelling. */
export function normalizeState(state: string, protocol: Protocol): string {
  const upper = state.trim().toUpperCase();
  if (upper === '' || upper === '-') return protocol === 'udp' ? 'UNCONN' : 'UNKNOWN';
  return SS_STATES[upper] ?? upper.replace(/-/g, '_');
}

/** Normalizes an address: drops brackets, maps `*` to the wildcard, and IPv4-mapped IPv6 to dotted IPv4. */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (a === '*' || a === '' ) return '::';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (mapped?.[1]) return mapped[1];
  return a.toLowerCase();
}

/** Address family of a normalized address as it appeared in the source (`*` means a dual-stack IPv6 socket). */
export function familyOf(rawAddress: string): Family {
  const a = rawAddress.trim();
  if (a === '*' || a.startsWith('[') || a.includes(':')) return 6;
  return 4;
}

/** Splits `host:port` where host may be bracketed IPv6, `*`, or carry a `%iface` scope. */
export function splitEndpoint(endpoint: string): { host: string; port: string } | null {
  const i = endpoint.lastIndexOf(':');
  if (i <= 0 || i === endpoint.length - 1) return null;
  return { host: endpoint.slice(0, i), port: endpoint.slice(i + 1) };
}

/** Parses a port field: `*`, `0` or garbage mean none. */
export function parsePort(text: string | number | null | undefined): number | null {
  if (typeof text === 'number') return Number.isInteger(text) && text >= 1 && text <= 65535 ? text : null;
  if (typeof text !== 'string' || !/^\d{1,5}$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= 1 && n <= 65535 ? n : null;
}

function stripScope(host: string): string {
  // ss prints `127.0.0.1%lo:596` for sockets bound to a device; the scope is not part of the address.
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const pct = bare.indexOf('%');
  return pct >= 0 && !bare.includes(':') ? bare.slice(0, pct) : bare;
}

// A record of `ss -H -tuna...` starts with netid, state, both queues and two endpoints. A process
// name (comm, at most 15 bytes) can hold a line break but is too short to forge all of that.
const SS_RECORD_START = /^[a-z][a-z0-9_]*\s+[A-Z][A-Z0-9_-]*\s+\d+\s+\d+\s+\S*:\S+\s+\S*:\S+/;

/**
 * Parses the output of `ss -H -tuna[p]e ...` into raw sockets. Lines that do not parse are
 * skipped and counted, never guessed at. ss prints process names raw, so a name with a line
 * break continues its record on the next line: such a line is joined back to the record whose
 * owner block it completes.
 */
export function parseSsOutput(text: string): { sockets: RawSocket[]; skipped: number } {
  const records: string[] = [];
  for (const line of text.split('\n')) {
    const previous = records.at(-1);
    // Only a record whose owner block is still open can continue on the next line.
    if (previous !== undefined && !SS_RECORD_START.test(line) && parseSsUsers(previous)?.pids === null) {
      records[records.length - 1] = `${previous}\n${line}`;
    } else {
      records.push(line);
    }
  }
  const sockets: RawSocket[] = [];
  let skipped = 0;
  for (const record of records) {
    if (record.trim() === '') continue;
    const parsed = parseSsLine(record);
    if (parsed) sockets.push(parsed);
    else skipped++;
  }
  return { sockets, skipped };
}

const USERS_OPEN = 'users:((';
// The end of one owner entry, followed by the end of the whole block.
const BLOCK_END = /",pid=\d+(?:,fd=\d+)?\)\)(?=\s|$)/g;

/**
 * Reads the `users:(("name",pid=N,fd=M),...)` block of an ss record. The name is printed raw and
 * may hold quotes, commas, spaces, line breaks or `pid=`, but never `)`: ss reads it from
 * /proc/PID/stat with `%[^)]`, which stops there. So each owner runs from `("` to the next `)`,
 * and its pid is the `",pid=N,fd=M` at the very end of that span. A block that does not follow
 * this shape, or whose end could be read in two places, names no owner (`pids: null`): an owner
 * is never guessed.
 */
export function parseSsUsers(record: string): { readonly start: number; readonly end: number; readonly pids: readonly number[] | null } | null {
  const start = record.indexOf(USERS_OPEN);
  if (start < 0) return null;
  const unreadable = { start, end: record.length, pids: null };
  const pids: number[] = [];
  let pos = start + USERS_OPEN.length - 1;
  for (;;) {
    if (record[pos] !== '(' || record[pos + 1] !== '"') break;
    const close = record.indexOf(')', pos);
    if (close < 0) break;
    const owner = /",pid=(\d+)(?:,fd=\d+)?$/.exec(record.slice(pos + 2, close));
    if (!owner?.[1]) break;
    pids.push(Number(owner[1]));
    pos = close + 1;
    if (record[pos] === ',') {
      pos++;
      continue;
    }
    if (record[pos] !== ')' || !(pos + 1 === record.length || /\s/.test(record[pos + 1]!))) break;
    // A second place where the block could end means a name forged the first one.
    const ends = record.slice(start).match(BLOCK_END)?.length ?? 0;
    return ends === 1 ? { start, end: pos + 1, pids } : unreadable;
  }
  return readWithParenthesis(record, start) ?? unreadable;
}

/**
 * A name with `)` (which ss cannot print, but another tool or version might): one owner can
 * still be read when exactly one place can end the block and no place can start a second owner.
 */
function readWithParenthesis(record: string, start: number): { start: number; end: number; pids: number[] } | null {
  const block = record.slice(start);
  const ends = [...block.matchAll(BLOCK_END)];
  if (ends.length !== 1 || /",pid=\d+(?:,fd=\d+)?\),\("/.test(block)) return null;
  const only = ends[0]!;
  const pid = /pid=(\d+)/.exec(only[0])!;
  return { start, end: start + only.index + only[0].length, pids: [Number(pid[1])] };
}

/** Parses one record of `ss -H -tuna[p]e` output, or returns null. */
export function parseSsLine(line: string): RawSocket | null {
  const users = parseSsUsers(line);
  const rest = users ? `${line.slice(0, users.start)} ${line.slice(users.end)}` : line;
  const fields = rest.trim().split(/\s+/);
  if (fields.length < 6) return null;
  const [netid, state, , , local, peer] = fields as [string, string, string, string, string, string];
  const protocol: Protocol | null = netid === 'tcp' ? 'tcp' : netid === 'udp' ? 'udp' : null;
  if (!protocol) return null;
  const localEp = splitEndpoint(local);
  const peerEp = splitEndpoint(peer);
  if (!localEp || !peerEp) return null;
  const localPort = parsePort(localEp.port);
  if (localPort === null) return null;
  const remotePort = parsePort(peerEp.port);
  const remoteHost = peerEp.host === '*' || remotePort === null ? null : normalizeAddress(stripScope(peerEp.host));
  const pids = (users?.pids ?? []).filter((p) => p > 0);
  const uniquePids = [...new Set(pids)].sort((a, b) => a - b);
  const extras = fields.slice(6).join(' ');
  const ino = /(?:^|\s)ino:(\d+)/.exec(extras);
  const uid = /(?:^|\s)uid:(\d+)/.exec(extras);
  return {
    protocol,
    family: familyOf(localEp.host),
    localAddress: normalizeAddress(stripScope(localEp.host)),
    localPort,
    remoteAddress: remotePort === null ? null : remoteHost,
    remotePort,
    state: normalizeState(state, protocol),
    pid: uniquePids[0] ?? null,
    pids: uniquePids,
    inode: ino?.[1] ? Number(ino[1]) : null,
    uid: uid?.[1] ? Number(uid[1]) : null,
  };
}

/** A row of `systeminformation.networkConnections()` (ports arrive as strings). */
export interface SiConnection {
  readonly protocol?: string;
  readonly localAddress?: string;
  readonly localPort?: string | number;
  readonly peerAddress?: string;
  readonly peerPort?: string | number;
  readonly state?: string;
  readonly pid?: number | null;
  readonly process?: string;
}

/** Converts a systeminformation row to a raw socket, or null when it does not describe one. */
export function fromSiConnection(row: SiConnection): RawSocket | null {
  const proto = String(row.protocol ?? '').toLowerCase();
  const protocol: Protocol | null = proto.startsWith('tcp') ? 'tcp' : proto.startsWith('udp') ? 'udp' : null;
  if (!protocol) return null;
  const localPort = parsePort(row.localPort ?? null);
  if (localPort === null) return null;
  const localRaw = String(row.localAddress ?? '');
  const family: Family = proto.endsWith('6') || localRaw.includes(':') ? 6 : 4;
  const remotePort = parsePort(row.peerPort ?? null);
  const peerRaw = String(row.peerAddress ?? '');
  const pid = typeof row.pid === 'number' && Number.isInteger(row.pid) && row.pid > 0 ? row.pid : null;
  return {
    protocol,
    family,
    localAddress: normalizeAddress(localRaw),
    localPort,
    remoteAddress: remotePort === null ? null : normalizeAddress(peerRaw),
    remotePort,
    state: normalizeState(String(row.state ?? ''), protocol),
    pid,
    pids: pid === null ? [] : [pid],
    inode: null,
    uid: null,
  };
}

/** The endpoint key two sources agree on for the same socket. */
export function endpointKey(s: Pick<RawSocket, 'protocol' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort' | 'netns'>): string {
  const netns = s.netns && !s.netns.host ? `|netns:${s.netns.inode}` : '';
  return `${s.protocol}|${s.localAddress}|${s.localPort}|${s.remoteAddress ?? '*'}|${s.remotePort ?? '*'}${netns}`;
}

/** True when the socket's local or remote port is one of the watched ports. */
export function touchesPorts(s: RawSocket, ports: ReadonlySet<number>): boolean {
  return ports.has(s.localPort) || (s.remotePort !== null && ports.has(s.remotePort));
}

/**
 * Linux's socket tables read in-process from /proc/net/{tcp,tcp6,udp,udp6}: the cheapest way to
 * ask "is anything on the watched ports?" while the tables are small (no child process, about
 * 2 ms with a few hundred sockets). Only lines that mention a watched port are split. Owners are
 * not here: /proc/net gives the inode and uid, the owner lookup happens only when the set changes.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import type { Family, Protocol } from '#common/model.ts';
import { normalizeAddress, normalizeState, type RawSocket } from '#common/socket-parse.ts';

/** The tables, by file name. */
export const PROC_NET_FILES = ['tcp', 'tcp6', 'udp', 'udp6'] as const;
export type ProcNetFile = (typeof PROC_NET_FILES)[number];

// One buffer for every read: /proc/net files are generated a page or so per read.
const buffer = Buffer.allocUnsafe(256 * 1024);

/**
 * The sockets in /proc/net whose local or remote port is watched. Throws when no table can be
 * read. `dir` is /proc/PID/net for another network namespace: the tables of that process's one;
 * `files` narrows the read to some tables (each one read costs a walk of the kernel's table).
 */
export function readProcNet(ports: readonly number[], dir = '/proc/net', files: readonly ProcNetFile[] = PROC_NET_FILES): RawSocket[] {
  const needles = ports.map((p) => `:${p.toString(16).toUpperCase().padStart(4, '0')} `);
  const rows: RawSocket[] = [];
  const seen = new Set<string>();
  let readable = 0;
  for (const file of files) {
    let fd: number;
    try {
      fd = openSync(`${dir}/${file}`, 'r');
    } catch {
      continue; // A kernel without IPv6 has no tcp6/udp6.
    }
    readable++;
    try {
      let carry = '';
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, null);
        if (n <= 0) break;
        const text = carry + buffer.toString('latin1', 0, n);
        const complete = text.lastIndexOf('\n') + 1;
        carry = text.slice(complete);
        for (const needle of needles) collect(text, complete, needle, file, rows, seen);
      }
    } finally {
      closeSync(fd);
    }
  }
  if (readable === 0) throw new Error(`${dir} cannot be read`);
  return rows;
}

function collect(text: string, complete: number, needle: string, file: ProcNetFile, rows: RawSocket[], seen: Set<string>): void {
  let at = text.indexOf(needle);
  while (at >= 0 && at < complete) {
    const start = text.lastIndexOf('\n', at) + 1;
    const end = text.indexOf('\n', at);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    const f = text.slice(start, end).trim().split(/\s+/);
    const port = needle.slice(1, -1);
    const local = f[1] ?? '';
    const remote = f[2] ?? '';
    const key = `${file} ${local} ${remote} ${f[9]}`;
    // The needle may sit in another column; only the two endpoints count, and a row is kept once.
    if ((local.endsWith(`:${port}`) || remote.endsWith(`:${port}`)) && !seen.has(key)) {
      seen.add(key);
      const socket = toRawSocket(file, local, remote, f[3] ?? '', Number(f[7]), Number(f[9]));
      if (socket) rows.push(socket);
    }
    at = text.indexOf(needle, end);
  }
}

const TCP_STATES: Readonly<Record<string, string>> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** Decodes a /proc/net address (`0100007F`, or 32 hex digits for IPv6) to the text ss prints, normalized. */
export function decodeProcNetAddress(hex: string): string {
  // Each 32-bit word of the network-order address is printed as a host-order (little-endian) integer.
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(word.slice(b, b + 2), 16));
  }
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // URL canonicalizes IPv6 per RFC 5952 as inet_ntop does (in brackets, which normalizeAddress drops).
  return normalizeAddress(new URL(`http://[${groups.join(':')}]`).hostname);
}

/** One line of /proc/net/{tcp,tcp6,udp,udp6} (`file` names which) as a socket, or null. */
export function parseProcNetLine(file: ProcNetFile, line: string): RawSocket | null {
  // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
  const f = line.trim().split(/\s+/);
  return toRawSocket(file, f[1] ?? '', f[2] ?? '', f[3] ?? '', Number(f[7]), Number(f[9]));
}

function toRawSocket(file: ProcNetFile, local: string, remote: string, st: string, uid: number, inode: number): RawSocket | null {
  const protocol: Protocol = file.startsWith('tcp') ? 'tcp' : 'udp';
  const family: Family = file.endsWith('6') ? 6 : 4;
  const [localHex, localPortHex] = local.split(':');
  const [remoteHex, remotePortHex] = remote.split(':');
  if (!localHex || !localPortHex || !remoteHex || !remotePortHex) return null;
  const localPort = Number.parseInt(localPortHex, 16);
  const remotePort = Number.parseInt(remotePortHex, 16) || null;
  const state = protocol === 'udp' ? (st === '01' ? 'ESTABLISHED' : 'UNCONN') : (TCP_STATES[st] ?? 'UNKNOWN');
  return {
    protocol,
    family,
    localAddress: decodeProcNetAddress(localHex),
    localPort,
    remoteAddress: remotePort === null ? null : decodeProcNetAddress(remoteHex),
    remotePort,
    state: normalizeState(state, protocol),
    pid: null,
    pids: [],
    inode: Number.isFinite(inode) ? inode : null,
    uid: Number.isFinite(uid) ? uid : null,
  };
}

/** How many TCP and UDP sockets this network namespace holds (from /proc/net/sockstat{,6}); null if unknown. */
export function socketTableSize(proc = '/proc'): number | null {
  try {
    const text = readFileSync(`${proc}/net/sockstat`, 'latin1') + readFileSync(`${proc}/net/sockstat6`, 'latin1');
    let total = 0;
    for (const m of text.matchAll(/^(?:TCP6?|UDP6?): inuse (\d+)(?: orphan \d+ tw (\d+))?/gm)) total += Number(m[1]) + Number(m[2] ?? 0);
    return total;
  } catch {
    return null;
  }
}

/**
 * A PROPOSAL for the Linux scanner, measured by the benchmark next to the real one (`--proposal`)
 * so the lead can decide with numbers; the product's scanner is electron/node/scanner.ts.
 * Same contract and same cache-by-probe-key as the real Linux scanner, two steps changed:
 * - the steady probe reads /proc/net/{tcp,tcp6,udp,udp6} in this process instead of spawning
 *   `ss` (no fork of the engine, whose cost grows with its RSS, and no start-up of ss);
 * - the owner lookup, when the set changed, finds the pids of the probe's inodes in /proc/PID/fd,
 *   newest pid first, stopping once all are found, instead of systeminformation (`netstat -tunap`,
 *   which walks every process and lists every socket) plus `ss -p` (which walks every process too).
 *   Worst case (the owner is an old process): one full walk, the same work `ss -p` always does.
 */
import { closeSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import type { Protocol, Family } from '../../electron/common/model.ts';
import { endpointKey, normalizeAddress, normalizeState } from '../../electron/common/socket-parse.ts';
import type { RawSocket } from '../../electron/common/socket-parse.ts';
import type { RawScan, Scanner } from '../../electron/node/scanner.ts';

/** A line of /proc/net/<file> on a watched port, fields as the kernel prints them (hex). */
export interface ProcNetRow {
  readonly file: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  readonly local: string;
  readonly remote: string;
  readonly state: string;
  readonly uid: number;
  readonly inode: number;
}

const PROC_NET_FILES = ['tcp', 'tcp6', 'udp', 'udp6'] as const;
// One buffer for every read: /proc/net files are generated on read, 4 KB at a time or so.
const buffer = Buffer.allocUnsafe(256 * 1024);

/** The rows of /proc/net/{tcp,tcp6,udp,udp6} whose local or remote port is one of `ports`; only matching lines are split. */
export function readProcNet(ports: readonly number[]): ProcNetRow[] {
  const needles = ports.map((p) => `:${p.toString(16).toUpperCase().padStart(4, '0')} `);
  const rows: ProcNetRow[] = [];
  for (const file of PROC_NET_FILES) {
    let fd: number;
    try {
      fd = openSync(`/proc/net/${file}`, 'r');
    } catch {
      continue; // A kernel without IPv6.
    }
    try {
      let carry = '';
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, null);
        if (n <= 0) break;
        const text = carry + buffer.toString('latin1', 0, n);
        const complete = text.lastIndexOf('\n') + 1;
        carry = text.slice(complete);
        for (const needle of needles) collectRows(text, complete, needle, file, rows);
      }
    } finally {
      closeSync(fd);
    }
  }
  return rows;
}

function collectRows(text: string, complete: number, needle: string, file: ProcNetRow['file'], rows: ProcNetRow[]): void {
  let at = text.indexOf(needle);
  while (at >= 0 && at < complete) {
    const start = text.lastIndexOf('\n', at) + 1;
    const end = text.indexOf('\n', at);
    // sl local remote st tx:rx tr:when retrnsmt uid timeout inode
    const f = text.slice(start, end).trim().split(/\s+/);
    const port = needle.slice(1, -1);
    const local = f[1] ?? '';
    const remote = f[2] ?? '';
    // The needle could sit in another column; only the two endpoints count, and a row on both sides is kept once.
    const onLocal = local.endsWith(`:${port}`);
    const seen = rows.some((r) => r.file === file && r.local === local && r.remote === remote && r.inode === Number(f[9]));
    if ((onLocal || remote.endsWith(`:${port}`)) && !seen) {
      rows.push({ file, local, remote, state: f[3] ?? '', uid: Number(f[7] ?? -1), inode: Number(f[9] ?? 0) });
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

function hexBytes(hex: string): number[] {
  // The kernel prints each 32-bit word of the (network-order) address as a host-order integer.
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(word.slice(b, b + 2), 16));
  }
  return bytes;
}

/** Decodes a /proc/net address (`0100007F` or 32 hex digits) the way ss prints it, normalized like ss's. */
export function decodeProcNetAddress(hex: string): string {
  const b = hexBytes(hex);
  if (b.length === 4) return b.join('.');
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return b.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return normalizeAddress(new URL(`http://[${groups.join(':')}]`).hostname);
}

/** Converts a /proc/net row to the raw socket ss would have given (no owner yet). */
export function toRawSocket(row: ProcNetRow): RawSocket {
  const protocol: Protocol = row.file.startsWith('tcp') ? 'tcp' : 'udp';
  const family: Family = row.file.endsWith('6') ? 6 : 4;
  const [localHex = '', localPortHex = '0'] = row.local.split(':');
  const [remoteHex = '', remotePortHex = '0'] = row.remote.split(':');
  const remotePort = Number.parseInt(remotePortHex, 16) || null;
  const state = protocol === 'udp' ? (row.state === '01' ? 'ESTABLISHED' : 'UNCONN') : (TCP_STATES[row.state] ?? 'UNKNOWN');
  return {
    protocol,
    family,
    localAddress: decodeProcNetAddress(localHex),
    localPort: Number.parseInt(localPortHex, 16),
    remoteAddress: remotePort === null ? null : decodeProcNetAddress(remoteHex),
    remotePort,
    state: normalizeState(state, protocol),
    pid: null,
    pids: [],
    inode: row.inode,
    uid: row.uid,
  };
}

/** Which pid holds each socket inode, from /proc/PID/fd, newest pid first; stops once all are found. */
export function findSocketOwners(inodes: ReadonlySet<number>, order: 'newest' | 'oldest' = 'newest'): Map<number, number> {
  const found = new Map<number, number>();
  if (inodes.size === 0) return found;
  const pids = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => (order === 'newest' ? b - a : a - b));
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // Exited meanwhile, or not ours to read.
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!link.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      if (inodes.has(inode) && !found.has(inode)) found.set(inode, pid);
    }
    if (found.size === inodes.size) break;
  }
  return found;
}

function probeKey(rows: readonly RawSocket[]): string {
  return rows
    .map((r) => `${endpointKey(r)}|${r.state}|${r.inode ?? ''}`)
    .sort()
    .join('\n');
}

/** The proposed Linux scanner (see the file comment). */
export function createProposedScanner(): Scanner {
  let last: { key: string; portsKey: string; scan: RawScan } | null = null;
  return {
    async scan(ports) {
      const portsKey = ports.join(',');
      const probe = readProcNet(ports).map(toRawSocket);
      const key = probeKey(probe);
      if (last && last.portsKey === portsKey && last.key === key) return { ...last.scan, reused: true };
      // Inode 0: a leftover no process holds (TIME_WAIT, orphaned close); nothing to look up.
      const owners = findSocketOwners(new Set(probe.flatMap((s) => (s.inode ? [s.inode] : []))));
      const sockets = probe.map((s) => {
        const pid = s.inode ? (owners.get(s.inode) ?? null) : null;
        return pid === null ? s : { ...s, pid, pids: [pid] };
      });
      const scan: RawScan = { sockets, health: 'ok', issues: [], reused: false };
      last = { key, portsKey, scan };
      return scan;
    },
  };
}

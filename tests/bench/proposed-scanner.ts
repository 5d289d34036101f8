/**
 * A PROPOSAL for the Linux owner lookup, measured by the benchmark next to the product's
 * (`--proposal`) so the choice is made with numbers; the product's scanner is
 * electron/node/scanner.ts. The probe is the product's own (/proc/net read in-process,
 * electron/node/proc-net.ts, adopted from this proposal); what differs is the owner lookup when
 * the set changed: the pids of the probe's inodes from /proc/PID/fd, newest pid first, stopping
 * once all are found, instead of the kernel-filtered `ss -p`. Worst case (the owner is an old
 * process): one full walk, the same work `ss -p` always does; it finds one pid per socket, not
 * every pid sharing it.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { endpointKey } from '../../electron/common/socket-parse.ts';
import type { RawSocket } from '../../electron/common/socket-parse.ts';
import type { RawScan, Scanner } from '../../electron/node/scanner.ts';
import { readProcNet } from '../../electron/node/proc-net.ts';

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
      const probe = readProcNet(ports);
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

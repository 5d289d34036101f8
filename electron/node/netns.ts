/**
 * Linux network namespaces: every distinct one on the host, found from the processes in it
 * (/proc/PID/ns/net, one entry per namespace, not per process) and from the named ones
 * (/run/netns/NAME, which may hold no process at all), each with a label a user recognises.
 * A namespace that holds a process is read through that process's /proc/PID/net; a named one
 * without a process is entered by the netlink helper (setns) or nsenter.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { NetnsRef } from '#common/model.ts';
import { parseCgroup } from '#common/cgroup.ts';

/** One network namespace and how to reach it. */
export interface Netns extends NetnsRef {
  /** Processes inside it (their /proc/PID/net shows its tables), in /proc order. */
  readonly pids: readonly number[];
  /** The bind-mounted file of a named namespace (/run/netns/NAME), or null. */
  readonly path: string | null;
}

/** Every namespace this process can see, and how many processes it could not look into. */
export interface NetnsList {
  readonly host: Netns;
  readonly others: readonly Netns[];
  /** Processes whose namespace and tables could not be read at all (hidepid, other users' processes). */
  readonly hidden: number;
}

/** Where to look: the real /proc and /run/netns, or a test's stand-ins. */
export interface NetnsRoots {
  readonly proc: string;
  readonly named: string;
}

const ROOTS: NetnsRoots = { proc: '/proc', named: '/run/netns' };

function addTo(map: Map<number, number[]>, key: number, pid: number): void {
  const list = map.get(key);
  if (list) list.push(pid);
  else map.set(key, [pid]);
}

/** The inode of the net/tcp entry of the first of these processes that is still there. */
function tcpEntry(proc: string, pids: readonly number[]): number | null {
  for (const pid of pids) {
    try {
      return statSync(`${proc}/${pid}/net/tcp`).ino;
    } catch {
      // Exited: the next one.
    }
  }
  return null;
}

function nsInode(link: string): number | null {
  const match = /^net:\[(\d+)\]$/.exec(link);
  return match ? Number(match[1]) : null;
}

/** Lists the namespaces; throws only when this process's own namespace cannot be read. */
export function listNetns(roots: NetnsRoots = ROOTS): NetnsList {
  const hostInode = nsInode(readlinkSync(`${roots.proc}/self/ns/net`));
  if (hostInode === null) throw new Error('cannot read this process\'s network namespace');
  const members = new Map<number, number[]>();
  const opaque: number[] = [];
  let hidden = 0;
  for (const entry of readdirSync(roots.proc)) {
    if (!/^\d+$/.test(entry)) continue;
    let inode: number | null;
    try {
      inode = nsInode(readlinkSync(`${roots.proc}/${entry}/ns/net`));
    } catch (error) {
      // ENOENT: it exited meanwhile. EACCES: a process we may not inspect (another user's when
      // not root; one holding capabilities we lack even as root).
      if ((error as NodeJS.ErrnoException).code === 'EACCES') opaque.push(Number(entry));
      continue;
    }
    if (inode !== null) addTo(members, inode, Number(entry));
  }
  // Whoever may not read a process's namespace link may still read its /proc/PID/net tables,
  // and the inode of its net/tcp entry is one per namespace (from the same number space as
  // namespace inodes): such processes join the namespace they share it with, or make their own.
  if (opaque.length > 0) {
    const byEntry = new Map<number, number>();
    for (const [inode, pids] of members) {
      const entry = tcpEntry(roots.proc, pids);
      if (entry !== null) byEntry.set(entry, inode);
    }
    for (const pid of opaque) {
      let entry: number;
      try {
        entry = statSync(`${roots.proc}/${pid}/net/tcp`).ino;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') hidden++;
        continue;
      }
      addTo(members, byEntry.get(entry) ?? entry, pid);
    }
  }
  const named = new Map<number, string>();
  let names: string[] = [];
  try {
    names = readdirSync(roots.named);
  } catch {
    // No named namespaces.
  }
  for (const name of names) {
    try {
      const ino = statSync(`${roots.named}/${name}`).ino;
      if (!named.has(ino)) named.set(ino, name);
    } catch {
      // Deleted meanwhile, or a name whose namespace is gone (ip netns leaves the file until deleted).
    }
  }
  const others: Netns[] = [];
  for (const inode of new Set([...members.keys(), ...named.keys()])) {
    if (inode === hostInode) continue;
    const pids = members.get(inode) ?? [];
    const name = named.get(inode);
    others.push({
      inode,
      host: false,
      label: name !== undefined ? `ip netns ${name}` : labelOf(pids[0]!, roots.proc),
      pids,
      path: name !== undefined ? `${roots.named}/${name}` : null,
    });
  }
  others.sort((a, b) => a.inode - b.inode);
  const host: Netns = { inode: hostInode, host: true, label: 'host', pids: members.get(hostInode) ?? [], path: null };
  return { host, others, hidden };
}

/** "RUNTIME container ID" from the process's cgroup, else "pid N (comm)". */
function labelOf(pid: number, proc: string): string {
  let cgroup = '';
  try {
    cgroup = readFileSync(`${proc}/${pid}/cgroup`, 'utf8');
  } catch {
    // Gone: fall through to the pid.
  }
  const container = parseCgroup(cgroup).container;
  // Docker's short form: the first 12 hex digits, as `docker ps` shows it.
  if (container) return `${container.runtime} container ${/^[0-9a-f]{64}$/.test(container.id) ? container.id.slice(0, 12) : container.id}`;
  let comm = '?';
  try {
    comm = readFileSync(`${proc}/${pid}/comm`, 'utf8').trim();
  } catch {
    // Gone meanwhile.
  }
  return `pid ${pid} (${comm})`;
}

/** Who holds which socket, and how many processes' descriptors could not be read (one of them may hold a socket not found). */
export interface OwnersFound {
  readonly owners: Map<number, number[]>;
  readonly unreadable: number;
}

/** Which processes hold each of these socket inodes: a walk of /proc/PID/fd of the given pids only. */
export function ownersOfInodes(inodes: ReadonlySet<number>, pids: readonly number[], proc = ROOTS.proc): OwnersFound {
  const owners = new Map<number, number[]>();
  let unreadable = 0;
  if (inodes.size === 0) return { owners, unreadable };
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${pid}/fd`);
    } catch (error) {
      // ENOENT: it exited. EACCES: another user's process (the directory's owner decides).
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') unreadable++;
      continue;
    }
    let denied = false;
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${proc}/${pid}/fd/${fd}`);
      } catch (error) {
        // ENOENT: closed meanwhile. EACCES: listed but not readable (ptrace's check: a process
        // with capabilities we lack, or one that is not dumpable).
        denied ||= (error as NodeJS.ErrnoException).code !== 'ENOENT';
        continue;
      }
      if (!target.startsWith('socket:[')) continue;
      const inode = Number(target.slice(8, -1));
      if (!inodes.has(inode)) continue;
      const list = owners.get(inode);
      if (!list) owners.set(inode, [pid]);
      else if (!list.includes(pid)) list.push(pid);
    }
    if (denied) unreadable++;
  }
  return { owners, unreadable };
}

/** The namespace of one process, read at once (for a kernel event); null when it is gone or unreadable. */
export function netnsOfPid(pid: number, proc = ROOTS.proc): NetnsRef | null {
  try {
    const inode = nsInode(readlinkSync(`${proc}/${pid}/ns/net`));
    if (inode === null) return null;
    if (inode === nsInode(readlinkSync(`${proc}/self/ns/net`))) return { inode, host: true, label: 'host' };
    return { inode, host: false, label: labelOf(pid, proc) };
  } catch {
    return null;
  }
}

/** The process's sockets: inode → descriptor number (one walk of its /proc/PID/fd). */
export function socketFds(pid: number, proc = ROOTS.proc): Map<number, number> {
  const found = new Map<number, number>();
  let fds: string[];
  try {
    fds = readdirSync(`${proc}/${pid}/fd`);
  } catch {
    return found;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`${proc}/${pid}/fd/${fd}`);
      if (target.startsWith('socket:[')) found.set(Number(target.slice(8, -1)), Number(fd));
    } catch {
      // Closed meanwhile.
    }
  }
  return found;
}

/** True while the process still holds the socket by that descriptor: one readlink. */
export function stillHolds(holder: { pid: number; fd: number; inode: number }, proc = ROOTS.proc): boolean {
  try {
    return readlinkSync(`${proc}/${holder.pid}/fd/${holder.fd}`) === `socket:[${holder.inode}]`;
  } catch {
    return false;
  }
}

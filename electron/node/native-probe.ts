/**
 * The Linux poll's cheapest probe: a small C helper (native/ghostport-diag.c) that stays alive
 * and answers each request over a NETLINK_SOCK_DIAG socket it keeps open, with the kernel
 * filtering by port. No process is started per poll (the shell+ss path forks and execs ss each
 * time). Built by electron/build/build-native.ts; when the binary is missing, `find()` returns
 * null and the caller uses the shell+ss path. Bounded like every child: a request that does not
 * answer in time kills the helper, and the next call starts a fresh one.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { formatInterval } from '#common/display-text.ts';
import { HelperProcess } from './helper-process.ts';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normalizeAddress, type RawSocket } from '#common/socket-parse.ts';

/** Where the built helper lives, relative to this file (electron/node/ → repo or app root). */
export function defaultHelperPath(): string {
  const path = fileURLToPath(new URL('../../dist/native/ghostport-diag', import.meta.url));
  // Packaged, the helper is unpacked beside the asar archive: a binary inside it cannot run.
  return path.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// The helper's limit on one request's descriptors or inodes (MAX_INODES in ghostport-diag.c).
const MAX_INODES = 1024;
const validInode = (inode: number): boolean => Number.isInteger(inode) && inode > 0 && inode <= 0xffffffff;

/** Parses one row of the helper's answer, or returns null. */
export function parseDiagRow(line: string): RawSocket | null {
  const f = line.split(' ');
  if (f.length !== 9) return null;
  const [proto, fam, state, local, lport, remote, rport, inode, uid] = f as [string, string, string, string, string, string, string, string, string];
  if ((proto !== 'tcp' && proto !== 'udp') || (fam !== '4' && fam !== '6') || !/^[A-Z][A-Z0-9_]*$/.test(state)) return null;
  const num = (text: string): number | null => (/^\d{1,10}$/.test(text) ? Number(text) : null);
  const localPort = num(lport);
  if (localPort === null || localPort < 1 || localPort > 65535) return null;
  const remotePort = rport === '*' ? null : num(rport);
  if (rport !== '*' && (remotePort === null || remotePort < 1 || remotePort > 65535)) return null;
  return {
    protocol: proto,
    family: fam === '4' ? 4 : 6,
    localAddress: normalizeAddress(local),
    localPort,
    remoteAddress: remotePort === null || remote === '*' ? null : normalizeAddress(remote),
    remotePort,
    state,
    pid: null,
    pids: [],
    inode: num(inode),
    uid: num(uid),
  };
}

/** The other end of a Unix socket, as the kernel recorded it when it connected. */
export interface PeerCredentials {
  /** Null when the client is in a PID namespace the helper cannot see (the kernel says 0). */
  readonly pid: number | null;
  readonly uid: number;
  readonly gid: number;
}

/** Parses the helper's `peercred` row (`<pid> <uid> <gid>`), or returns null. */
export function parsePeerRow(line: string): PeerCredentials | null {
  const match = /^(\d{1,10}) (\d{1,10}) (\d{1,10})$/.exec(line);
  if (!match) return null;
  const [pid, uid, gid] = match.slice(1).map(Number) as [number, number, number];
  if (pid > 4194304 || uid > 0xffffffff || gid > 0xffffffff) return null;
  return { pid: pid === 0 ? null : pid, uid, gid };
}

/** One helper, many probes. */
export class NativeProbe {
  readonly #helper: HelperProcess;

  constructor(path: string, args: readonly string[] = []) {
    // Only what it needs in its environment: it reads no variable.
    this.#helper = new HelperProcess(path, args, () => ({ LC_ALL: 'C' }));
  }

  /** The helper from GHOSTPORT_DIAG or dist/native/, or null when it is not there (use ss). Linux only: the Linux source calls it. */
  static find(): NativeProbe | null {
    const env = process.env.GHOSTPORT_DIAG;
    const path = env && env.trim() !== '' ? env : defaultHelperPath();
    return executable(path) ? new NativeProbe(path) : null;
  }

  /** The live helper's pid, or null while none runs (for the benchmark's CPU accounting). */
  get pid(): number | null {
    return this.#helper.pid;
  }

  /**
   * The sockets whose local or remote port is watched. Rejects when the helper reports an error,
   * dies or does not answer in time: the caller then falls back to ss.
   */
  probe(ports: readonly number[], timeoutMs: number, netnsPath?: string): Promise<RawSocket[]> {
    if (ports.length === 0) return Promise.resolve([]);
    if (!ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) return Promise.reject(new Error(`invalid ports: ${ports.join(',')}`));
    // The request is one line: a path with a newline or a space would be another request.
    if (netnsPath !== undefined && !/^\/[^\s]+$/.test(netnsPath)) return Promise.reject(new Error('invalid namespace path'));
    const request = netnsPath === undefined ? ports.join(',') : `${ports.join(',')} ${netnsPath}`;
    return this.#ask(request, timeoutMs, parseDiagRow);
  }

  /**
   * One process's sockets behind these descriptors (`held`: inode to fd), through copies of the
   * descriptors (pidfd_getfd: one system call's cost per socket, whatever the host's tables hold,
   * in any namespace). Rejects where that is refused (not root, an older kernel): then
   * `socketsByInode` or /proc/PID/net.
   */
  socketsOf(pid: number, held: ReadonlyMap<number, number>, timeoutMs: number): Promise<RawSocket[]> {
    const pairs = [...held].slice(0, MAX_INODES).filter(([inode, fd]) => validInode(inode) && Number.isInteger(fd) && fd >= 0);
    if (!Number.isInteger(pid) || pid <= 0 || pairs.length === 0) return Promise.reject(new Error('invalid process or descriptors'));
    return this.#ask(`fds ${pid} ${pairs.map(([inode, fd]) => `${fd}:${inode}`).join(',')}`, timeoutMs, parseDiagRow);
  }

  /** The sockets with these inodes in Ghostport's own network namespace: one dump of every socket, matched by inode. */
  socketsByInode(inodes: readonly number[], timeoutMs: number): Promise<RawSocket[]> {
    const valid = inodes.filter(validInode).slice(0, MAX_INODES);
    if (valid.length === 0) return Promise.reject(new Error('no inodes'));
    return this.#ask(`inodes ${valid.join(',')}`, timeoutMs, parseDiagRow);
  }

  /**
   * Who is at the other end of a Unix socket that process `pid` accepted (SO_PEERCRED, through a
   * copy of its descriptor `fd`), checked to be the socket `inode` still. Rejects where the copy
   * is refused (not root), or the descriptor closed or now holds another socket.
   */
  async peerOf(pid: number, fd: number, inode: number, timeoutMs: number): Promise<PeerCredentials> {
    if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(fd) || fd < 0 || !validInode(inode)) throw new Error('invalid process, descriptor or inode');
    const [peer] = await this.#ask(`peercred ${pid} ${fd}:${inode}`, timeoutMs, parsePeerRow);
    if (!peer) throw new Error('ghostport-diag answered no peer');
    return peer;
  }

  /** Stops the helper. */
  dispose(): void {
    this.#helper.kill();
  }

  #ask<T>(request: string, timeoutMs: number, parse: (line: string) => T | null): Promise<T[]> {
    return this.#helper.serialize((child) => this.#probeNow(child, request, timeoutMs, parse));
  }

  #probeNow<T>(child: ChildProcessWithoutNullStreams, request: string, timeoutMs: number, parse: (line: string) => T | null): Promise<T[]> {
    return new Promise<T[]>((resolve, reject) => {
      let buffer = '';
      const rows: T[] = [];
      let lines = 0;
      let bad = '';
      const done = (error: Error | null) => {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        child.off('error', onError);
        if (error) reject(error);
        else resolve(rows);
      };
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.startsWith('END ')) {
            const count = Number(line.slice(4));
            if (buffer !== '' || count !== lines || bad !== '') {
              // Out of step with the helper: start a fresh one rather than misread the next answer.
              this.dispose();
              done(new Error(bad !== '' ? `ghostport-diag printed an unreadable row: "${bad.slice(0, 80)}"` : 'ghostport-diag answer out of step'));
            } else {
              done(null);
            }
            return;
          }
          if (line.startsWith('ERR ')) {
            done(new Error(`ghostport-diag: ${line.slice(4)}`));
            return;
          }
          lines++;
          const row = parse(line);
          if (row) rows.push(row);
          else if (bad === '') bad = line;
        }
      };
      const onExit = () => done(new Error('ghostport-diag exited'));
      const onError = (error: Error) => done(new Error(`ghostport-diag: ${error.message}`));
      const timer = setTimeout(() => {
        this.dispose();
        done(new Error(`ghostport-diag did not answer within ${formatInterval(timeoutMs)}`));
      }, timeoutMs);
      child.stdout.on('data', onData);
      child.once('exit', onExit);
      child.once('error', onError);
      child.stdin.write(`${request}\n`);
    });
  }
}

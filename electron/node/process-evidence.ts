/**
 * The evidence a responder needs, captured from /proc/PID the moment a socket is detected,
 * before the process can vanish: working directory, deleted executable, its SHA-256 and
 * package, systemd unit and container, the parent chain, the other sockets, the network
 * namespace. Every field is read independently: one that cannot be read (the process exited
 * mid-capture, permissions) is null with its reason in `reasons`, and the rest is kept.
 *
 * The slow parts (hashing the executable, the package lookup, describing its other sockets) run beside the rest and are
 * waited for at most `slowBudgetMs`: detection is never held up by a large binary. They go on
 * after that and are cached (by file identity, by path), so the next capture has them at once;
 * when they finish, `onLate` listeners get them (the engine completes the recorded event).
 */
import { readFile, readlink, readdir, stat } from 'node:fs/promises';
import { formatInterval } from '#common/display-text.ts';
import { LATE_REASON, type LateEvidence } from '#common/late-evidence.ts';
import { Listeners } from '#common/listeners.ts';
import type { Stats } from 'node:fs';
import { parseCgroup } from '#common/cgroup.ts';
import type { AncestorInfo, OtherSockets, ProcessInfo } from '#common/model.ts';
import { ExeDigester, reasonOf } from './exe-digest.ts';
import type { ExeDigest, ExeDigestOptions } from './exe-digest.ts';
import { DpkgDatabase, systemPackageDatabase } from './package-db.ts';
import type { PackageAnswer, PackageDatabase } from './package-db.ts';
import { parseProcNetLine, PROC_NET_FILES } from './proc-net.ts';
import { NativeProbe } from './native-probe.ts';
import type { RawSocket } from '#common/socket-parse.ts';

/** The evidence fields of ProcessInfo. */
export type Evidence = Pick<
  ProcessInfo,
  'cwd' | 'exeDeleted' | 'exeSha256' | 'package' | 'unit' | 'container' | 'netns' | 'ancestry' | 'otherSockets' | 'reasons'
>;

/** What the capture needs to know about the process it already read. */
export interface CaptureBase {
  readonly pid: number;
  readonly parentPid: number | null;
  /** Its start time: with the pid, whose late evidence it is (null: none is reported). */
  readonly startedAt: string | null;
  /** readlink of /proc/PID/exe, or null. */
  readonly exeLink: string | null;
}

/** How evidence is captured. */
export interface EvidenceOptions extends ExeDigestOptions {
  /** dpkg's database directory (tests point it at a fixture); default: the system's dpkg or rpm. */
  readonly dpkgDir?: string;
  /** How long detection waits for the hash and package lookup (default 30 ms). */
  readonly slowBudgetMs?: number;
  /** Most parents recorded (default 16). */
  readonly ancestryDepth?: number;
  /** Describes a process's sockets (default: the netlink helper where it was built, started on first need; null: /proc only). */
  readonly describer?: SocketDescriber | null;
}

/** One parent as read for the ancestry. */
export type AncestorReader = (pid: number) => Promise<(AncestorInfo & { readonly parentPid: number | null }) | null>;

const LIST_MAX = 16;
// How long a file's hash and package answer are reused: a package install or removal shows within it.
const SLOW_TTL_MS = 60_000;
const FD_MAX = 1024;
const DELETED = ' (deleted)';

/** Captures evidence, with its own hash and package caches. */
export class EvidenceCollector {
  readonly #digester: ExeDigester;
  readonly #packages: PackageDatabase;
  readonly #budget: number;
  readonly #depth: number;
  #describer: SocketDescriber | null | undefined;
  #ownHelper: NativeProbe | null = null;
  readonly #late = new Listeners<[LateEvidence]>('late evidence listener');
  readonly #known = new Map<string, { readonly hash: Promise<ExeDigest>; readonly pkg: Promise<PackageAnswer>; readonly at: number }>();

  constructor(options: EvidenceOptions = {}) {
    this.#digester = new ExeDigester(options);
    this.#packages = options.dpkgDir ? new DpkgDatabase(options.dpkgDir) : systemPackageDatabase();
    this.#budget = options.slowBudgetMs ?? 30;
    this.#depth = options.ancestryDepth ?? 16;
    this.#describer = options.describer;
  }

  /** Starts the one-off work (the package index) before the first capture needs it. */
  warm(): void {
    this.#packages.warm?.();
  }

  /** Subscribes to evidence that finished after its capture returned; returns the unsubscribe function. */
  onLate(listener: (late: LateEvidence) => void): () => void {
    return this.#late.add(listener);
  }

  /** Everything but the fields the caller already read; never throws. */
  async capture(base: CaptureBase, readAncestor: AncestorReader): Promise<Evidence> {
    const reasons: Record<string, string> = {};
    const dir = `/proc/${base.pid}`;
    const attempt = async <T>(field: string, read: () => Promise<T>): Promise<T | null> => {
      try {
        return await read();
      } catch (error) {
        reasons[field] = reasonOf(error);
        return null;
      }
    };
    const exe = stat(`${dir}/exe`);
    exe.catch(() => undefined);
    // Started first: with many sockets it is the slowest of the reads below.
    const sockets = attempt('otherSockets', () => readOtherSockets(base.pid, this.#socketDescriber()));
    const { hash, pkg } = await this.#slow(base, exe);
    const budget = new Promise<undefined>((resolve) => setTimeout(resolve, this.#budget, undefined).unref());
    const [cwd, exeDeleted, cgroup, netns, ancestry] = await Promise.all([
      attempt('cwd', () => readlink(`${dir}/cwd`)),
      attempt('exeDeleted', () => isExeDeleted(exe, base.exeLink)),
      attempt('unit', async () => parseCgroup(await readFile(`${dir}/cgroup`, 'utf8'))),
      attempt('netns', async () => Number(/\[(\d+)\]/.exec(await readlink(`${dir}/ns/net`))?.[1] ?? Number.NaN) || null),
      this.#ancestry(base.parentPid, readAncestor),
    ]);
    const [digest, answer, otherSockets] = await Promise.all([Promise.race([hash, budget]), Promise.race([pkg, budget]), Promise.race([sockets, budget])]);
    const late = `${LATE_REASON} (over ${formatInterval(this.#budget)}); the history fills it in when it finishes`;
    if ((digest === undefined || answer === undefined || otherSockets === undefined) && base.startedAt !== null) {
      void this.#report(base.pid, base.startedAt, { exeSha256: digest === undefined ? hash : null, package: answer === undefined ? pkg : null, otherSockets: otherSockets === undefined ? sockets : null, reasons });
    }
    if (cgroup && !cgroup.unit) reasons.unit = `its cgroup (${cgroup.path ?? 'unknown'}) names no systemd unit`;
    if (cgroup && !cgroup.container) reasons.container = 'not in a container (no runtime named in its cgroup)';
    if (!cgroup) reasons.container = reasons.unit!;
    if (!digest?.ok) reasons.exeSha256 = digest ? digest.reason : late;
    if (!answer?.package) reasons.package = answer ? answer.reason! : late;
    if (otherSockets === undefined) reasons.otherSockets = late;
    return {
      cwd: cwd === null ? null : cwd.endsWith(DELETED) ? cwd.slice(0, -DELETED.length) : cwd,
      exeDeleted,
      exeSha256: digest?.ok ? digest.hex : null,
      package: answer?.package ?? null,
      unit: cgroup?.unit ?? null,
      container: cgroup?.container ?? null,
      netns,
      ancestry,
      otherSockets: otherSockets ?? null,
      // A copy: a late part's failure still writes its reason into `reasons`, for #report.
      ...(Object.keys(reasons).length > 0 ? { reasons: { ...reasons } } : {}),
    };
  }

  /** Waits for the parts that missed detection and tells the listeners what they found. */
  async #report(
    pid: number,
    startedAt: string,
    parts: { exeSha256: Promise<ExeDigest> | null; package: Promise<PackageAnswer> | null; otherSockets: Promise<OtherSockets | null> | null; reasons: Record<string, string> },
  ): Promise<void> {
    const [digest, answer, otherSockets] = await Promise.all([parts.exeSha256, parts.package, parts.otherSockets]);
    const values: Record<string, unknown> = {};
    const reasons: Record<string, string> = {};
    if (digest) {
      values.exeSha256 = digest.ok ? digest.hex : null;
      if (!digest.ok) reasons.exeSha256 = digest.reason;
    }
    if (answer) {
      values.package = answer.package;
      if (!answer.package) reasons.package = answer.reason!;
    }
    if (parts.otherSockets) {
      // `attempt` wrote its reason into the capture's reasons after detection had returned them.
      values.otherSockets = otherSockets;
      if (otherSockets === null) reasons.otherSockets = parts.reasons.otherSockets ?? 'the process exited during capture';
    }
    this.#late.emit({ pid, startedAt, at: new Date().toISOString(), values, reasons });
  }

  /**
   * The hash and the package of the running executable, started once per file (device, inode,
   * size, mtime and path) and kept for SLOW_TTL_MS: a binary seen again costs one stat.
   */
  async #slow(base: CaptureBase, exe: Promise<Stats>): Promise<{ hash: Promise<ExeDigest>; pkg: Promise<PackageAnswer> }> {
    const path = base.exeLink?.endsWith(DELETED) ? base.exeLink.slice(0, -DELETED.length) : base.exeLink;
    const st = await exe.catch(() => null);
    const key = st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${path}` : null;
    const now = Date.now();
    const known = key ? this.#known.get(key) : undefined;
    if (known && known.at > now - SLOW_TTL_MS) return known;
    const hash = this.#digester.digest(base.pid);
    const pkg: Promise<PackageAnswer> = path
      ? this.#packages
          .lookup(path, async () => {
            const md5 = await this.#digester.digest(base.pid, 'md5');
            return md5.ok ? md5.hex : null;
          })
          .catch((error: unknown) => ({ package: null, reason: reasonOf(error) }))
      : Promise.resolve({ package: null, reason: 'the executable is hidden' });
    const entry = { hash, pkg, at: now };
    if (key) {
      this.#known.set(key, entry);
      if (this.#known.size > 512) this.#known.delete(this.#known.keys().next().value!);
      // A failure (the process exited mid-read) is not an answer about the file: forget it.
      void hash.then((d) => d.ok || this.#known.delete(key));
    }
    return entry;
  }

  /** Stops the netlink helper this collector started, if it did (the next capture starts it again). */
  dispose(): void {
    this.#ownHelper?.dispose();
  }

  #socketDescriber(): SocketDescriber | null {
    if (this.#describer === undefined) this.#describer = this.#ownHelper = NativeProbe.find();
    return this.#describer;
  }

  async #ancestry(parentPid: number | null, readAncestor: AncestorReader): Promise<AncestorInfo[]> {
    const chain: AncestorInfo[] = [];
    const seen = new Set<number>();
    for (let pid = parentPid; pid !== null && pid > 0 && chain.length < this.#depth && !seen.has(pid); ) {
      seen.add(pid);
      const parent = await readAncestor(pid).catch(() => null);
      if (!parent) break;
      const { parentPid: next, ...ancestor } = parent;
      chain.push(ancestor);
      pid = next;
    }
    return chain;
  }
}

/** True when the running executable was deleted, or replaced by another file at its path. */
async function isExeDeleted(exe: Promise<Stats>, exeLink: string | null): Promise<boolean | null> {
  if (exeLink === null) return null;
  if (exeLink.endsWith(DELETED)) return true;
  const [running, onDisk] = await Promise.all([exe, stat(exeLink).catch(() => null)]);
  return onDisk === null || running.ino !== onDisk.ino || running.dev !== onDisk.dev;
}

/** Where a process's own sockets are described from: the netlink helper (NativeProbe). */
export interface SocketDescriber {
  socketsOf(pid: number, held: ReadonlyMap<number, number>, timeoutMs: number): Promise<RawSocket[]>;
  socketsByInode(inodes: readonly number[], timeoutMs: number): Promise<RawSocket[]>;
}

/**
 * The process's sockets (the detected one included), summarised. Its socket descriptors come
 * from /proc/PID/fd; what they are, fastest first: copies of the descriptors through the helper
 * (root; any namespace), the helper's one dump matched by inode (Ghostport's own namespace), and
 * last its namespace's /proc/PID/net tables, which walk and print the kernel's whole tables
 * (about 25 ms at 10,000 sockets). A process holding one socket (the detected one) needs none.
 */
export async function readOtherSockets(pid: number, describer: SocketDescriber | null = null): Promise<OtherSockets> {
  const dir = `/proc/${pid}/fd`;
  // A process with thousands of descriptors is summarised from its first FD_MAX: capture stays bounded.
  const fds = (await readdir(dir)).slice(0, FD_MAX);
  const links = await Promise.all(fds.map((fd) => readlink(`${dir}/${fd}`).catch(() => '')));
  const held = new Map<number, number>();
  links.forEach((link, i) => {
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode !== undefined && !held.has(Number(inode))) held.set(Number(inode), Number(fds[i]));
  });
  if (held.size <= 1) return { listening: [], peers: [], total: held.size };
  const rows = await describeSockets(pid, held, describer);
  const listening: string[] = [];
  const peers: string[] = [];
  const endpoint = (protocol: string, address: string, port: number) => `${protocol.toUpperCase()} ${address.includes(':') ? `[${address}]` : address}:${port}`;
  for (const r of rows) {
    if (r.state === 'LISTEN' || r.state === 'BOUND' || (r.protocol === 'udp' && r.remotePort === null)) listening.push(endpoint(r.protocol, r.localAddress, r.localPort));
    else if (r.remotePort !== null && r.remoteAddress !== null) peers.push(endpoint(r.protocol, r.remoteAddress, r.remotePort));
  }
  const unique = (list: string[]) => [...new Set(list)].sort().slice(0, LIST_MAX);
  return { listening: unique(listening), peers: unique(peers), total: listening.length + peers.length };
}

const DESCRIBE_TIMEOUT_MS = 5000;

/** The TCP and UDP sockets among `held` (inode to fd), by the cheapest way that answers. */
async function describeSockets(pid: number, held: ReadonlyMap<number, number>, describer: SocketDescriber | null): Promise<RawSocket[]> {
  if (describer) {
    try {
      return await describer.socketsOf(pid, held, DESCRIBE_TIMEOUT_MS);
    } catch {
      // Refused (not root, an older kernel) or the process exited: the ways below.
    }
    const [theirs, ours] = await Promise.all([readlink(`/proc/${pid}/ns/net`).catch(() => null), readlink('/proc/self/ns/net').catch(() => null)]);
    if (theirs !== null && theirs === ours) {
      try {
        return await describer.socketsByInode([...held.keys()], DESCRIBE_TIMEOUT_MS);
      } catch {
        // The helper failed: /proc below.
      }
    }
  }
  const texts = await Promise.all(PROC_NET_FILES.map((file) => readFile(`/proc/${pid}/net/${file}`, 'latin1').catch(() => '')));
  // Nothing readable: the process is gone (the stat throws), not a process without sockets.
  if (texts.every((text) => text === '')) await stat(`/proc/${pid}/net`);
  const rows: RawSocket[] = [];
  for (const [n, file] of PROC_NET_FILES.entries()) {
    const text = texts[n]!;
    // Find each inode rather than split every line: the table may hold thousands of others' sockets.
    for (const inode of held.keys()) {
      for (let at = text.indexOf(` ${inode} `); at >= 0; at = text.indexOf(` ${inode} `, at + 1)) {
        const row = parseProcNetLine(file, text.slice(text.lastIndexOf('\n', at) + 1, text.indexOf('\n', at)));
        if (row?.inode !== inode) continue;
        rows.push(row);
        break;
      }
    }
  }
  return rows;
}

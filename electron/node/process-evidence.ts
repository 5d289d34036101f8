/**
 * The evidence a responder needs, captured from /proc/PID the moment a socket is detected,
 * before the process can vanish: working directory, deleted executable, its SHA-256 and
 * package, systemd unit and container, the parent chain, the other sockets, the network
 * namespace. Every field is read independently: one that cannot be read (the process exited
 * mid-capture, permissions) is null with its reason in `reasons`, and the rest is kept.
 *
 * The slow parts (hashing the executable, the package lookup, the socket tables) run beside the rest and are
 * waited for at most `slowBudgetMs`: detection is never held up by a large binary. They go on
 * after that and are cached (by file identity, by path), so the next capture has them at once.
 */
import { readFile, readlink, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { parseCgroup } from '#common/cgroup.ts';
import type { AncestorInfo, OtherSockets, ProcessInfo } from '#common/model.ts';
import { ExeDigester, reasonOf } from './exe-digest.ts';
import type { ExeDigest, ExeDigestOptions } from './exe-digest.ts';
import { DpkgDatabase, systemPackageDatabase } from './package-db.ts';
import type { PackageAnswer, PackageDatabase } from './package-db.ts';
import { decodeProcNetAddress } from './proc-net.ts';

/** The evidence fields of ProcessInfo. */
export type Evidence = Pick<
  ProcessInfo,
  'cwd' | 'exeDeleted' | 'exeSha256' | 'package' | 'unit' | 'container' | 'netns' | 'ancestry' | 'otherSockets' | 'reasons'
>;

/** What the capture needs to know about the process it already read. */
export interface CaptureBase {
  readonly pid: number;
  readonly parentPid: number | null;
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
  readonly #known = new Map<string, { readonly hash: Promise<ExeDigest>; readonly pkg: Promise<PackageAnswer>; readonly at: number }>();

  constructor(options: EvidenceOptions = {}) {
    this.#digester = new ExeDigester(options);
    this.#packages = options.dpkgDir ? new DpkgDatabase(options.dpkgDir) : systemPackageDatabase();
    this.#budget = options.slowBudgetMs ?? 30;
    this.#depth = options.ancestryDepth ?? 16;
  }

  /** Starts the one-off work (the package index) before the first capture needs it. */
  warm(): void {
    this.#packages.warm?.();
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
    const { hash, pkg } = await this.#slow(base, exe);
    const budget = new Promise<undefined>((resolve) => setTimeout(resolve, this.#budget, undefined).unref());
    const [cwd, exeDeleted, cgroup, netns, ancestry] = await Promise.all([
      attempt('cwd', () => readlink(`${dir}/cwd`)),
      attempt('exeDeleted', () => isExeDeleted(exe, base.exeLink)),
      attempt('unit', async () => parseCgroup(await readFile(`${dir}/cgroup`, 'utf8'))),
      attempt('netns', async () => Number(/\[(\d+)\]/.exec(await readlink(`${dir}/ns/net`))?.[1] ?? Number.NaN) || null),
      this.#ancestry(base.parentPid, readAncestor),
    ]);
    const sockets = attempt('otherSockets', () => readOtherSockets(base.pid));
    const [digest, answer, otherSockets] = await Promise.all([Promise.race([hash, budget]), Promise.race([pkg, budget]), Promise.race([sockets, budget])]);
    const late = `still being computed at detection (over ${this.#budget} ms); the live details show it`;
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
      ...(Object.keys(reasons).length > 0 ? { reasons } : {}),
    };
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

/**
 * The process's sockets (the detected one included), summarised from its open file descriptors
 * and its network namespace's tables. Reading /proc/PID/net/tcp walks the kernel's whole TCP
 * hash table (10-30 ms here even when nearly empty), so it is skipped when the process holds a
 * single socket (the detected one) and is otherwise one of the parts detection does not wait for.
 */
export async function readOtherSockets(pid: number): Promise<OtherSockets> {
  const dir = `/proc/${pid}/fd`;
  // A process with thousands of descriptors is summarised from its first FD_MAX: capture stays bounded.
  const links = await Promise.all((await readdir(dir)).slice(0, FD_MAX).map((fd) => readlink(`${dir}/${fd}`).catch(() => '')));
  const inodes = new Set(links.map((link) => /^socket:\[(\d+)\]$/.exec(link)?.[1]).filter((inode): inode is string => inode !== undefined));
  const listening: string[] = [];
  const peers: string[] = [];
  if (inodes.size > 1) {
    const files = ['tcp', 'tcp6', 'udp', 'udp6'] as const;
    const texts = await Promise.all(files.map((file) => readFile(`/proc/${pid}/net/${file}`, 'latin1').catch(() => '')));
    for (const [n, file] of files.entries()) {
      const text = texts[n]!;
      // Find each inode rather than split every line: the table may hold thousands of others' sockets.
      for (const inode of inodes) {
        for (let at = text.indexOf(` ${inode} `); at >= 0; at = text.indexOf(` ${inode} `, at + 1)) {
          const f = text.slice(text.lastIndexOf('\n', at) + 1, text.indexOf('\n', at)).trim().split(/\s+/);
          if (f[9] !== inode) continue;
          const proto = file.slice(0, 3).toUpperCase();
          const [lh, lp] = f[1]!.split(':');
          const [rh, rp] = f[2]!.split(':');
          const remotePort = Number.parseInt(rp ?? '0', 16);
          const endpoint = (hex: string, port: number) => {
            const address = decodeProcNetAddress(hex);
            return `${proto} ${address.includes(':') ? `[${address}]` : address}:${port}`;
          };
          if (proto === 'TCP' ? f[3] === '0A' : remotePort === 0) listening.push(endpoint(lh!, Number.parseInt(lp!, 16)));
          else if (remotePort !== 0) peers.push(endpoint(rh!, remotePort));
          break;
        }
      }
    }
  }
  const unique = (list: string[]) => [...new Set(list)].sort().slice(0, LIST_MAX);
  return { listening: unique(listening), peers: unique(peers), total: inodes.size > 1 ? listening.length + peers.length : inodes.size };
}

/**
 * Finds every socket on the watched ports and its owner.
 *
 * systeminformation's `networkConnections()` is the portable source: on macOS and Windows, and
 * on Linux when `ss` is missing. On Linux its backend (`netstat -tunap | grep <states>`) misses
 * unconnected UDP sockets, truncates long IPv6 addresses and program names, returns `[]` without
 * error when neither netstat nor ss exists, lists (and walks the owners of) every socket on the
 * host for each call — 230 ms and a lasting +100 MB of RSS at 10,000 sockets in our benchmark —
 * and, run beside another source, sees sockets at another instant. So on Linux the kernel
 * answers directly:
 * - the steady-state probe, every poll: /proc/net read in this process while the socket tables
 *   are small and it is the first probe (a one-shot scan starts no child process), and otherwise
 *   (large tables, a watch's later polls) the kernel-filtered dump without owners: the netlink helper ghostport-diag (one open NETLINK_SOCK_DIAG socket, the kernel's
 *   port filter) where it was built, else the kernel-filtered `ss` without owners run from one
 *   long-lived small shell rather than a fork of the engine per poll;
 * - the owner lookup, only when the probe's set changes: one walk of every process's descriptors
 *   in this process (withOwners). So where /proc/net or the netlink helper answers, `ss` is not
 *   needed at all, and a broken one changes nothing; only where neither can (a /proc without
 *   net/, as systemd's ProcSubset=pid gives, and no helper) does a broken `ss` make a scan blind.
 */
import type { Family, HealthIssue, HealthLevel } from '#common/model.ts';
import {
  endpointKey,
  fromSiConnection,
  parseSsOutput,
  touchesPorts,
  type RawSocket,
  type SiConnection,
} from '#common/socket-parse.ts';
import { runCommand } from './run-command.ts';
import { escapeUnsafe, formatInterval } from '#common/display-text.ts';
import { isLingering } from '#common/socket-identity.ts';
import { readProcNet, socketTableSize } from './proc-net.ts';
import { ShellCoprocess } from './shell-coprocess.ts';
import { NativeProbe } from './native-probe.ts';
import { socketFds, listNetns, netnsOfPid, ownersOfInodes, stillHolds, type Netns, type OwnersFound, type NetnsRoots } from './netns.ts';
import { errorMessage } from '#common/error-message.ts';
import { readdirSync } from 'node:fs';

/** What one scan saw, before owners are captured. */
export interface RawScan {
  readonly sockets: readonly RawSocket[];
  readonly health: HealthLevel;
  readonly issues: readonly HealthIssue[];
  /** Whether this came from the cheap probe (unchanged since the last full scan). */
  readonly reused: boolean;
}

/** The TCP socket a kernel event names: the process it ran in, and the endpoint. */
export interface KernelNamed {
  readonly pid: number;
  readonly family: Family;
  readonly localAddress: string;
  readonly localPort: number;
  readonly state: string;
}

/** A source of sockets on the watched ports. */
export interface Scanner {
  scan(ports: readonly number[]): Promise<RawScan>;
  /**
   * The one socket a kernel event names, read at once as a scan would report it (inode, holder,
   * namespace), from that process's namespace and descriptors only; null when it cannot be
   * pinned down (gone already, held by another process): the scan the event prompts decides.
   */
  socketOf?(named: KernelNamed): RawSocket | null;
  /** Stops the helper processes it started, if any. */
  dispose?(): void;
}

/** The arguments of a kernel-filtered ss (without owners) for the watched ports. */
export function ssArgs(ports: readonly number[]): string[] {
  return ['-H', '-tuane', `( ${ports.map((p) => `sport = :${p} or dport = :${p}`).join(' or ')} )`];
}

/** Runs the filtered ss; `null` when ss is not installed. Throws when it fails or prints only what cannot be read. */
async function runSs(ports: readonly number[], timeoutMs: number, viaShell?: ShellCoprocess): Promise<SsRows | null> {
  const args = ssArgs(ports);
  let result = viaShell ? await viaShell.run('ss', args, timeoutMs) : await runCommand('ss', args, { timeoutMs });
  // Whatever went wrong in the shell (short of a hang), ask once more directly: its error
  // message is the real one.
  if (viaShell && result.kind === 'failed' && !result.message.includes('did not answer')) result = await runCommand('ss', args, { timeoutMs });
  if (result.kind === 'missing') return null;
  if (result.kind === 'failed') throw new Error(result.message);
  const portSet = new Set(ports);
  const parsed = parseSsOutput(result.stdout);
  // Output that does not parse is not "nothing there": an empty answer would be a false "clear".
  if (parsed.skipped > 0 && parsed.sockets.length === 0) {
    const first = result.stdout.split('\n').find((l) => l.trim() !== '') ?? '';
    throw new Error(`ss printed ${parsed.skipped} line(s) Ghostport cannot read, e.g. "${escapeUnsafe(first).slice(0, 80)}"`);
  }
  // The kernel filter already selects the ports; the check here guards against a filter ss ignored.
  return { rows: parsed.sockets.filter((s) => touchesPorts(s, portSet)), skipped: parsed.skipped };
}

/** What ss gave: the rows on the watched ports, and how many lines could not be read. */
interface SsRows {
  readonly rows: RawSocket[];
  readonly skipped: number;
}

/** Why systeminformation gave no rows this scan. */
class SiUnavailable extends Error {}

/**
 * systeminformation's connection list on the watched ports. It runs `netstat | grep` through a
 * shell with no timeout and does not expose the child, so it cannot be killed: at most one query
 * is in flight, and a scan never waits on (nor uses the stale answer of) one started by an
 * earlier scan.
 */
function createSiConnections(timeoutMs: number): (ports: readonly number[]) => Promise<RawSocket[]> {
  let inFlight: Promise<SiConnection[]> | null = null;
  return async (ports) => {
    if (inFlight) throw new SiUnavailable('systeminformation is still busy with an earlier query that did not answer');
    // Loaded on first use: the Linux scanner never needs it, and it costs a one-shot scan ~40 ms.
    const query = (import('systeminformation').then(({ default: si }) => si.networkConnections()) as Promise<SiConnection[]>).finally(() => {
      if (inFlight === query) inFlight = null;
    });
    inFlight = query;
    const portSet = new Set(ports);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SiUnavailable(`systeminformation did not answer within ${formatInterval(timeoutMs)}`)), timeoutMs);
    });
    try {
      const rows = await Promise.race([query, timeout]);
      return rows.flatMap((row) => {
        const s = fromSiConnection(row);
        return s && touchesPorts(s, portSet) ? [s] : [];
      });
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The probe's fingerprint: live sockets only, so a TIME_WAIT coming or going costs no owner lookup. */
function probeKey(rows: readonly RawSocket[]): string {
  return rows
    .filter((r) => !isLingering(r))
    .map((r) => `${endpointKey(r)}|${r.state}|${r.inode ?? ''}`)
    .sort()
    .join('\n');
}

/** Above this many sockets in the namespace, the kernel-filtered ss is cheaper than reading /proc/net. */
export const PROC_NET_MAX_SOCKETS = 2500;

/** The portable scanner: systeminformation (macOS, Windows, the rest). */
export function createPortableScanner(timeoutMs: number): Scanner {
  const siConnections = createSiConnections(timeoutMs);
  return {
    async scan(ports) {
      const sockets = await siConnections(ports);
      return { sockets, health: 'ok', issues: [], reused: false };
    },
  };
}

/** Options of the Linux scanner. */
export interface LinuxScannerOptions {
  /**
   * A one-shot scan: small tables are read from /proc/net in this process, so a clear scan starts
   * no process, at the price of TCP sockets that are only bound (no /proc/net table lists them).
   * Otherwise (a watch) every table is asked of the helper, which lists them, from the first poll.
   */
  readonly oneShot?: boolean;
}

/** The Linux scanner: the kernel's tables in every network namespace, ss where they cannot be read, and systeminformation only without ss. */
export function createLinuxScanner(timeoutMs: number, roots?: NetnsRoots, options: LinuxScannerOptions = {}): Scanner {
  const proc = roots?.proc ?? '/proc';
  // The last full lookup, and by which descriptor each owner held its socket: checked every poll
  // (one readlink each), so an owner that exits or hands the socket on is looked up again.
  let last: { key: string; portsKey: string; scan: RawScan; holders: Holder[] } | null = null;
  // For large tables, the netlink helper (electron/node/native/ghostport-diag.c) where it was
  // built: one open netlink socket and the kernel's port filter, about a third of ss's CPU.
  // Otherwise the probe's ss runs in one long-lived small shell: forking the engine every poll
  // costs more than ss itself (see shell-coprocess.ts). Both start lazily.
  let native: NativeProbe | null | undefined;
  const helper = () => (native === undefined ? (native = NativeProbe.find()) : native);
  const probeShell = new ShellCoprocess();
  const siConnections = createSiConnections(timeoutMs);
  // A one-shot scan reads a small table from /proc/net in-process, so it starts no process. A
  // watch takes the helper at any size: only its dump lists TCP sockets that are only bound, and
  // filtered in the kernel it costs the idle poll less CPU than the kernel printing four tables
  // (at 1,000 sockets 1.3 ms against 3.4 ms, with one 0.28 against 2.2; tests/bench/idle-watch.ts).
  const inProcess = (size: number | null) => size !== null && size <= PROC_NET_MAX_SOCKETS && (options.oneShot === true || helper() === null);
  /** The host namespace's rows; null when no source can answer but systeminformation. */
  const probe = async (ports: readonly number[]): Promise<SsRows | null> => {
    const small = inProcess(socketTableSize(proc));
    // Null when /proc/net cannot be read (a hardened /proc): the other sources.
    const fromProc = (): SsRows | null => {
      try {
        return { rows: readProcNet(ports, `${proc}/net`), skipped: 0 };
      } catch {
        return null;
      }
    };
    const read = small ? fromProc() : null;
    if (read) return read;
    const diag = helper();
    if (diag) {
      try {
        return { rows: await diag.probe(ports, timeoutMs), skipped: 0 };
      } catch {
        // The helper failed or hung (and was killed): ss answers this poll; the next tries again.
      }
    }
    let ss: SsRows | null = null;
    let failure: unknown = null;
    try {
      ss = await runSs(ports, timeoutMs, probeShell);
    } catch (error) {
      failure = error;
    }
    if (ss !== null && ss.skipped === 0) return ss;
    // ss missing or broken: a large table read from /proc/net costs more, but it answers.
    const full = small ? null : fromProc();
    if (full) return full;
    if (failure !== null) throw failure;
    return ss;
  };
  /** Another namespace's rows: through a process inside it, else by entering the named one. */
  const probeNetns = async (ports: readonly number[], ns: Netns): Promise<RawSocket[]> => {
    for (const pid of ns.pids) {
      // Through the helper, entering the namespace by this process's link, as the host's is read
      // (root only: not root, its tables below): /proc/PID/net prints every socket (12 ms at
      // 10,000), the dump is filtered in the kernel (2 ms) and lists the sockets only bound.
      const diag = inProcess(socketTableSize(`/proc/${pid}`)) || process.getuid?.() !== 0 ? null : helper();
      if (diag) {
        try {
          return await diag.probe(ports, timeoutMs, `/proc/${pid}/ns/net`);
        } catch {
          // Not allowed to enter it (not root), or the helper failed: its tables below.
        }
      }
      try {
        return readProcNet(ports, `/proc/${pid}/net`);
      } catch {
        // That process exited: try the next one inside.
      }
    }
    if (ns.path === null) return []; // Every process inside exited: the namespace is gone.
    const diag = helper();
    if (diag) return diag.probe(ports, timeoutMs, ns.path);
    const result = await runCommand('nsenter', [`--net=${ns.path}`, 'ss', ...ssArgs(ports)], { timeoutMs });
    if (result.kind !== 'ok') throw new Error(result.message);
    const parsed = parseSsOutput(result.stdout);
    if (parsed.skipped > 0) throw new Error(`ss printed ${parsed.skipped} line(s) Ghostport cannot read`);
    return parsed.sockets;
  };
  /** Every socket inode on the watched ports now, in every namespace listed; null when some table cannot be read. */
  const liveInodes = async (ports: readonly number[], others: readonly Netns[]): Promise<Set<number> | null> => {
    try {
      const host = await probe(ports);
      if (host === null) return null;
      const rows = [...host.rows];
      for (const ns of others) rows.push(...(await probeNetns(ports, ns)));
      return new Set(rows.flatMap((r) => (r.inode ? [r.inode] : [])));
    } catch {
      return null;
    }
  };
  // The namespaces' labels as the last scan named them, so a socket read for a kernel event is
  // labelled as the scan will label it (a named namespace by its name).
  let labels = new Map<number, string>();
  return {
    async scan(ports) {
      const portsKey = ports.join(',');
      const spaces = listNetns(roots);
      labels = new Map([spaces.host, ...spaces.others].map((ns) => [ns.inode, ns.label]));
      const host = { inode: spaces.host.inode, host: true, label: spaces.host.label };
      const issues: HealthIssue[] = [];
      if (spaces.hidden > 0) {
        issues.push({
          code: 'namespaces-hidden',
          message: `The socket tables of ${spaces.hidden} processes cannot be read (hidden by /proc's hidepid or a security module): a socket on the watched ports in their network namespace would be missed.`,
          hint: 'Run Ghostport as root (sudo) so that it can read every network namespace.',
        });
      }
      const others: RawSocket[] = [];
      for (const ns of spaces.others) {
        const netns = { inode: ns.inode, host: false, label: ns.label };
        try {
          for (const row of await probeNetns(ports, ns)) others.push({ ...row, netns });
        } catch (error) {
          issues.push({
            code: 'partial-socket-source',
            message: `Cannot read the sockets of network namespace ${ns.label}: ${errorMessage(error)}.`,
            hint: 'Ghostport keeps retrying; `ip netns exec NAME ss -tuan` shows them by hand.',
          });
        }
      }
      const probed = await probe(ports);
      const hostScan = probed === null ? await scanWithoutSs(ports, siConnections) : fromSs(probed);
      const rows = [...hostScan.sockets.map((r) => ({ ...r, netns: host })), ...others];
      const key = probed === null || probed.skipped > 0 ? null : probeKey(rows);
      let scan: RawScan;
      if (key !== null && last && last.portsKey === portsKey && last.key === key && last.holders.every((h) => stillHolds(h))) {
        // Unchanged: the owners found last time still hold; only the leftovers are refreshed.
        const live = last.scan.sockets.filter((s) => !isLingering(s));
        scan = { ...last.scan, sockets: [...live, ...rows.filter(isLingering)], reused: true };
      } else {
        let sockets = withOwners(rows, proc);
        // A socket that closed between the tables' read and the walk has no holder left to find
        // (ss -p, which read the holders first, never listed it): read the tables once more, only
        // then, and leave out what is gone, rather than announce it as held by no process (or, when
        // some process's descriptors could not be read, as one whose owner is hidden: a kernel
        // event that named its process then lost to that scan).
        if (probed !== null && sockets.some(holderNotFound)) {
          const still = await liveInodes(ports, spaces.others);
          if (still) sockets = sockets.filter((r) => !holderNotFound(r) || still.has(r.inode!));
        }
        scan = { ...hostScan, sockets };
        const holders = holdersOf(scan.sockets);
        last = key === null || scan.health !== 'ok' || holders === null ? null : { key, portsKey, scan, holders };
      }
      if (issues.length === 0) return scan;
      return { ...scan, health: scan.health === 'blind' ? 'blind' : 'degraded', issues: [...scan.issues, ...issues] };
    },
    socketOf(named) {
      const proc = roots?.proc ?? '/proc';
      const netns = netnsOfPid(named.pid, proc);
      if (netns === null) return null;
      let rows: RawSocket[];
      try {
        rows = readProcNet([named.localPort], `${proc}/${named.pid}/net`, [named.family === 6 ? 'tcp6' : 'tcp']);
      } catch {
        return null;
      }
      // Held by the process the event ran in (a scan names the same holder), else the scan decides.
      const held = socketFds(named.pid, proc);
      const candidates = rows.filter((r) => r.protocol === 'tcp' && r.localPort === named.localPort && r.state === named.state && r.inode && held.has(r.inode));
      // The event's address is the socket's source address, which the kernel may leave 0.0.0.0
      // for a bound one (a loopback address while lo is down): the table's is the truth.
      const row = candidates.find((r) => r.localAddress === named.localAddress) ?? (candidates.length === 1 ? candidates[0] : undefined);
      if (!row) return null;
      return { ...row, pid: named.pid, pids: [named.pid], netns: { ...netns, label: labels.get(netns.inode) ?? netns.label } };
    },
    dispose() {
      native?.dispose();
      probeShell.dispose();
    },
  };
}

interface Holder {
  readonly pid: number;
  readonly fd: number;
  readonly inode: number;
}

/** Who holds each live socket by which descriptor; null when some live socket has no holder to watch (look again every poll). */
function holdersOf(rows: readonly RawSocket[]): Holder[] | null {
  const holders: Holder[] = [];
  // One walk of each owner's descriptors, however many sockets it holds.
  const fdsOf = new Map<number, Map<number, number>>();
  for (const r of rows) {
    if (isLingering(r) || !r.inode) continue;
    // A socket none holds (in flight, parked in a Unix socket's queue) is looked up again every
    // poll until someone takes it; one whose holder is hidden stays hidden anyway.
    if (r.pid === null) {
      if (r.ownerHidden) continue;
      return null;
    }
    let fds = fdsOf.get(r.pid);
    if (!fds) fdsOf.set(r.pid, (fds = socketFds(r.pid)));
    const fd = fds.get(r.inode);
    if (fd === undefined) return null;
    holders.push({ pid: r.pid, fd, inode: r.inode });
  }
  return holders;
}

/**
 * The owner lookup: which processes hold each live socket that has no owner yet (netstat names
 * its own), from one walk of every process's descriptors (/proc/PID/fd), listed after the socket
 * tables were read, whatever namespace the socket or the process is in (a descriptor may be passed
 * out of its namespace; socket inodes are unique on the host). When nothing live is on the ports
 * it walks nothing. A process whose descriptors cannot be read (another user's, when not root) is
 * passed over, as `ss -p` passes over it; the walk counts them, so a socket not found is "owner
 * hidden" whenever some process's descriptors could not be read (not root, or root without
 * CAP_SYS_PTRACE / CAP_DAC_READ_SEARCH), and "held by no process" only when none was hidden.
 */
function withOwners(rows: readonly RawSocket[], proc: string): RawSocket[] {
  const missing = new Set(rows.filter(holderNotFound).map((r) => r.inode!));
  if (missing.size === 0) return [...rows];
  let found: OwnersFound | null = null;
  try {
    const pids = readdirSync(proc).filter((name) => /^\d+$/.test(name)).map(Number);
    found = ownersOfInodes(missing, pids, proc);
  } catch {
    // /proc unreadable: no holder can be ruled out.
  }
  // Not root, processes hidden by hidepid are not even listed.
  const hidden = found === null || found.unreadable > 0 || process.getuid?.() !== 0;
  return rows.map((r) => {
    if (r.pid !== null || !r.inode || !missing.has(r.inode)) return r;
    const pids = found?.owners.get(r.inode);
    if (pids && pids.length > 0) return { ...r, pid: pids[0]!, pids };
    return hidden ? { ...r, ownerHidden: true } : r;
  });
}

/** A live socket the owner lookup found no holder for (none holds it, or its holder is hidden). */
function holderNotFound(r: RawSocket): boolean {
  return r.pid === null && !isLingering(r) && Boolean(r.inode);
}

function fromSs(ss: SsRows): RawScan {
  if (ss.skipped === 0) return { sockets: ss.rows, health: 'ok', issues: [], reused: false };
  return {
    sockets: ss.rows,
    health: 'degraded',
    issues: [
      {
        code: 'partial-socket-source',
        message: `ss printed ${ss.skipped} line(s) Ghostport cannot read: a socket on the watched ports may be missing from this list.`,
        hint: 'Check that `ss -tuane` works in a terminal; Ghostport keeps retrying.',
      },
    ],
    reused: false,
  };
}

/** Linux without ss: systeminformation (netstat) is the only source left, or none at all. */
async function scanWithoutSs(ports: readonly number[], siConnections: (ports: readonly number[]) => Promise<RawSocket[]>): Promise<RawScan> {
  const netstat = await runCommand('netstat', ['--version'], { timeoutMs: 5000 });
  if (netstat.kind === 'missing') {
    return {
      sockets: [],
      health: 'blind',
      issues: [
        {
          code: 'no-socket-source',
          message: 'Cannot see sockets: the kernel\'s socket tables cannot be read here (no /proc/net, no netlink helper) and neither ss nor netstat is installed, so port 596 cannot be checked.',
          hint: 'Install iproute2 (ss), e.g. `sudo apt install iproute2`, then scan again.',
        },
      ],
      reused: false,
    };
  }
  const siRows = await siConnections(ports);
  return {
    sockets: siRows,
    health: 'degraded',
    issues: [
      {
        code: 'partial-socket-source',
        message: 'ss is not installed: unconnected UDP sockets and long IPv6 addresses cannot be seen.',
        hint: 'Install iproute2 (ss), e.g. `sudo apt install iproute2`.',
      },
    ],
    reused: false,
  };
}

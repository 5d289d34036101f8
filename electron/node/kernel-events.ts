/**
 * TCP state changes on the watched ports as the kernel makes them, between two polls (Linux,
 * root): a private tracefs instance (`instances/ghostport-<pid>-<random>`) with the tracepoint
 * `sock/inet_sock_set_state` filtered in the kernel on the watched ports, read from its
 * trace_pipe by a `cat` child (a blocking read must not hold one of Node's threads), which dies
 * with us (PR_SET_PDEATHSIG through setpriv).
 *
 * Never left behind: the instance is removed on stop, stale ones of dead Ghostports on start
 * (one in use by a live reader cannot be removed: the kernel answers EBUSY, so another live
 * Ghostport's instance is safe), and tracefs is unmounted only if we mounted it.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
// Loaded when kernel events start, not with the engine: a one-shot scan never starts them.
const childProcess = () => process.getBuiltinModule('node:child_process');
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { errorMessage } from '#common/error-message.ts';
import { normalizeAddress } from '#common/socket-parse.ts';
import { killAndWait, unrefChild } from './helper-process.ts';
import type { Family, Protocol } from '#common/model.ts';

/** One state change of a socket on a watched port (TCP from tracefs, UDP from eBPF). */
export interface KernelTransition {
  /** Absent: TCP. */
  readonly protocol?: Protocol;
  readonly family: Family;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
  /** netstat's names: LISTEN, SYN_SENT, ESTABLISHED, CLOSE... */
  readonly oldState: string;
  readonly newState: string;
  /** The process the change ran in, when it ran in one (not in softirq context), else null. */
  readonly pid: number | null;
  readonly comm: string | null;
  /** The kernel's timestamp of the change (seconds, as the trace prints it): the same for every reader. */
  readonly stamp: string;
  /** eBPF: the kernel's cookie of the socket, so that its close names the socket its connect or bind did. */
  readonly cookie?: string;
  /** eBPF: a datagram sent to a watched port, an instant: the socket is reported as it was then. */
  readonly datagram?: boolean;
  /** eBPF: the socket's own network namespace inode, as the kernel knows it. */
  readonly netnsInode?: number;
}

/** A kernel source that is not running, why, and what goes unseen for it. */
export interface KernelEventGap {
  readonly reason: string;
  /** It should have worked here (root, first PID namespace) and did not: health says so. */
  readonly fault: boolean;
  /** What can be missed without it ("UDP datagrams sent from unconnected sockets"). */
  readonly misses: string;
  /** What to do, for the health issue of a fault. */
  readonly hint: string;
}

/** Whether kernel events are flowing (and which parts are not), and if not at all, why. */
export type KernelEventStatus =
  | { readonly active: true; readonly covers: string; readonly gaps?: readonly KernelEventGap[] }
  | ({ readonly active: false } & KernelEventGap);

/** How a running kernel source is doing. */
export interface KernelEventCondition {
  readonly lost: number;
  readonly coalesced: number;
  readonly failure: string | null;
  /** Times a helper that died was started again (kernel-restarts.ts). */
  readonly restarts?: number;
}

/** A source of kernel socket events. */
export interface KernelEventSource {
  /**
   * Starts delivering batches of transitions on the watched ports (an empty batch: its condition
   * changed, e.g. events were lost); resolves with whether it could.
   */
  start(ports: readonly number[], onBatch: (batch: readonly KernelTransition[]) => void): Promise<KernelEventStatus>;
  /** Follows the watched ports (the kernel filter is rewritten in place). */
  setPorts(ports: readonly number[]): void;
  /** Stops and removes everything it set up. */
  stop(): Promise<void>;
  /**
   * Since start: events the kernel had no room for, repeats it counted instead of reporting, and
   * why it stopped delivering when it did (a helper that died: it then delivers an empty batch).
   */
  condition?(): KernelEventCondition;
  /**
   * Whether it runs now, where that can change after start (a source that failed at start and is
   * tried again: kernel-restarts.ts); null before start and after stop.
   */
  status?(): KernelEventStatus | null;
}

/** The status of a source whose start threw. */
export function failedStart(error: unknown): KernelEventStatus {
  return { active: false, reason: errorMessage(error), fault: true, misses: 'sockets that live less than one poll interval', hint: 'Ghostport keeps polling meanwhile.' };
}

/**
 * Several kernel sources as one (tracefs for TCP, eBPF for UDP): active when any is, with what
 * each covers and, for those that are not running, what goes unseen and why.
 */
export function combineKernelEvents(sources: readonly KernelEventSource[]): KernelEventSource {
  let started: readonly KernelEventStatus[] | null = null;
  const statuses = () => started && sources.map((source, i) => source.status?.() ?? started![i]!);
  const status = (): KernelEventStatus | null => {
    const now = statuses();
    if (now === null) return null;
    const gaps = now.filter((s) => !s.active);
    const on = now.filter((s) => s.active);
    if (on.length === 0) {
      return { active: false, reason: [...new Set(gaps.map((g) => g.reason))].join('; '), fault: gaps.some((g) => g.fault), misses: gaps.map((g) => g.misses).join('; '), hint: gaps.find((g) => g.fault)?.hint ?? gaps[0]!.hint };
    }
    return { active: true, covers: on.map((s) => s.covers).join('; '), gaps };
  };
  return {
    async start(ports, onBatch) {
      started = await Promise.all(sources.map((source) => source.start(ports, onBatch).catch(failedStart)));
      return status()!;
    },
    setPorts(ports) {
      for (const source of sources) source.setPorts(ports);
    },
    async stop() {
      started = null;
      await Promise.all(sources.map((source) => source.stop()));
    },
    condition() {
      const now = statuses() ?? [];
      const all = sources.filter((_, i) => now[i]?.active).map((source) => source.condition?.() ?? { lost: 0, coalesced: 0, failure: null });
      const failures = all.flatMap((c) => (c.failure === null ? [] : [c.failure]));
      const sum = (count: (c: KernelEventCondition) => number) => all.reduce((n, c) => n + count(c), 0);
      return { lost: sum((c) => c.lost), coalesced: sum((c) => c.coalesced), failure: failures.length > 0 ? failures.join('; ') : null, restarts: sum((c) => c.restarts ?? 0) };
    },
    status,
  };
}

const LINE =
  /^\s*(.+?)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[\d+\]\s+(\S+)\s+([\d.]+):\s+inet_sock_set_state:\s+family=AF_INET(6?)\s+protocol=IPPROTO_TCP\s+sport=(\d+)\s+dport=(\d+)\s+saddr=\S+\s+daddr=\S+\s+saddrv6=(\S+)\s+daddrv6=(\S+)\s+oldstate=TCP_(\w+)\s+newstate=TCP_(\w+)/;

/** Parses one trace_pipe line of inet_sock_set_state, or returns null. */
export function parseTraceLine(line: string): KernelTransition | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const [, comm, pid, flags, stamp, six, sport, dport, saddr, daddr, oldState, newState] = m as unknown as string[];
  // Third flag: 's'/'h'/'H' when the change ran in interrupt context, in whatever task was current.
  const inProcess = flags!.length >= 3 && flags![2] === '.' && pid !== '0';
  const state = (s: string) => (s === 'NEW_SYN_RECV' ? 'SYN_RECV' : s);
  const remotePort = Number(dport);
  return {
    family: six ? 6 : 4,
    localAddress: normalizeAddress(saddr!),
    localPort: Number(sport),
    remoteAddress: remotePort === 0 ? null : normalizeAddress(daddr!),
    remotePort: remotePort === 0 ? null : remotePort,
    oldState: state(oldState!),
    newState: state(newState!),
    pid: inProcess ? Number(pid) : null,
    comm: inProcess ? comm!.trim() : null,
    stamp: stamp!,
  };
}

/**
 * The events the kernel had no room for, from a trace_pipe line that says so (the ring buffer of
 * one CPU was full: `CPU:1 [LOST 42 EVENTS]`, or `CPU:1 [LOST EVENTS]` without a count, taken as
 * one), or null for any other line.
 */
export function parseLostLine(line: string): number | null {
  const m = /^CPU:\d+ \[LOST (?:(\d+) )?EVENTS\]/.exec(line);
  return m ? (m[1] === undefined ? 1 : Number(m[1])) : null;
}

/**
 * The process a thread belongs to (its thread group). The trace names the thread the change ran
 * in: a program's other threads, io_uring's io-wq workers (`iou-wrk-PID`) and SQPOLL thread
 * (`iou-sqp-PID`) have ids of their own, and the owner is their process. A thread already gone
 * keeps its own id.
 */
function processOf(tid: number): number {
  try {
    return Number(/^Tgid:\s+(\d+)$/m.exec(readFileSync(`/proc/${tid}/status`, 'latin1'))?.[1] ?? tid) || tid;
  } catch {
    return tid;
  }
}

/** The kernel filter for these ports. */
export function traceFilter(ports: readonly number[]): string {
  return ports.map((p) => `sport == ${p} || dport == ${p}`).join(' || ');
}

const MOUNTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
// Run as root: the tools come from the system's own directories, never from PATH.
const SYSTEM_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

/** A system tool by absolute path, or null. */
export function systemTool(name: string): string | null {
  return SYSTEM_DIRS.map((d) => `${d}/${name}`).find((p) => existsSync(p)) ?? null;
}
const EVENT = 'events/sock/inet_sock_set_state';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True in the first PID namespace, where the kernel's pids are Ghostport's. */
export function initPidNamespace(): boolean {
  try {
    // PROC_PID_INIT_INO: the first PID namespace's inode is fixed.
    return readlinkSync('/proc/self/ns/pid') === 'pid:[4026531836]';
  } catch {
    return false;
  }
}

/** Why kernel events are off inside a container (every kernel source says the same). */
export const OWN_PID_NAMESPACE = "Ghostport runs in a PID namespace of its own (a container), where the kernel's events cannot be matched to its processes";
const TCP_MISSES = 'TCP sockets that live less than one poll interval';
const TCP_HINT = 'Check that tracefs can be mounted (mount -t tracefs nodev /sys/kernel/tracing); Ghostport keeps polling meanwhile.';

/** An unread instance older than this is a leftover, whatever its pid (a start takes milliseconds). */
const STALE_AFTER_MS = 60_000;

/** Options: where tracefs is, and the instance's name (tests use their own). */
export interface TracefsOptions {
  readonly name?: string;
  readonly mounts?: readonly string[];
}

/** Kernel events from tracefs. */
export function createTracefsEvents(options: TracefsOptions = {}): KernelEventSource {
  // Our pid names it (a dead Ghostport's leftovers are found by theirs); the suffix keeps two
  // engines in one process (app and service) on separate instances.
  // Named when started: an engine that never starts them (a one-shot scan) loads no crypto.
  let named = options.name;
  const name = () => (named ??= `ghostport-${process.pid}-${process.getBuiltinModule('node:crypto').randomBytes(4).toString('hex')}`);
  const mounts = options.mounts ?? MOUNTS;
  let root: string | null = null;
  let mountedByUs: string | null = null;
  let reader: ChildProcessWithoutNullStreams | null = null;
  let stopping = false;
  let failure: string | null = null;
  let lost = 0;
  const instance = () => `${root}/instances/${name()}`;

  const findOrMount = (): string | null => {
    const found = mounts.find((m) => existsSync(`${m}/instances`));
    if (found) return found;
    const target = mounts[0]!;
    const mount = systemTool('mount');
    if (mount && childProcess().spawnSync(mount, ['-t', 'tracefs', 'nodev', target], { stdio: 'ignore', timeout: 5000 }).status === 0 && existsSync(`${target}/instances`)) {
      mountedByUs = target;
      return target;
    }
    return null;
  };

  const removeStale = () => {
    for (const entry of readdirSync(`${root}/instances`)) {
      const m = /^ghostport-(\d+)(?:-[0-9a-f]+)?$/.exec(entry);
      if (!m || entry === name()) continue;
      // A live Ghostport reads its instance within moments of making it, and the kernel refuses
      // to remove an instance that is read (EBUSY). So an unread one is a leftover when its pid is
      // dead, or when it is older than a start takes: the pid in the name may be from another PID
      // namespace (a Ghostport in a container is pid 1 there) and mean nothing here.
      if (alive(Number(m[1])) && Date.now() - statSync(`${root}/instances/${entry}`).mtimeMs < STALE_AFTER_MS) continue;
      try {
        rmdirSync(`${root}/instances/${entry}`);
      } catch {
        // EBUSY: something still reads it (a live Ghostport in another PID namespace): leave it.
      }
    }
  };

  const teardown = () => {
    if (root === null) return;
    try {
      rmdirSync(instance());
    } catch {
      // Not created, or already gone.
    }
    const umount = systemTool('umount');
    if (mountedByUs && umount) childProcess().spawnSync(umount, [mountedByUs], { stdio: 'ignore', timeout: 5000 });
    mountedByUs = null;
    root = null;
  };

  return {
    async start(ports, onBatch) {
      const gap = (reason: string, fault: boolean) => ({ active: false as const, reason, fault, misses: TCP_MISSES, hint: TCP_HINT });
      if (process.getuid?.() !== 0) return gap('Ghostport is not running as root', false);
      // The trace names processes by their pid in the first PID namespace and reports every
      // namespace of the machine: inside another PID namespace (a container) neither can be
      // matched to what this Ghostport sees.
      if (!initPidNamespace()) return gap(OWN_PID_NAMESPACE, false);
      root = findOrMount();
      if (root === null) return gap('tracefs is not mounted and could not be mounted', true);
      try {
        removeStale();
        if (!existsSync(instance())) mkdirSync(instance());
        writeFileSync(`${instance()}/${EVENT}/filter`, traceFilter(ports));
        writeFileSync(`${instance()}/${EVENT}/enable`, '1');
      } catch (error) {
        teardown();
        return gap(`the tracepoint sock/inet_sock_set_state cannot be set up: ${(error as Error).message}`, true);
      }
      const pipe = `${instance()}/trace_pipe`;
      const cat = systemTool('cat');
      if (cat === null) {
        teardown();
        return gap('cat is not installed', true);
      }
      const setpriv = systemTool('setpriv');
      const withDeathSignal = setpriv !== null && childProcess().spawnSync(setpriv, ['--pdeathsig', 'KILL', cat, '/dev/null']).status === 0;
      const child = withDeathSignal ? childProcess().spawn(setpriv, ['--pdeathsig', 'KILL', cat, pipe], { stdio: 'pipe' }) : childProcess().spawn(cat, [pipe], { stdio: 'pipe' });
      reader = child;
      failure = null;
      lost = 0;
      child.on('error', () => undefined);
      child.stdin.end();
      child.stderr.resume();
      let carry = '';
      child.stdout.on('data', (chunk: Buffer) => {
        const text = carry + chunk.toString('latin1');
        const end = text.lastIndexOf('\n');
        carry = end < 0 ? text : text.slice(end + 1);
        if (end < 0) return;
        const batch: KernelTransition[] = [];
        const lostBefore = lost;
        const processes = new Map<number, number>();
        const ownerOf = (tid: number) => {
          if (!processes.has(tid)) processes.set(tid, processOf(tid));
          return processes.get(tid)!;
        };
        for (const line of text.slice(0, end).split('\n')) {
          const t = parseTraceLine(line);
          if (t) batch.push(t.pid === null ? t : { ...t, pid: ownerOf(t.pid) });
          else lost += parseLostLine(line) ?? 0;
        }
        // Lost events are news too (an empty batch if nothing else came): a scan, and health says so.
        if (batch.length > 0 || lost > lostBefore) onBatch(batch);
      });
      child.once('exit', (code, signal) => {
        if (reader === child) reader = null;
        if (stopping) return;
        teardown();
        failure ??= `the tracefs reader exited (${code ?? signal})`;
        onBatch([]);
      });
      // The reader must not keep Node alive on its own.
      unrefChild(child);
      return { active: true, covers: 'TCP sockets on the watched ports that appear and go between two polls' };
    },
    setPorts(ports) {
      if (root === null) return;
      try {
        writeFileSync(`${instance()}/${EVENT}/filter`, traceFilter(ports));
      } catch (error) {
        // The instance is gone or refused the filter: the events no longer follow the ports. Said
        // (health degrades, the poll runs at its interval), and the reader is stopped so that the
        // restarts (kernel-restarts.ts) set it up again with these ports.
        failure = `the kernel filter could not follow the watched ports (${(error as Error).message})`;
        reader?.kill('SIGKILL');
      }
    },
    async stop() {
      stopping = true;
      const child = reader;
      reader = null;
      // Waited for: the instance cannot be removed while it is read.
      await killAndWait(child);
      teardown();
      stopping = false;
    },
    condition: () => ({ lost, coalesced: 0, failure }),
  };
}

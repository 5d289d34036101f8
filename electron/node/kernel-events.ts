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
import { existsSync, mkdirSync, readdirSync, readlinkSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { normalizeAddress } from '#common/socket-parse.ts';
import type { Family } from '#common/model.ts';

/** One TCP state change of a socket on a watched port. */
export interface KernelTransition {
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
}

/** Whether kernel events are flowing, and if not, why. */
export type KernelEventStatus =
  | { readonly active: true; readonly covers: string }
  /** `fault`: it should have worked here (root, first PID namespace) and did not: health says so. */
  | { readonly active: false; readonly reason: string; readonly fault: boolean };

/** A source of kernel socket events. */
export interface KernelEventSource {
  /** Starts delivering batches of transitions on the watched ports; resolves with whether it could. */
  start(ports: readonly number[], onBatch: (batch: readonly KernelTransition[]) => void): Promise<KernelEventStatus>;
  /** Follows the watched ports (the kernel filter is rewritten in place). */
  setPorts(ports: readonly number[]): void;
  /** Stops and removes everything it set up. */
  stop(): Promise<void>;
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

/** The kernel filter for these ports. */
export function traceFilter(ports: readonly number[]): string {
  return ports.map((p) => `sport == ${p} || dport == ${p}`).join(' || ');
}

const MOUNTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
// Run as root: the tools come from the system's own directories, never from PATH.
const SYSTEM_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

function systemTool(name: string): string | null {
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

function initPidNamespace(): boolean {
  try {
    // PROC_PID_INIT_INO: the first PID namespace's inode is fixed.
    return readlinkSync('/proc/self/ns/pid') === 'pid:[4026531836]';
  } catch {
    return false;
  }
}

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
      if (process.getuid?.() !== 0) return { active: false, reason: 'Ghostport is not running as root', fault: false };
      // The trace names processes by their pid in the first PID namespace and reports every
      // namespace of the machine: inside another PID namespace (a container) neither can be
      // matched to what this Ghostport sees.
      if (!initPidNamespace()) return { active: false, reason: 'Ghostport runs in a PID namespace of its own (a container), where the kernel\'s events cannot be matched to its processes', fault: false };
      root = findOrMount();
      if (root === null) return { active: false, reason: 'tracefs is not mounted and could not be mounted', fault: true };
      try {
        removeStale();
        if (!existsSync(instance())) mkdirSync(instance());
        writeFileSync(`${instance()}/${EVENT}/filter`, traceFilter(ports));
        writeFileSync(`${instance()}/${EVENT}/enable`, '1');
      } catch (error) {
        teardown();
        return { active: false, reason: `the tracepoint sock/inet_sock_set_state cannot be set up: ${(error as Error).message}`, fault: true };
      }
      const pipe = `${instance()}/trace_pipe`;
      const cat = systemTool('cat');
      if (cat === null) {
        teardown();
        return { active: false, reason: 'cat is not installed', fault: true };
      }
      const setpriv = systemTool('setpriv');
      const withDeathSignal = setpriv !== null && childProcess().spawnSync(setpriv, ['--pdeathsig', 'KILL', cat, '/dev/null']).status === 0;
      const child = withDeathSignal ? childProcess().spawn(setpriv, ['--pdeathsig', 'KILL', cat, pipe], { stdio: 'pipe' }) : childProcess().spawn(cat, [pipe], { stdio: 'pipe' });
      reader = child;
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
        for (const line of text.slice(0, end).split('\n')) {
          const t = parseTraceLine(line);
          if (t) batch.push(t);
        }
        if (batch.length > 0) onBatch(batch);
      });
      child.once('exit', () => {
        if (reader === child) reader = null;
        if (!stopping) teardown();
      });
      // The reader must not keep Node alive on its own.
      child.unref();
      for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
      return { active: true, covers: 'TCP sockets on the watched ports that appear and go between two polls' };
    },
    setPorts(ports) {
      if (root === null) return;
      try {
        writeFileSync(`${instance()}/${EVENT}/filter`, traceFilter(ports));
      } catch {
        // The instance is gone: the poll still watches.
      }
    },
    async stop() {
      stopping = true;
      const child = reader;
      reader = null;
      if (child && child.exitCode === null && child.signalCode === null) {
        // Held until it is gone: the instance cannot be removed while it is read.
        child.ref();
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      teardown();
      stopping = false;
    },
  };
}

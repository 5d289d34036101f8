/**
 * UDP sockets on the watched ports as the kernel handles them, and TCP sockets bound to them
 * (Linux, root): the eBPF helper
 * (native/ghostport-bpf.c, built by `npm run build` where clang, bpftool and libbpf exist)
 * attaches cgroup v2 socket hooks at the root cgroup, filters the watched ports in the kernel and
 * prints one line per event, which this source parses with validation into kernel transitions:
 * a datagram sent from an unconnected socket to a watched port, a UDP socket bound to one or
 * connected to one, and its close; a TCP socket bound to one (BOUND: it makes no tracefs event
 * until it listens or connects), and its close while only bound. The rest of TCP is tracefs's
 * (kernel-events.ts).
 *
 * Never left behind: the helper pins nothing, so the kernel detaches its programs when it exits,
 * and it is killed when Ghostport dies (PR_SET_PDEATHSIG), SIGKILL included. Bounded: the kernel
 * counts repeats of one datagram flow within a second and events its ring buffer has no room
 * for (a reader that falls behind slows only the helper, never Node's loop); both are reported.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normalizeAddress } from '#common/socket-parse.ts';
import { killAndWait, unrefChild } from './helper-process.ts';
import { initPidNamespace, OWN_PID_NAMESPACE, type KernelEventSource, type KernelTransition } from './kernel-events.ts';

/** What goes unseen without this source. */
export const UDP_MISSES = 'UDP datagrams sent from unconnected sockets, UDP sockets that live less than one poll interval, and TCP sockets only bound (not listening) for less than one';
const HINT = 'Run Ghostport as root (the helper needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN) on a kernel that allows BPF and cgroup v2; Ghostport keeps polling meanwhile.';
const READY_TIMEOUT_MS = 10_000;

/** One line of the helper. */
export type BpfLine =
  | { readonly type: 'ready' }
  | { readonly type: 'stat'; readonly lost: number; readonly coalesced: number }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'event'; readonly kind: 'send' | 'connect' | 'bind' | 'close'; readonly transition: KernelTransition };

const KINDS = new Set(['send', 'connect', 'bind', 'close']);
const DECIMAL = /^\d{1,20}$/;

function port(text: string): number | null | undefined {
  if (text === '*') return null;
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

function address(text: string, family: 4 | 6): string | undefined {
  const ok = family === 4 ? /^\d{1,3}(\.\d{1,3}){3}$/.test(text) : /^[0-9a-f:.]{2,45}$/.test(text) && text.includes(':');
  return ok ? normalizeAddress(text) : undefined;
}

/** Parses one line of the helper's output (its format is in native/ghostport-bpf.c), or returns null. */
export function parseBpfLine(line: string): BpfLine | null {
  if (line === 'ready') return { type: 'ready' };
  if (line.startsWith('error ')) return { type: 'error', message: line.slice(6, 500) };
  const f = line.split(' ');
  if (f[0] === 'stat' && f.length === 3 && DECIMAL.test(f[1]!) && DECIMAL.test(f[2]!)) return { type: 'stat', lost: Number(f[1]), coalesced: Number(f[2]) };
  if (f[0] !== 'event' || f.length !== 14) return null;
  const [, kind, protocol, fam, local, lport, remote, rport, pid, comm, inode, , cookie, ns] = f as [string, string, string, string, string, string, string, string, string, string, string, string, string, string];
  const tcp = protocol === 'tcp';
  if (!KINDS.has(kind) || (protocol !== 'udp' && !(tcp && (kind === 'bind' || kind === 'close'))) || (fam !== '4' && fam !== '6')) return null;
  const family = fam === '4' ? 4 : 6;
  const localAddress = address(local, family);
  const localPort = port(lport);
  const remotePort = port(rport);
  const remoteAddress = remote === '*' ? null : address(remote, family);
  if (localAddress === undefined || localPort === undefined || remotePort === undefined || remoteAddress === undefined) return null;
  if (!/^\d{1,10}$/.test(pid) || !/^(-|([0-9a-f]{2}){1,15})$/.test(comm) || !/^\d{1,10}$/.test(inode) || !DECIMAL.test(cookie) || !DECIMAL.test(ns) || !DECIMAL.test(f[11]!)) return null;
  const name = comm === '-' ? null : Buffer.from(comm, 'hex').toString('utf8');
  const nanos = BigInt(ns);
  // A TCP socket only bound is BOUND, as the poll names it (native/ghostport-diag.c).
  const bound = tcp ? 'BOUND' : 'UNCONN';
  const state = kind === 'close' ? 'CLOSE' : kind === 'connect' ? 'ESTABLISHED' : bound;
  return {
    type: 'event',
    kind: kind as 'send' | 'connect' | 'bind' | 'close',
    transition: {
      protocol,
      family,
      localAddress,
      // A connect is reported before the kernel picks the local port; its close names it.
      localPort: localPort ?? 0,
      remoteAddress: remotePort === null ? null : remoteAddress,
      remotePort,
      oldState: kind === 'close' ? bound : 'CLOSE',
      newState: state,
      pid: Number(pid) === 0 ? null : Number(pid),
      comm: Number(pid) === 0 ? null : name,
      stamp: `${nanos / 1_000_000_000n}.${String(nanos % 1_000_000_000n).padStart(9, '0')}`,
      cookie,
      ...(kind === 'send' ? { datagram: true } : {}),
      ...(inode === '0' ? {} : { netnsInode: Number(inode) }),
    },
  };
}

/** Where the built helper lives (packaged: beside the asar archive, as ghostport-diag). */
export function defaultBpfHelperPath(): string {
  return fileURLToPath(new URL('../../dist/native/ghostport-bpf', import.meta.url)).replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}

/** Options: the helper (tests pass their own). */
export interface BpfEventsOptions {
  readonly path?: string;
}

/** Kernel events from the eBPF helper. */
export function createBpfEvents(options: BpfEventsOptions = {}): KernelEventSource {
  const path = options.path ?? defaultBpfHelperPath();
  let child: ChildProcessWithoutNullStreams | null = null;
  let totals = { lost: 0, coalesced: 0 };
  let failure: string | null = null;
  const gap = (reason: string, fault: boolean) => ({ active: false as const, reason, fault, misses: UDP_MISSES, hint: HINT });

  return {
    async start(ports, onBatch) {
      if (process.getuid?.() !== 0) return gap('Ghostport is not running as root', false);
      if (!initPidNamespace()) return gap(OWN_PID_NAMESPACE, false);
      try {
        accessSync(path, constants.X_OK);
      } catch {
        return gap('the eBPF helper is not built here (npm run build needs clang, bpftool, libbpf-dev and libelf-dev)', false);
      }
      if (ports.length === 0) return gap('no ports are watched', false);
      // Loaded when the helper starts: a one-shot scan never starts kernel events.
      const helper = process.getBuiltinModule('node:child_process').spawn(path, ports.map(String), { stdio: 'pipe', env: { LC_ALL: 'C' } });
      child = helper;
      totals = { lost: 0, coalesced: 0 };
      failure = null;
      helper.on('error', () => undefined);
      helper.stdin.on('error', () => undefined);
      helper.stderr.resume();
      let carry = '';
      let settle: ((outcome: string | null) => void) | null = null;
      const ready = new Promise<string | null>((resolve) => (settle = resolve));
      const timer = setTimeout(() => settle?.(`the eBPF helper did not start within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
      // On close, not exit: its last lines (an error saying why) are read first.
      helper.once('close', (code, signal) => settle?.(`the eBPF helper exited (${code ?? signal})`));
      helper.stdout.on('data', (chunk: Buffer) => {
        const text = carry + chunk.toString('latin1');
        const end = text.lastIndexOf('\n');
        // A line longer than any the helper writes is not one of its lines: dropped.
        carry = end < 0 ? (text.length > 4096 ? '' : text) : text.slice(end + 1);
        if (end < 0) return;
        const batch: KernelTransition[] = [];
        let lostMore = false;
        for (const line of text.slice(0, end).split('\n')) {
          const parsed = parseBpfLine(line);
          if (parsed?.type === 'event') batch.push(parsed.transition);
          else if (parsed?.type === 'stat') {
            // Events lost for want of room are news for health even when nothing else arrives.
            if (parsed.lost > totals.lost) lostMore = true;
            totals = { lost: parsed.lost, coalesced: parsed.coalesced };
          }
          else if (parsed?.type === 'ready') settle?.(null);
          else if (parsed?.type === 'error') settle?.(parsed.message);
        }
        if (batch.length > 0 || lostMore) onBatch(batch);
      });
      const refused = await ready;
      settle = null;
      clearTimeout(timer);
      if (refused !== null) {
        helper.kill('SIGKILL');
        child = null;
        return gap(refused, true);
      }
      helper.once('exit', (code, signal) => {
        if (child !== helper) return;
        failure = `the eBPF helper exited (${code ?? signal}): ${UDP_MISSES} can be missed until it runs again`;
        onBatch([]);
      });
      // The helper must not keep Node alive on its own.
      unrefChild(helper);
      return { active: true, covers: 'UDP datagrams sent to the watched ports, UDP sockets bound or connected to them, TCP sockets bound to them' };
    },
    setPorts(ports) {
      if (child && ports.length > 0) child.stdin.write(`ports ${ports.join(' ')}\n`);
    },
    async stop() {
      const running = child;
      child = null;
      await killAndWait(running);
    },
    condition: () => ({ ...totals, failure }),
  };
}

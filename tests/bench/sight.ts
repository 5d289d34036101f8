/**
 * Issue 12's numbers: what sight catches between polls and what namespaces cost. In one run:
 * - capture: connection attempts refused in well under a millisecond, listeners that live 100 ms,
 *   and UDP datagrams sent from unconnected sockets, each caught by an engine polling once a
 *   minute (kernel events are all it has): caught / N;
 * - what the eBPF hooks cost every other UDP send on the machine: sendto() to an unwatched port
 *   with the helper attached against without, interleaved (ns per send);
 * - latency from listen() to the `appeared` line of `ghostport watch --json` (p50, p95);
 * - the cost of one scan with 50 network namespaces (held by processes, and named ones with no
 *   process) against one.
 * Linux and root only (tracefs, namespaces); runs inside the bench's own network namespace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { Engine } from '#node/engine.ts';
import { createTracefsEvents, type KernelEventSource } from '#node/kernel-events.ts';
import { ownersOfInodes } from '#node/netns.ts';
import { createBpfEvents } from '#node/bpf-events.ts';
import { buildCli } from '../../electron/build/build.ts';
import type { PortEvent } from '#common/model.ts';
import { median, percentile, round } from './stats.ts';

const PORT = 596;
const PY = '/usr/bin/python3';

/** The numbers. */
export interface SightBench {
  readonly kernelEvents: boolean;
  /** Whether the eBPF source of UDP events ran. */
  readonly udpEvents: boolean;
  /** ns per sendto() to an unwatched port, without and with the eBPF hooks attached; null without the helper. */
  readonly sendNs: { readonly without: number; readonly with: number } | null;
  readonly capture: Record<'refusedConnects' | 'listeners100ms' | 'udpSendto', { readonly caught: number; readonly n: number }>;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly n: number } | null;
  readonly scanMs: Record<'oneNamespace' | 'fiftyHeld' | 'fiftyNamed', number>;
  /** CPU of the connecting process per TCP connection to an unwatched port (connect, accept, close), without and with the tracefs source watching 596, in µs. */
  readonly connectUs: { readonly without: number; readonly with: number } | null;
  /** What the owner lookup costs whenever the live sockets change: one walk of every process's descriptors (scanner.ts withOwners). */
  readonly lateOwnerWalk: { readonly ms: number; readonly processes: number };
  readonly note: string;
}

function python(program: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(PY, ['-c', program], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`python exited with ${code}`))));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function capture(n: number): Promise<SightBench['capture'] & { kernelEvents: boolean; udpEvents: boolean }> {
  const engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
  const events: PortEvent[] = [];
  engine.onScan((_, batch) => events.push(...batch));
  engine.start();
  try {
    for (let i = 0; i < 100 && engine.snapshot?.sight === undefined; i++) await sleep(50);
    await sleep(300);
    const kernelEvents = engine.snapshot?.sight?.kernelEvents === true;
    const udpEvents = kernelEvents && /UDP datagrams sent to the watched ports/.test(engine.snapshot?.sight?.note ?? '');
    const count = (pid: number, test: (e: PortEvent) => boolean) => events.filter((e) => e.type === 'appeared' && e.socket.pid === pid && test(e)).length;
    const connector = await python(`import socket,time
for i in range(${n}):
    c=socket.socket()
    try: c.connect(('127.0.0.1',${PORT}))
    except ConnectionRefusedError: pass
    c.close(); time.sleep(0.02)`);
    const listener = await python(`import socket,time
for i in range(${n}):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT})); s.listen(); time.sleep(0.1); s.close(); time.sleep(0.15)`);
    const sender = await python(`import socket,time
for i in range(${n}):
    u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b'x', ('127.0.0.1',${PORT})); u.close(); time.sleep(0.02)`);
    await sleep(1500);
    return {
      kernelEvents,
      udpEvents,
      refusedConnects: { caught: count(connector, (e) => e.socket.remotePort === PORT), n },
      listeners100ms: { caught: count(listener, (e) => e.socket.state === 'LISTEN'), n },
      udpSendto: { caught: count(sender, (e) => e.socket.protocol === 'udp'), n },
    };
  } finally {
    await engine.stop();
  }
}

/** listen() → the `appeared` line of `ghostport watch --json`, through a pipe, n times. */
async function latency(root: string, n: number): Promise<SightBench['latencyMs']> {
  // The bin runs the bundle: built from the sources being measured, never a stale one.
  await buildCli(root);
  const watch = spawn(process.execPath, [join(root, 'electron/node/cli/ghostport.mjs'), 'watch', '--json', '--no-history', '--interval', '60000'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: { at: number; text: string }[] = [];
  let carry = '';
  watch.stdout.on('data', (c: Buffer) => {
    const at = Date.now();
    const text = carry + String(c);
    const parts = text.split('\n');
    carry = parts.pop() ?? '';
    for (const line of parts) lines.push({ at, text: line });
  });
  try {
    await sleep(3000);
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const child = spawn(PY, ['-c', `import socket,time,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT}))
print(repr(time.time()), flush=True); s.listen(); time.sleep(0.3)`], { stdio: ['ignore', 'pipe', 'ignore'] });
      let before = '';
      child.stdout.on('data', (c: Buffer) => (before += String(c)));
      await new Promise((r) => child.once('exit', r));
      await sleep(200);
      const listenAt = Number(before.trim()) * 1000;
      const line = lines.find((l) => l.text.includes('"appeared"') && l.text.includes(`"pid":${child.pid}`));
      if (line && Number.isFinite(listenAt)) samples.push(line.at - listenAt);
    }
    if (samples.length === 0) return null;
    return { p50: round(median(samples), 1), p95: round(percentile(samples, 95), 1), n: samples.length };
  } finally {
    watch.kill('SIGINT');
    await new Promise((r) => watch.once('exit', r));
  }
}

/** Runs a Python program that prints one number, and returns it. */
function pythonNumber(program: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(PY, ['-c', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += String(c)));
    child.once('exit', (code) => (code === 0 ? resolve(Number(text.trim())) : reject(new Error(`python exited with ${code}`))));
  });
}

/** ns per sendto() of 200,000 datagrams to an unwatched port (the discard port, nothing listens). */
const sendCost = () =>
  pythonNumber(`import socket,time
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); d=('127.0.0.1',9)
t=time.perf_counter_ns()
for i in range(200000): u.sendto(b'x', d)
print((time.perf_counter_ns()-t)/200000)`);

/** CPU time (user + system, in µs) of one process per TCP connection on 127.0.0.1:597: connect, accept, reset. */
const connectCpu = () =>
  pythonNumber(`import socket,struct,time
l=socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('127.0.0.1',597)); l.listen(128)
n=3000; t=time.process_time_ns()
for i in range(n):
    c=socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii',1,0)); c.connect(('127.0.0.1',597))
    s,_=l.accept(); c.close(); s.close()
print((time.process_time_ns()-t)/n/1000)`);

/**
 * `measure` without and with a kernel source running on the watched port, interleaved, medians
 * of 5 each, rounded to `digits`; null where the source cannot run here.
 */
async function withAndWithout(measure: () => Promise<number>, makeSource: () => KernelEventSource, digits: number): Promise<{ without: number; with: number } | null> {
  const without: number[] = [];
  const withSource: number[] = [];
  for (let i = 0; i < 5; i++) {
    without.push(await measure());
    const source = makeSource();
    if (!(await source.start([PORT], () => undefined)).active) return null;
    try {
      withSource.push(await measure());
    } finally {
      await source.stop();
    }
  }
  return { without: round(median(without), digits), with: round(median(withSource), digits) };
}

async function scanCost(): Promise<number> {
  const engine = new Engine({ ports: [PORT] });
  await engine.scanNow();
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await engine.scanNow();
    times.push(performance.now() - t);
  }
  return round(median(times), 2);
}

/** One walk of every process's descriptors for an inode no one holds (the owner lookup), median of 10. */
function walkCost(): SightBench['lateOwnerWalk'] {
  const times: number[] = [];
  let processes = 0;
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
    ownersOfInodes(new Set([0]), pids);
    times.push(performance.now() - t);
    processes = pids.length;
  }
  return { ms: round(median(times), 2), processes };
}

/** Runs every measurement; cleans up every namespace and process it made. */
export async function measureSight(root: string): Promise<SightBench> {
  const cap = await capture(20);
  // What the eBPF hooks cost other UDP sends, and the tracefs filter other TCP connections.
  const sendNs = await withAndWithout(sendCost, createBpfEvents, 0);
  const connectUs = await withAndWithout(connectCpu, createTracefsEvents, 2);
  const lat = await latency(root, 20);
  const one = await scanCost();
  const lateOwnerWalk = walkCost();
  const held = Array.from({ length: 50 }, () => spawn('unshare', ['-n', 'sleep', '600'], { stdio: 'ignore' }));
  const names = Array.from({ length: 50 }, (_, i) => `gp-${process.pid}-bench-${i}`);
  let fiftyHeld = Number.NaN;
  let fiftyNamed = Number.NaN;
  try {
    await sleep(500);
    fiftyHeld = await scanCost();
    for (const h of held) h.kill('SIGKILL');
    for (const name of names) spawnSync('ip', ['netns', 'add', name]);
    fiftyNamed = await scanCost();
  } finally {
    for (const h of held) h.kill('SIGKILL');
    for (const name of names) spawnSync('ip', ['netns', 'delete', name]);
  }
  return {
    kernelEvents: cap.kernelEvents,
    udpEvents: cap.udpEvents,
    sendNs,
    connectUs,
    capture: { refusedConnects: cap.refusedConnects, listeners100ms: cap.listeners100ms, udpSendto: cap.udpSendto },
    latencyMs: lat,
    scanMs: { oneNamespace: one, fiftyHeld, fiftyNamed },
    lateOwnerWalk,
    note: cap.udpEvents
      ? 'UDP events come from the eBPF helper (cgroup socket hooks), TCP events from tracefs.'
      : 'The eBPF helper did not run (not built here, or not root in the first PID namespace): UDP datagrams from unconnected sockets are seen only by a poll that happens to run while the socket exists.',
  };
}

/** The section of the report. */
export function formatSightBench(b: SightBench): string {
  const rate = (c: { caught: number; n: number }) => `${c.caught}/${c.n} (${Math.round((100 * c.caught) / c.n)} %)`;
  return [
    `Sight (issue 12), kernel events ${b.kernelEvents ? 'on' : 'OFF'} (UDP from eBPF ${b.udpEvents ? 'on' : 'OFF'}), poll once a minute:`,
    `  caught: refused connects (<1 ms) ${rate(b.capture.refusedConnects)}, listeners living 100 ms ${rate(b.capture.listeners100ms)}, UDP sendto from unconnected sockets ${rate(b.capture.udpSendto)}`,
    `  listen() -> appeared line of watch --json: ${b.latencyMs ? `p50 ${b.latencyMs.p50} ms, p95 ${b.latencyMs.p95} ms (n=${b.latencyMs.n}; goal p95 <= 50 ms)` : 'no sample'}`,
    `  sendto() to an unwatched port: ${b.sendNs ? `${b.sendNs.without} ns without the eBPF hooks, ${b.sendNs.with} ns with them (${b.sendNs.with >= b.sendNs.without ? '+' : ''}${b.sendNs.with - b.sendNs.without} ns)` : 'not measured (no eBPF helper)'}`,
    `  one scan: ${b.scanMs.oneNamespace} ms with one namespace, ${b.scanMs.fiftyHeld} ms with 50 more held by processes (${round(b.scanMs.fiftyHeld / b.scanMs.oneNamespace, 1)}x), ${b.scanMs.fiftyNamed} ms with 50 named and empty (${round(b.scanMs.fiftyNamed / b.scanMs.oneNamespace, 1)}x)`,
    `  TCP connections to an unwatched port, CPU of the connecting process: ${b.connectUs ? `${b.connectUs.without} µs without the tracefs filter, ${b.connectUs.with} µs with it (${b.connectUs.with >= b.connectUs.without ? '+' : ''}${round(b.connectUs.with - b.connectUs.without, 2)} µs a connection)` : 'not measured (no tracefs)'}`,
    `  the owner lookup (a scan whose live sockets changed) walks every process once: ${b.lateOwnerWalk.ms} ms for ${b.lateOwnerWalk.processes} processes (${round(b.lateOwnerWalk.ms / b.scanMs.oneNamespace, 1)}x a whole scan)`,
    `  ${b.note}`,
  ].join('\n');
}

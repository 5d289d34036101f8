/**
 * Issue 12's "CPU of an idle `watch` at 10,000 unrelated sockets": the engine as `ghostport watch`
 * runs it (engine-driver.ts: poll at the default interval, SQLite history), port 596 clear,
 * against what a user would run instead at the same interval, in one run:
 * - `ss -tuanp` (every socket with its owner: `watch -n2 'ss -tuanp | grep :596'`);
 * - `ss -tuan` with the kernel's port filter, no owners (the cheapest tool answer);
 * - the netlink helper's port-filtered dump alone (the kernel's part of Ghostport's own poll),
 *   and the same without the TCP sockets that are only bound (--no-bound-inactive), as a ratio.
 * Runs in a network AND PID namespace of its own (unshare --net --pid --mount-proc): other runs'
 * sockets on 596 would prompt owner lookups, and every other process on the host would be walked.
 * Kernel events are therefore off there (they need the first PID namespace): polling only.
 * Then the engine alone again, in a network namespace of its own but the first PID namespace
 * (unshare --net --mount), where kernel events run and a clear port is scanned only as the
 * safety net (once a minute): its window is four times as long (at least two minutes), so that it holds scans at all. It walks
 * every process of the host, as it would in use, and sees 596 host-wide (busy neighbours on 596
 * make it poll at the interval: `sight` in the report says which pace it ran at).
 * CPU is each process's scheduler run time (/proc/PID/task/T/schedstat, nanoseconds), not clock
 * ticks (10 ms: a whole scan's cost), plus what its exited children were charged (ticks).
 * Start-up (the package index warmed, the first scan) is reported apart; the steady window begins
 * once start-up is over, so neither hides in the other.
 * Alone: `node tests/bench/idle-watch.ts [--sockets 10000] [--seconds 30] [--previous-diag PATH] [--json]`
 * (--previous-diag: another build of ghostport-diag, e.g. the last commit's, timed alone beside it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_INTERVAL_MS, DEFAULT_PORT } from '#common/model.ts';
import { spawnNodeChild, stopAllChildren } from './child-link.ts';
import { liveChildren, readCpuTimes } from './proc-stat.ts';
import { round } from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(dirname(here));
const MARK = 'GHOSTPORT_BENCH_IDLE_NS';
const PORT = DEFAULT_PORT;
const BOUNDLESS = '  the same, without bound-only TCP';

/** One way of polling, over the steady window. */
export interface IdleRow {
  readonly method: string;
  /** % of one core over the window. */
  readonly cpuPercent: number;
  /** CPU per poll, ms. */
  readonly msPerPoll: number;
  readonly polls: number;
}

/** The numbers. */
export interface IdleWatchBench {
  readonly sockets: number;
  readonly intervalMs: number;
  readonly seconds: number;
  /** CPU of the engine from its start to the end of start-up (package index, first scans), ms. */
  readonly startupCpuMs: number;
  readonly startupSeconds: number;
  readonly rows: readonly IdleRow[];
  /** Of Ghostport's steady CPU, the netlink helper's part (the kernel's dump), % of a core. */
  readonly helperCpuPercent: number | null;
  readonly fullScans: number;
  /** Scans the engine ran in the steady window. */
  readonly scans: number;
  /** The engine with kernel events (first PID namespace): its row, and what it saw between scans. */
  readonly kernel?: { readonly row: IdleRow; readonly seconds: number; readonly sight: { readonly kernelEvents: boolean; readonly safetyNetMs?: number; readonly note: string } | null } | null;
}

/** Scheduler run time of every thread of a pid, ms (0 when gone). */
function runTimeMs(pid: number): number {
  let total = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      // Thread ended meanwhile: its time moved to the process's totals we do not read here.
    }
  }
  return total;
}

/** CPU of a process tree, ms: live processes by run time, exited children by what they were charged. */
function treeCpu(pid: number): { total: number; byPid: Map<number, number> } {
  const byPid = new Map<number, number>();
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    let reaped = 0;
    try {
      reaped = readCpuTimes(p).childrenMs;
    } catch {
      continue;
    }
    const own = runTimeMs(p);
    byPid.set(p, own);
    total += own + reaped;
    stack.push(...liveChildren(p));
  }
  return { total, byPid };
}

async function window(pid: number, seconds: number): Promise<{ ms: number; byPid: Map<number, number> }> {
  const before = treeCpu(pid);
  await sleep(seconds * 1000);
  const after = treeCpu(pid);
  const byPid = new Map([...after.byPid].map(([p, ms]) => [p, ms - (before.byPid.get(p) ?? 0)]));
  return { ms: after.total - before.total, byPid };
}

function row(method: string, ms: number, seconds: number, intervalMs: number, counted?: number): IdleRow {
  const polls = counted ?? Math.round((seconds * 1000) / intervalMs);
  return { method, cpuPercent: round((ms / (seconds * 1000)) * 100, 3), msPerPoll: polls > 0 ? round(ms / polls, 2) : 0, polls };
}

/** A shell that runs `command` every interval (as `watch -n` would), measured like the engine. */
async function pollLoop(command: string, intervalMs: number, seconds: number, stdin?: string, only?: string): Promise<number> {
  const loop = stdin
    ? `while :; do echo ${stdin}; sleep ${intervalMs / 1000}; done | ${command} > /dev/null`
    : `while :; do ${command} > /dev/null; sleep ${intervalMs / 1000}; done`;
  const child = spawn('bash', ['-c', loop], { stdio: 'ignore', detached: true });
  try {
    await sleep(intervalMs + 500);
    const w = await window(child.pid!, seconds);
    // `only`: that process's own run time, without the loop's forks of sleep.
    return only === undefined ? w.ms : [...w.byPid].filter(([p]) => readComm(p) === only).reduce((sum, [, ms]) => sum + ms, 0);
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** Measures here (inside the namespaces). */
export async function measureHere(sockets: number, seconds: number, previousDiag: string | null = null, intervalMs = DEFAULT_INTERVAL_MS, engineOnly = false): Promise<IdleWatchBench> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ghostport-idle-'));
  try {
    const farm = spawnNodeChild('socket farm', join(here, 'socket-farm.ts'), []);
    await farm.waitFor((m) => m['type'] === 'ready', 60_000, '"ready"');
    await farm.request(`grow ${sockets}`, 'grown', 180_000);
    const started = performance.now();
    const driver = spawnNodeChild('engine driver', join(here, 'engine-driver.ts'), [dataDir, String(intervalMs), String(PORT)]);
    await driver.waitFor((m) => m['type'] === 'ready', 60_000, '"ready"');
    // Start-up: until a whole interval passes with no more than the steady poll's CPU in it
    // (the package index is read once, asynchronously, after start), 30 s at most.
    let last = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 15; i++) {
      const w = await window(driver.pid, intervalMs / 1000);
      if (w.ms < 20 && last < 20) break;
      last = w.ms;
    }
    const startupSeconds = (performance.now() - started) / 1000;
    const startupCpuMs = treeCpu(driver.pid).total;
    await driver.request('stats', 'stats', 10_000);
    const steady = await window(driver.pid, seconds);
    const stats = await driver.request('stats', 'stats', 10_000);
    const helperPid = [...steady.byPid.keys()].find((p) => p !== driver.pid && readComm(p) === 'ghostport-diag');
    const rows = [row('ghostport watch (engine)', steady.ms, seconds, intervalMs, Number(stats['scans']))];
    await driver.stop();
    if (process.env['GHOSTPORT_BENCH_BY_PID']) for (const [p, ms] of steady.byPid) process.stderr.write(`${p} ${readComm(p) || '(gone)'} ${round(ms, 2)} ms\n`);
    if (engineOnly) return { sockets, intervalMs, seconds, startupCpuMs: round(startupCpuMs, 0), startupSeconds: round(startupSeconds, 1), rows, helperCpuPercent: null, fullScans: Number(stats['fullScans']), scans: Number(stats['scans']), kernel: { row: rows[0]!, seconds, sight: (stats['sight'] as NonNullable<IdleWatchBench['kernel']>['sight']) ?? null } };
    const filter = `'( sport = :${PORT} or dport = :${PORT} )'`;
    rows.push(row('ss -tuanp (every socket, owners)', await pollLoop('ss -Htuanp', intervalMs, seconds), seconds, intervalMs));
    rows.push(row('ss -tuan, kernel port filter', await pollLoop(`ss -Htuan ${filter}`, intervalMs, seconds), seconds, intervalMs));
    const helper = join(root, 'dist', 'native', 'ghostport-diag');
    if (existsSync(helper)) {
      // With and without the TCP sockets only bound (asking for them makes the kernel walk its bind
      // hash too), interleaved in thirds so that a change of load falls on both alike.
      let withBound = 0;
      let without = 0;
      for (let i = 0; i < 3; i++) {
        withBound += await pollLoop(helper, intervalMs, seconds / 3, String(PORT), 'ghostport-diag');
        without += await pollLoop(`${helper} --no-bound-inactive`, intervalMs, seconds / 3, String(PORT), 'ghostport-diag');
      }
      rows.push(row('ghostport-diag dump alone', withBound, seconds, intervalMs), row(BOUNDLESS, without, seconds, intervalMs));
    }
    // Another build of the helper (e.g. the previous commit's), timed the same way in the same run.
    if (previousDiag !== null) {
      rows.push(row('  the same, previous build', await pollLoop(previousDiag, intervalMs, seconds, String(PORT), basename(previousDiag).slice(0, 15)), seconds, intervalMs));
    }
    await stopAllChildren();
    return {
      sockets,
      intervalMs,
      seconds,
      startupCpuMs: round(startupCpuMs, 0),
      startupSeconds: round(startupSeconds, 1),
      rows,
      helperCpuPercent: helperPid === undefined ? null : round(((steady.byPid.get(helperPid) ?? 0) / (seconds * 1000)) * 100, 3),
      fullScans: Number(stats['fullScans']),
      scans: Number(stats['scans']),
    };
  } finally {
    await stopAllChildren();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function readComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Runs the measurement in a network and PID namespace of its own, then the engine with kernel
 * events in a network namespace of its own (first PID namespace); rejects where that cannot be made.
 */
export async function measureIdleWatch(sockets: number, seconds: number, previousDiag: string | null = null): Promise<IdleWatchBench> {
  const polling = await inNamespaces(['--net', '--pid', '--fork', '--mount-proc'], ['--sockets', String(sockets), '--seconds', String(seconds), ...(previousDiag ? ['--previous-diag', previousDiag] : [])]);
  const kernelSeconds = Math.max(4 * seconds, 120);
  const kernel = await inNamespaces(['--net', '--mount'], ['--sockets', String(sockets), '--seconds', String(kernelSeconds), '--engine-only']).catch(() => null);
  return { ...polling, kernel: kernel?.kernel ?? null };
}

function inNamespaces(unshare: readonly string[], args: readonly string[]): Promise<IdleWatchBench> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'unshare',
      [...unshare, 'bash', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, fileURLToPath(import.meta.url), '--json', ...args],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, [MARK]: '1' } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`idle-watch exited ${code}`));
      try {
        resolve(JSON.parse(out) as IdleWatchBench);
      } catch {
        reject(new Error(`idle-watch printed no JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** The report's lines. */
export function formatIdleWatch(b: IdleWatchBench): string {
  const engine = b.rows[0]!;
  const lines = [
    `Idle watch (issue 12), own network and PID namespace, ${b.sockets} unrelated sockets, ${PORT} clear, every ${b.intervalMs} ms, steady ${b.seconds} s each (goal <= 0.05 % of a core):`,
    `  start-up (package index, first scans): ${b.startupCpuMs} ms CPU in the first ${b.startupSeconds} s, not in the steady window`,
  ];
  for (const r of b.rows) {
    const ratio = r === engine ? '' : ` (${round(r.cpuPercent / Math.max(engine.cpuPercent, 0.001), 2)}x Ghostport's)`;
    lines.push(`  ${r.method.padEnd(34)} ${String(r.cpuPercent).padStart(7)} % of a core, ${r.msPerPoll} ms a poll${ratio}`);
  }
  const dump = b.rows.find((r) => r.method === 'ghostport-diag dump alone');
  const boundless = b.rows.find((r) => r.method === BOUNDLESS);
  if (dump && boundless) lines.push(`  asking for TCP sockets only bound (TCP_BOUND_INACTIVE) makes the dump ${round(dump.msPerPoll / Math.max(boundless.msPerPoll, 0.001), 2)}x the dump without`);
  if (b.helperCpuPercent !== null) lines.push(`  of Ghostport's, its netlink helper (the kernel's dump): ${b.helperCpuPercent} %; ${b.scans} scans in the window, ${b.fullScans} of them full`);
  const k = b.kernel;
  if (k) {
    const pace = k.sight?.safetyNetMs ? `kernel events, clear port scanned every ${k.sight.safetyNetMs / 1000} s as the safety net` : k.sight?.kernelEvents ? 'kernel events, but polled every interval (something on 596 on this host, or a kernel source down)' : `no kernel events: ${k.sight?.note ?? 'unknown'}`;
    lines.push(`  with kernel events, first PID namespace, steady ${k.seconds} s (${pace}):`);
    lines.push(`  ${'ghostport watch (engine)'.padEnd(34)} ${String(k.row.cpuPercent).padStart(7)} % of a core, ${k.row.polls} scans (${round(k.row.cpuPercent / Math.max(engine.cpuPercent, 0.001), 2)}x polling only)`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const value = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const sockets = value('--sockets', 10_000);
  const seconds = value('--seconds', 30);
  const i = argv.indexOf('--previous-diag');
  const previous = i >= 0 ? argv[i + 1]! : null;
  const report = process.env[MARK] ? await measureHere(sockets, seconds, previous, DEFAULT_INTERVAL_MS, argv.includes('--engine-only')) : await measureIdleWatch(sockets, seconds, previous);
  process.stdout.write(argv.includes('--json') ? `${JSON.stringify(report)}\n` : `${formatIdleWatch(report)}\n`);
  process.exit(0);
}

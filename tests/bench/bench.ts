/**
 * `npm run bench` (issue 5): what Ghostport's scan costs next to the tools a user would reach for,
 * on an idle and on a busy host, plus the poll loop's CPU, detection latency and the engine's
 * memory. Prints tables and PASS/FAIL per target, or with `--json` one JSON document; always
 * writes tests/bench/results/latest.json. Exits non-zero only when the benchmark itself fails
 * (a missed target is a result, not an error).
 *
 * Options: --json, --quick (a fast smoke run: 0 and 1,000 sockets, short phases),
 * --sockets 0,1000,10000, --poll-seconds 30, --trials 12, --events 10000, --no-history-view,
 * --phases cli,scans,engine,history,sight,idle, --host-netns (stay in the host's network namespace), --out <file>.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_INTERVAL_MS, DEFAULT_PORT } from '#common/model.ts';
import { ChildLink, killAllChildren, spawnNodeChild, stopAllChildren } from './child-link.ts';
import { inOwnNetns, runInOwnNetns } from './own-netns.ts';
import { buildBpf, buildNative } from '../../electron/build/build-native.ts';
import type { ChildMessage } from './child-link.ts';
import { addRatios, evaluateTargets, formatReport } from './bench-report.ts';
import type { BenchReport, LatencyResult, MemoryResult, PollResult, RunRow, UnratedRow } from './bench-report.ts';
import { clearMethods, heldMethods } from './methods.ts';
import { DEFAULT_BUDGET, timeMethods } from './measure.ts';
import type { Budget } from './measure.ts';
import { readCpuTimes, readDescendantsCpuMs, readRssMb } from './proc-stat.ts';
import { median, percentile, round } from './stats.ts';
import { measureCliScan } from './cli-scan.ts';
import { formatEvidenceBench, measureEvidence, type EvidenceBench } from './evidence-capture.ts';
import { formatServiceBench, measureService, type ServiceBench } from './service.ts';
import { formatSightBench, measureSight, type SightBench } from './sight.ts';
import { formatIdleWatch, measureIdleWatch, type IdleWatchBench } from './idle-watch.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PORT = DEFAULT_PORT;

/** Command-line options. */
interface Options {
  readonly json: boolean;
  readonly sockets: readonly number[];
  readonly pollSeconds: number;
  readonly trials: number;
  readonly baselineEvents: number;
  readonly manyEvents: number;
  readonly historyView: boolean;
  readonly out: string;
  readonly budget: Budget;
  /** Which parts to run: scans (side-by-side timings), engine (poll, latency, memory), history (the window's view). */
  readonly phases: ReadonlySet<string>;
}

function parseOptions(argv: readonly string[]): Options {
  const quick = argv.includes('--quick');
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sockets = (value('--sockets') ?? (quick ? '0,1000' : '0,1000,10000')).split(',').map((s) => Number.parseInt(s, 10));
  if (sockets.some((n) => !Number.isInteger(n) || n < 0 || n > 19_000)) throw new Error('--sockets: counts from 0 to 19000');
  return {
    json: argv.includes('--json'),
    sockets,
    pollSeconds: Number(value('--poll-seconds') ?? (quick ? 6 : 30)),
    trials: Number(value('--trials') ?? (quick ? 3 : 12)),
    baselineEvents: 100,
    manyEvents: Number(value('--events') ?? (quick ? 1000 : 10_000)),
    historyView: !argv.includes('--no-history-view') && !quick,
    out: value('--out') ?? join(here, 'results', 'latest.json'),
    budget: quick ? { ...DEFAULT_BUDGET, msPerMethod: 600, minScans: 5 } : DEFAULT_BUDGET,
    phases: new Set((value('--phases') ?? 'cli,scans,engine,history,sight,idle').split(',')),
  };
}

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

const tempDirs: string[] = [];

async function startChild(
  name: string,
  script: string,
  args: readonly string[] = [],
  nodeFlags: readonly string[] = [],
): Promise<{ link: ChildLink; ready: ChildMessage }> {
  const link = spawnNodeChild(name, join(here, script), args, nodeFlags);
  const ready = await link.waitFor((m) => m['type'] === 'ready', 60_000, '"ready"');
  return { link, ready };
}

/** Fails early when the port is not clear: every clear-port number would be wrong. */
async function assertPortClear(): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('ss', ['-H', '-tuan', `( sport = :${PORT} or dport = :${PORT} )`], { encoding: 'utf8' });
  const live = out.split('\n').filter((l) => l.trim() !== '' && !/TIME-WAIT/.test(l));
  if (live.length > 0) throw new Error(`port ${PORT} is in use before the benchmark starts:\n${live.join('\n')}`);
}

async function measureScans(
  farm: ChildLink,
  holder: ChildLink,
  holderPid: number,
  options: Options,
  warnings: string[],
  errors: string[],
): Promise<RunRow[]> {
  const rows: UnratedRow[] = [];
  for (const sockets of [...options.sockets].sort((a, b) => a - b)) {
    const grown = await farm.request(`grow ${sockets}`, 'grown', 120_000);
    progress(`${String(grown['sockets'])} unrelated sockets open; timing with ${PORT} clear`);
    const clear = await timeMethods(clearMethods(PORT), 'clear', { port: PORT, holderPid: null }, options.budget);
    await holder.request('hold tcp', 'bound', 10_000);
    progress(`timing with pid ${holderPid} listening on ${PORT}`);
    const held = await timeMethods(heldMethods(PORT), 'held', { port: PORT, holderPid }, options.budget);
    await holder.request('release', 'released', 10_000);
    for (const t of [...clear, ...held]) {
      if (t.wrongAnswers > 0) {
        const why = t.port596 === 'clear' ? ' (something else used the port: another test running?)' : '';
        const message = `${t.method} (${t.port596}, ${sockets} sockets) answered wrong in ${t.wrongAnswers} of ${t.samples} scans${why}`;
        // Ghostport missing the holder's socket is a broken scan, and its timings mean nothing.
        if (t.method === 'ghostport-found') errors.push(message);
        else warnings.push(message);
      }
      rows.push({ sockets, ...t });
    }
  }
  return addRatios(rows);
}

async function measurePoll(driver: ChildLink, sockets: number, options: Options, warnings: string[]): Promise<PollResult> {
  progress(`poll loop: ${options.pollSeconds} s at ${DEFAULT_INTERVAL_MS} ms with ${sockets} sockets, ${PORT} clear`);
  await driver.request('stats', 'stats', 10_000); // resets the driver's scan-time window
  // The engine's own CPU plus all it started, the long-lived probe shell and its ss included.
  const before = { selfMs: readCpuTimes(driver.pid).selfMs, childrenMs: readDescendantsCpuMs(driver.pid) };
  const started = performance.now();
  await sleep(options.pollSeconds * 1000);
  const after = { selfMs: readCpuTimes(driver.pid).selfMs, childrenMs: readDescendantsCpuMs(driver.pid) };
  const seconds = (performance.now() - started) / 1000;
  const stats = await driver.request('stats', 'stats', 10_000);
  const cpuMs = after.selfMs + after.childrenMs - (before.selfMs + before.childrenMs);
  const fullScans = Number(stats['fullScans']);
  if (fullScans > 0) warnings.push(`poll loop: ${fullScans} of ${String(stats['scans'])} scans were full scans although ${PORT} was meant to stay clear`);
  return {
    intervalMs: DEFAULT_INTERVAL_MS,
    sockets,
    cpuPercent: round((cpuMs / (seconds * 1000)) * 100, 3),
    selfCpuPercent: round(((after.selfMs - before.selfMs) / (seconds * 1000)) * 100, 3),
    toolsCpuPercent: round(((after.childrenMs - before.childrenMs) / (seconds * 1000)) * 100, 3),
    cpuMsPerScan: round(cpuMs / Math.max(1, Number(stats['scans'])), 2),
    fullScans,
    engineRssMb: round(readRssMb(driver.pid) ?? Number.NaN, 1),
    seconds: round(seconds, 1),
    scans: Number(stats['scans']),
    medianScanMs: round(Number(stats['medianScanMs']), 2),
    p90ScanMs: round(Number(stats['p90ScanMs']), 2),
  };
}

function isHolderEvent(holderPid: number, kind: 'appeared' | 'disappeared'): (m: ChildMessage) => boolean {
  return (m) => m['type'] === 'events' && Number(m[kind]) > 0 && (m['pids'] as unknown[]).includes(holderPid);
}

/** Waits until the engine has reported at least `appeared` and `disappeared` events of the holder (a change can straddle two scans). */
async function awaitEvents(driver: ChildLink, holderPid: number, appeared: number, disappeared: number): Promise<void> {
  const wait = DEFAULT_INTERVAL_MS * 4 + 30_000;
  let a = 0;
  let d = 0;
  while (a < appeared || d < disappeared) {
    const m = await driver.waitFor(
      (msg) => msg['type'] === 'events' && (msg['pids'] as unknown[]).includes(holderPid),
      wait,
      `events of the holder (${a}/${appeared} appeared, ${d}/${disappeared} disappeared so far)`,
    );
    a += Number(m['appeared']);
    d += Number(m['disappeared']);
  }
}

async function measureLatency(driver: ChildLink, holder: ChildLink, holderPid: number, sockets: number, options: Options): Promise<LatencyResult> {
  progress(`detection latency: ${options.trials} trials at ${DEFAULT_INTERVAL_MS} ms`);
  const samples: number[] = [];
  const wait = DEFAULT_INTERVAL_MS * 3 + 10_000;
  for (let i = 0; i < options.trials; i++) {
    // A random phase against the poll timer (the last event came right after a scan), so the
    // trials sample the whole interval.
    const pause = Math.random() * DEFAULT_INTERVAL_MS;
    await sleep(pause);
    // Closes the previous trial's socket and binds a new one in one step.
    const bound = await holder.request(`hold ${i % 2 === 0 ? 'tcp' : 'udp'}`, 'bound', 10_000);
    const seen = await driver.waitFor(isHolderEvent(holderPid, 'appeared'), wait, 'the appeared event');
    samples.push(Number(BigInt(String(seen['t'])) - BigInt(String(bound['t']))) / 1e6);
    if (process.env['BENCH_DEBUG']) progress(`trial ${i}: pause ${pause.toFixed(0)} ms, latency ${samples.at(-1)?.toFixed(0)} ms, scan ${String(seen['scanMs'])}`);
  }
  await holder.request('release', 'released', 10_000);
  await driver.waitFor(isHolderEvent(holderPid, 'disappeared'), wait, 'the last disappeared event');
  return {
    p50: round(median(samples), 1),
    p95: round(percentile(samples, 95), 1),
    max: round(Math.max(...samples), 1),
    trials: samples.length,
    intervalMs: DEFAULT_INTERVAL_MS,
    sockets,
    samplesMs: samples.map((s) => round(s, 1)),
  };
}

/**
 * Drives appeared/disappeared events until the engine has recorded at least `target`: bursts of up
 * to 1,000 sockets on 127.1.x.y:596, each replacing the previous burst, so one scan records both
 * the old burst's disappearance and the new one's appearance. Ends with nothing held.
 */
async function driveEvents(driver: ChildLink, holder: ChildLink, holderPid: number, target: number, counted: { events: number }): Promise<void> {
  let open = 0;
  while (counted.events < target || open > 0) {
    const n = Math.min(1000, Math.floor((target - counted.events - open) / 2));
    if (n >= 1) {
      await holder.request(`burst ${n}`, 'bound', 30_000);
      await awaitEvents(driver, holderPid, n, open);
      counted.events += n + open;
      open = n;
    } else if (open > 0) {
      await holder.request('release', 'released', 30_000);
      await awaitEvents(driver, holderPid, 0, open);
      counted.events += open;
      open = 0;
    } else {
      open = 1; // One event short of the target: one more socket makes two.
      await holder.request('burst 1', 'bound', 30_000);
      await awaitEvents(driver, holderPid, 1, 0);
      counted.events += 1;
    }
  }
}

/** RSS of the engine as it is, then after a full GC: garbage of the last bursts is not growth. */
async function sampleMemory(driver: ChildLink): Promise<{ events: number; rss: number; rssAfterGc: number; heapAfterGc: number; stored: number }> {
  const rss = readRssMb(driver.pid) ?? Number.NaN;
  const stats = await driver.request('stats gc', 'stats', 10_000);
  return {
    events: Number(stats['events']),
    rss,
    rssAfterGc: readRssMb(driver.pid) ?? Number.NaN,
    heapAfterGc: Number(stats['heapUsedMb']),
    stored: Number(stats['stored']),
  };
}

async function measureMemory(driver: ChildLink, holder: ChildLink, holderPid: number, options: Options): Promise<MemoryResult> {
  const start = await driver.request('stats', 'stats', 10_000);
  const counted = { events: Number(start['events']) };
  progress(`memory: driving ${options.manyEvents} appeared/disappeared events`);
  await driveEvents(driver, holder, holderPid, options.baselineEvents, counted);
  await sleep(DEFAULT_INTERVAL_MS + 500);
  const baseline = await sampleMemory(driver);
  await driveEvents(driver, holder, holderPid, options.manyEvents, counted);
  await sleep(DEFAULT_INTERVAL_MS + 500);
  const after = await sampleMemory(driver);
  return {
    baselineEvents: baseline.events,
    rssMbBaseline: round(baseline.rssAfterGc, 1),
    afterEvents: after.events,
    rssMbAfter: round(after.rssAfterGc, 1),
    growthMb: round(after.rssAfterGc - baseline.rssAfterGc, 1),
    rssMbBaselineBeforeGc: round(baseline.rss, 1),
    rssMbAfterBeforeGc: round(after.rss, 1),
    heapUsedMbBaseline: round(baseline.heapAfterGc, 1),
    heapUsedMbAfter: round(after.heapAfterGc, 1),
    storedEvents: after.stored,
  };
}

/** Runs a companion (tests/bench/history-view.ts, history-stream.ts) and returns its JSON document's `key`. */
async function runHistoryView(name = 'history-view.ts', key = 'historyView', timeoutMs = 180_000): Promise<unknown> {
  const script = join(here, name);
  if (!existsSync(script)) return { skipped: `tests/bench/${name} is not present` };
  progress(`history: running tests/bench/${name}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return resolve({ error: `${name} exited ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
      try {
        const parsed = JSON.parse(stdout) as Record<string, unknown>;
        resolve(parsed[key] ?? parsed);
      } catch {
        resolve({ error: `${name} printed no JSON document: ${stdout.slice(0, 200)}` });
      }
    });
  });
}

function describeMachine(loadAtStart: readonly number[]): Record<string, unknown> {
  return {
    loadAverage1mAtStart: round(loadAtStart[0] ?? 0, 2),
    loadAverage1mAtEnd: round(loadavg()[0] ?? 0, 2),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: round(totalmem() / 2 ** 30, 1),
    kernel: release(),
    node: process.versions.node,
    root: process.getuid?.() === 0,
    networkNamespace: inOwnNetns() ? 'own (unshare --net)' : 'host',
  };
}

/** What the engine phase measures. */
interface EnginePhase {
  readonly poll: PollResult;
  readonly latency: LatencyResult;
  readonly memory: MemoryResult;
}

/** Poll CPU, latency and memory of an engine child. */
async function measureEngine(
  busy: number,
  holder: ChildLink,
  holderPid: number,
  options: Options,
  warnings: string[],
): Promise<EnginePhase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ghostport-bench-'));
  tempDirs.push(dataDir);
  progress(`engine child: Engine + History (${dataDir}) at ${DEFAULT_INTERVAL_MS} ms`);
  const args = [dataDir, String(DEFAULT_INTERVAL_MS), String(PORT)];
  const driverStart = await startChild('engine driver', 'engine-driver.ts', args, ['--expose-gc']);
  const driver = driverStart.link;
  if (driverStart.ready['health'] !== 'ok') {
    warnings.push(`engine health on start: ${String(driverStart.ready['health'])} ${JSON.stringify(driverStart.ready['issues'])}`);
  }
  const poll = await measurePoll(driver, busy, options, warnings);
  const latency = await measureLatency(driver, holder, holderPid, busy, options);
  const memory = await measureMemory(driver, holder, holderPid, options);
  await driver.stop();
  return { poll, latency, memory };
}

async function runBench(options: Options): Promise<BenchReport & { readonly evidence: EvidenceBench | null; readonly service: ServiceBench | null; readonly sight: SightBench | null; readonly idle: IdleWatchBench | null }> {
  const startedAt = new Date();
  const warnings: string[] = [];
  const errors: string[] = [];
  if (process.platform !== 'linux') throw new Error('the benchmark needs Linux (/proc, ss, lsof)');
  if (process.getuid?.() !== 0) warnings.push('not running as root: owners of other users\' sockets are invisible and lsof/ss -p cost differs');
  await assertPortClear();
  const loadAtStart = loadavg();
  if ((loadAtStart[0] ?? 0) > cpus().length / 2) {
    warnings.push(`load average ${round(loadAtStart[0] ?? 0, 1)} on ${cpus().length} cores at start: other work competes for the CPU, wall times are inflated`);
  }

  // Before the socket farm: lsof walks every process's descriptors, and the farm's would flatter us.
  const cliScan = options.phases.has('cli') ? await measureCliScan(dirname(dirname(here)), PORT) : null;
  const farm = (await startChild('socket farm', 'socket-farm.ts')).link;
  const holderStart = await startChild('port holder', 'port-holder.ts', [String(PORT), '--ghostport-bench-holder']);
  const holder = holderStart.link;
  const holderPid = Number(holderStart.ready['pid']);

  let runs: RunRow[] = [];
  let poll: PollResult | null = null;
  let latency: LatencyResult | null = null;
  let memory: MemoryResult | null = null;
  let evidence: EvidenceBench | null = null;
  let service: ServiceBench | null = null;
  try {
    if (options.phases.has('scans')) runs = await measureScans(farm, holder, holderPid, options, warnings, errors);
    if (options.phases.has('engine')) {
      const busy = Math.max(...options.sockets);
      await farm.request(`grow ${busy}`, 'grown', 120_000);
      ({ poll, latency, memory } = await measureEngine(busy, holder, holderPid, options, warnings));
      evidence = await measureEvidence(holderPid);
      await holder.request('release', 'released', 10_000);
      service = await measureService(PORT, busy, DEFAULT_INTERVAL_MS, options.pollSeconds, Math.min(options.trials, 12));
    }
  } catch (error) {
    errors.push(error instanceof Error ? error.message : String(error));
  }
  await stopAllChildren();
  const sight = options.phases.has('sight') ? await measureSight(dirname(dirname(here))).catch((error: unknown) => (errors.push(`sight: ${String(error)}`), null)) : null;
  // Issue 12's idle watch: in a network and PID namespace of its own, steady state after start-up.
  const idle = options.phases.has('idle')
    ? await measureIdleWatch(Math.max(...options.sockets), options.pollSeconds).catch((error: unknown) => (errors.push(`idle: ${String(error)}`), null))
    : null;
  const historyView =
    options.historyView && options.phases.has('history') ? await runHistoryView() : { skipped: 'not run (--quick, --no-history-view or --phases)' };
  // Issue 15: `history` streaming 1,000,000 events into a closed and a slow pipe.
  const historyStream = options.historyView && options.phases.has('history') ? await runHistoryView('history-stream.ts', 'historyStream', 900_000) : { skipped: 'not run' };
  const partial = { runs, poll, latencyMs: latency, memory, historyView, historyStream };
  const busySockets = options.sockets.includes(10_000) ? 10_000 : Math.max(...options.sockets);
  return {
    ...partial,
    cliScan,
    evidence,
    service,
    sight,
    idle,
    rssMb: memory?.rssMbAfter ?? null,
    targets: evaluateTargets(partial, busySockets),
    machine: describeMachine(loadAtStart),
    startedAt: startedAt.toISOString(),
    durationS: round((Date.now() - startedAt.getTime()) / 1000, 1),
    warnings,
    errors,
  };
}

function cleanupSync(): void {
  killAllChildren();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

if (import.meta.main) {
  const nested = await runInOwnNetns(fileURLToPath(import.meta.url), process.argv.slice(2));
  if (nested !== null) process.exit(nested);
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`bench: ${signal}, cleaning up\n`);
      void stopAllChildren().finally(() => process.exit(130));
    });
  }
  // Measure the product as `npm run build` makes it: with the netlink probe helper compiled...
  const native = buildNative(dirname(dirname(here)));
  if (!native.ok) process.stderr.write(`bench: ${native.message}\n`);
  // ...and the eBPF helper of UDP events (sight).
  const bpf = buildBpf(dirname(dirname(here)));
  if (!bpf.ok) process.stderr.write(`bench: ${bpf.message}\n`);
  try {
    const report = await runBench(options);
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n${report.evidence ? `${formatEvidenceBench(report.evidence)}\n` : ''}${report.service ? `${formatServiceBench(report.service, { pollCpuPercent: report.poll?.cpuPercent ?? null, latencyP50: report.latencyMs?.p50 ?? null })}\n` : ''}${report.sight ? `${formatSightBench(report.sight)}\n` : ''}${report.idle ? `${formatIdleWatch(report.idle)}\n` : ''}`);
    process.exitCode = report.errors.length > 0 ? 1 : 0;
  } catch (error) {
    process.stderr.write(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await stopAllChildren();
    cleanupSync();
  }
}

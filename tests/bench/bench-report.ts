/**
 * The benchmark's report: its JSON shape (the schema plus extra fields), the targets of
 * issue 5 checked against it, and the human-readable table. Pure, so the verdicts are unit-tested.
 */
import { ratio, round } from './stats.ts';
import type { MethodName, PortState } from './methods.ts';
import { formatCliScan, type CliScanResult } from './cli-scan.ts';

/** One timed method at one socket count (the issue's `runs[]` row, plus extras). */
export interface RunRow {
  readonly sockets: number;
  readonly method: MethodName;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly cpuMsPerScan: number;
  readonly port596: PortState;
  readonly samples: number;
  readonly childCpuMsPerScan: number;
  readonly wrongAnswers: number;
  /** This method's median over Ghostport's steady-state median at the same socket count. */
  readonly medianVsSteady: number | null;
  /** This method's median over Ghostport's found-scan median at the same socket count. */
  readonly medianVsFound: number | null;
  readonly cpuVsSteady: number | null;
}

/** CPU of the poll loop over a fixed time. */
export interface PollResult {
  readonly intervalMs: number;
  readonly sockets: number;
  readonly cpuPercent: number;
  /** Of cpuPercent, the engine process itself and the tools it spawned (ss, netstat...). */
  readonly selfCpuPercent: number;
  readonly toolsCpuPercent: number;
  readonly cpuMsPerScan: number;
  /** Scans that ran the owner lookup (expected 0 with the port clear). */
  readonly fullScans: number;
  /** RSS of the engine process at the end of the poll measurement. */
  readonly engineRssMb: number;
  readonly seconds: number;
  readonly scans: number;
  readonly medianScanMs: number;
  readonly p90ScanMs: number;
}

/** Bind-to-event latency over repeated trials. */
export interface LatencyResult {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly trials: number;
  readonly intervalMs: number;
  readonly sockets: number;
  readonly samplesMs: readonly number[];
}

/** RSS of the engine process after few and after many events (after a full GC; raw RSS before it too). */
export interface MemoryResult {
  readonly afterEvents: number;
  readonly rssMbAfter: number;
  readonly baselineEvents: number;
  readonly rssMbBaseline: number;
  readonly growthMb: number;
  readonly rssMbBaselineBeforeGc: number;
  readonly rssMbAfterBeforeGc: number;
  readonly heapUsedMbBaseline: number;
  readonly heapUsedMbAfter: number;
  readonly storedEvents: number;
}

/** One target of the issue and whether this run met it. */
export interface TargetVerdict {
  readonly id: string;
  readonly target: string;
  readonly status: 'PASS' | 'FAIL' | 'N/A';
  readonly measured: string;
}

/** The whole report (`--json` prints exactly this). */
export interface BenchReport {
  readonly runs: readonly RunRow[];
  readonly poll: PollResult | null;
  readonly latencyMs: LatencyResult | null;
  readonly rssMb: number | null;
  readonly memory: MemoryResult | null;
  readonly historyView: unknown;
  /** tests/bench/history-stream.ts (issue 15). */
  readonly historyStream?: unknown;
  readonly targets: readonly TargetVerdict[];
  readonly machine: Readonly<Record<string, unknown>>;
  readonly startedAt: string;
  readonly durationS: number;
  readonly warnings: readonly string[];
  readonly errors: readonly string[];
  /** Whole-process `ghostport scan` vs lsof vs ss (tests/bench/cli-scan.ts). */
  readonly cliScan?: CliScanResult | null;
}

/** A row before its ratios are known. */
export type UnratedRow = Omit<RunRow, 'medianVsSteady' | 'medianVsFound' | 'cpuVsSteady'>;

/** Fills in each row's ratios to Ghostport's rows at the same socket count, found in `reference` (by default the rows themselves). */
export function addRatios(rows: readonly UnratedRow[], reference: readonly UnratedRow[] = rows): RunRow[] {
  return rows.map((row) => {
    const steady = reference.find((r) => r.sockets === row.sockets && r.method === 'ghostport-steady');
    const found = reference.find((r) => r.sockets === row.sockets && r.method === 'ghostport-found');
    return {
      ...row,
      medianVsSteady: steady ? roundOrNull(ratio(row.medianMs, steady.medianMs)) : null,
      medianVsFound: found ? roundOrNull(ratio(row.medianMs, found.medianMs)) : null,
      cpuVsSteady: steady ? roundOrNull(ratio(row.cpuMsPerScan, steady.cpuMsPerScan)) : null,
    };
  });
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : round(value, 2);
}

function findRow(runs: readonly RunRow[], sockets: number, method: MethodName, port596?: PortState): RunRow | undefined {
  return runs.find((r) => r.sockets === sockets && r.method === method && (port596 === undefined || r.port596 === port596));
}

const na = (id: string, target: string, why: string): TargetVerdict => ({ id, target, status: 'N/A', measured: why });
const verdict = (id: string, target: string, pass: boolean, measured: string): TargetVerdict => ({
  id,
  target,
  status: pass ? 'PASS' : 'FAIL',
  measured,
});

/** Checks the targets of issue 5 against a run (at the given busy-host socket count). */
export function evaluateTargets(
  report: Pick<BenchReport, 'runs' | 'poll' | 'latencyMs' | 'memory' | 'historyView'>,
  busySockets = 10_000,
): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  const steady = findRow(report.runs, busySockets, 'ghostport-steady');
  const si = findRow(report.runs, busySockets, 'systeminformation');
  const bare = findRow(report.runs, busySockets, 'ss-filter-no-owner', 'clear');
  const found = findRow(report.runs, busySockets, 'ghostport-found');
  const lsof = findRow(report.runs, busySockets, 'lsof');

  const t1 = `steady scan at ${busySockets} sockets >= 20x cheaper than systeminformation`;
  if (steady && si) {
    const wall = si.medianMs / steady.medianMs;
    const cpu = si.cpuMsPerScan / steady.cpuMsPerScan;
    out.push(verdict('steady-vs-si', t1, wall >= 20 && cpu >= 20, `median ${round(wall, 1)}x, CPU ${round(cpu, 1)}x`));
  } else out.push(na('steady-vs-si', t1, 'not measured'));

  const t2 = `steady scan at ${busySockets} sockets <= 2x bare ss without owners`;
  if (steady && bare) {
    const wall = steady.medianMs / bare.medianMs;
    const cpu = steady.cpuMsPerScan / bare.cpuMsPerScan;
    out.push(verdict('steady-vs-ss', t2, wall <= 2, `median ${round(wall, 2)}x (${fmt(steady.medianMs)} vs ${fmt(bare.medianMs)} ms); CPU ${round(cpu, 2)}x`));
  } else out.push(na('steady-vs-ss', t2, 'not measured'));

  const t3 = `poll-loop CPU at the default interval, ${busySockets} sockets, 596 clear < 0.5 % of a core`;
  if (report.poll) {
    out.push(verdict('poll-cpu', t3, report.poll.cpuPercent < 0.5, `${round(report.poll.cpuPercent, 3)} % at ${report.poll.intervalMs} ms, ${report.poll.sockets} sockets`));
  } else out.push(na('poll-cpu', t3, 'not measured'));

  const t4 = 'detection latency p95 <= poll interval + 100 ms';
  if (report.latencyMs) {
    const limit = report.latencyMs.intervalMs + 100;
    out.push(verdict('latency', t4, report.latencyMs.p95 <= limit, `p95 ${fmt(report.latencyMs.p95)} ms (limit ${limit}), p50 ${fmt(report.latencyMs.p50)} ms, ${report.latencyMs.trials} trials`));
  } else out.push(na('latency', t4, 'not measured'));

  const t5 = `scan with something on 596 at ${busySockets} sockets faster than lsof -i :596`;
  if (found && lsof) {
    out.push(verdict('found-vs-lsof', t5, found.medianMs < lsof.medianMs, `${fmt(found.medianMs)} vs ${fmt(lsof.medianMs)} ms median (${round(lsof.medianMs / found.medianMs, 2)}x)`));
  } else out.push(na('found-vs-lsof', t5, 'not measured'));

  const t6 = 'watch RSS after 10,000 events within 20 MB of RSS after 100';
  if (report.memory) {
    const m = report.memory;
    out.push(
      verdict(
        'memory',
        t6,
        m.growthMb <= 20,
        `${fmt(m.rssMbBaseline)} MB after ${m.baselineEvents}, ${fmt(m.rssMbAfter)} MB after ${m.afterEvents} (+${fmt(m.growthMb)} MB, each after a full GC; without it ${fmt(m.rssMbBaselineBeforeGc)} -> ${fmt(m.rssMbAfterBeforeGc)} MB)`,
      ),
    );
  } else out.push(na('memory', t6, 'not measured'));

  const t7 = 'history view with 100,000 events: time to first rows and scroll frame time reported';
  const hv = report.historyView as { skipped?: unknown; error?: unknown } | null | undefined;
  if (hv && typeof hv === 'object' && hv.skipped === undefined && hv.error === undefined) {
    out.push({ id: 'history-view', target: t7, status: 'PASS', measured: summarize(hv) });
  } else {
    out.push(na('history-view', t7, hv && typeof hv === 'object' ? String(hv.skipped ?? hv.error) : 'not measured'));
  }
  return out;
}

function summarize(value: object, prefix = ''): string {
  return Object.entries(value)
    .flatMap(([k, v]): string[] => {
      if (typeof v === 'number') return [`${prefix}${k} ${fmt(v)}`];
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return [summarize(v as object, `${prefix}${k}.`)];
      return [];
    })
    .filter((part) => part !== '')
    .join(', ');
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function ratioText(value: number | null): string {
  return value === null ? '-' : `${value >= 10 ? value.toFixed(0) : value.toFixed(1)}x`;
}

/** Renders the report as plain-text tables for a terminal. */
export function formatReport(report: BenchReport): string {
  const lines: string[] = [];
  const all = report.runs;
  const header = ['method', '596', 'scans', 'median ms', 'p90 ms', 'CPU ms/scan', 'of it tools', 'vs steady', 'vs found', 'wrong'];
  const widths = [19, 5, 5, 9, 8, 11, 11, 9, 8, 5];
  for (const sockets of [...new Set(all.map((r) => r.sockets))]) {
    lines.push('', `${sockets.toLocaleString('en-US')} unrelated sockets`);
    lines.push(header.map((h, i) => pad(h, widths[i]!, i >= 2)).join('  '));
    for (const r of all.filter((row) => row.sockets === sockets)) {
      const cells = [
        r.method,
        r.port596,
        String(r.samples),
        fmt(r.medianMs),
        fmt(r.p90Ms),
        fmt(r.cpuMsPerScan),
        fmt(r.childCpuMsPerScan),
        ratioText(r.medianVsSteady),
        ratioText(r.medianVsFound),
        String(r.wrongAnswers),
      ];
      lines.push(cells.map((c, i) => pad(c, widths[i]!, i >= 2)).join('  '));
    }
  }
  lines.push('');
  if (report.cliScan) lines.push(formatCliScan(report.cliScan));
  if (report.poll) {
    const p = report.poll;
    lines.push(
      `poll loop: ${fmt(p.cpuPercent)} % of one core (engine ${fmt(p.selfCpuPercent)} %, spawned tools ${fmt(p.toolsCpuPercent)} %; ${fmt(p.cpuMsPerScan)} ms CPU a scan) over ${p.seconds} s at ${p.intervalMs} ms, ${p.sockets} sockets, 596 clear (${p.scans} scans, ${p.fullScans} full, median ${fmt(p.medianScanMs)} ms; engine RSS ${fmt(p.engineRssMb)} MB)`,
    );
  }
  if (report.latencyMs) {
    const l = report.latencyMs;
    lines.push(`detection latency (bind -> event): p50 ${fmt(l.p50)} ms, p95 ${fmt(l.p95)} ms, max ${fmt(l.max)} ms over ${l.trials} trials at ${l.intervalMs} ms`);
  }
  if (report.memory) {
    const m = report.memory;
    lines.push(
      `engine RSS after a full GC: ${fmt(m.rssMbBaseline)} MB after ${m.baselineEvents} events, ${fmt(m.rssMbAfter)} MB after ${m.afterEvents} (+${fmt(m.growthMb)} MB; before the GC ${fmt(m.rssMbBaselineBeforeGc)} -> ${fmt(m.rssMbAfterBeforeGc)} MB; heap ${fmt(m.heapUsedMbBaseline)} -> ${fmt(m.heapUsedMbAfter)} MB; ${m.storedEvents} stored)`,
    );
  }
  const hv = report.historyView;
  lines.push(`history view: ${hv !== null && typeof hv === 'object' && !('skipped' in hv) && !('error' in hv) ? summarize(hv) : JSON.stringify(hv)}`);
  if (report.historyStream !== undefined) lines.push(`history stream (issue 15): ${JSON.stringify(report.historyStream)}`);
  lines.push('', 'targets (issue 5):');
  for (const t of report.targets) lines.push(`  ${pad(t.status, 4)}  ${t.target}: ${t.measured}`);
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  for (const e of report.errors) lines.push(`ERROR: ${e}`);
  const m = report.machine;
  lines.push(
    '',
    `${String(m['cpu'])}, ${String(m['cores'])} cores, Linux ${String(m['kernel'])}, Node ${String(m['node'])}, load ${String(m['loadAverage1mAtStart'])} -> ${String(m['loadAverage1mAtEnd'])}, network namespace: ${String(m['networkNamespace'])}; ${round(report.durationS, 0)} s`,
  );
  return lines.join('\n');
}

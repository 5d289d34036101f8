/**
 * The one-shot question "what is on port 596?" answered by whole processes, as an admin asks it:
 * `ghostport scan` (the bin over the bundle, as `npm install` builds it) against
 * `lsof -nP -i :596` and `ss -tuanp` with the port filter, interleaved, median of 10 runs each
 * (wall time, and the CPU of the process and its children). Target: ghostport at most 3x lsof.
 */
import { spawnSync } from 'node:child_process';
import { buildCli } from '../../electron/build/build.ts';
import { readChildrenCpuMs } from './proc-stat.ts';
import { median, ratio, round } from './stats.ts';

/** One command's numbers. */
export interface CliScanRow {
  readonly method: string;
  readonly argv: readonly string[];
  readonly medianMs: number;
  readonly cpuMedianMs: number;
  /** Exit statuses seen (0 clear, 1 found for ghostport and lsof). */
  readonly statuses: readonly number[];
}

/** The whole-process comparison and its verdict. */
export interface CliScanResult {
  readonly runs: number;
  readonly rows: readonly CliScanRow[];
  /** ghostport's median wall time over lsof's. */
  readonly vsLsof: number | null;
  readonly target: { readonly maxVsLsof: number; readonly pass: boolean };
}

const MAX_VS_LSOF = 3;

/** Measures the three commands `runs` times each, interleaved so that load hits all alike. */
export async function measureCliScan(root: string, port: number, runs = 10): Promise<CliScanResult> {
  await buildCli(root);
  const methods: [string, string[]][] = [
    ['ghostport scan', [process.execPath, 'electron/node/cli/ghostport.mjs', 'scan', '--port', String(port), '--quiet']],
    ['lsof -nP -i', ['lsof', '-nP', '-i', `:${port}`]],
    ['ss -tuanp', ['ss', '-tuanp', `sport = :${port} or dport = :${port}`]],
  ];
  // One unmeasured run each: the compile cache and the page cache are warm, as on a used machine.
  for (const [, argv] of methods) spawnSync(argv[0]!, argv.slice(1), { cwd: root, stdio: 'ignore' });
  const samples = methods.map(() => ({ wall: [] as number[], cpu: [] as number[], statuses: new Set<number>() }));
  for (let r = 0; r < runs; r++) {
    methods.forEach(([, argv], i) => {
      const cpuBefore = readChildrenCpuMs();
      const started = performance.now();
      const result = spawnSync(argv[0]!, argv.slice(1), { cwd: root, stdio: 'ignore' });
      samples[i]!.wall.push(performance.now() - started);
      samples[i]!.cpu.push(readChildrenCpuMs() - cpuBefore);
      samples[i]!.statuses.add(result.status ?? -1);
    });
  }
  const rows = methods.map(([method, argv], i) => ({
    method,
    argv,
    medianMs: round(median(samples[i]!.wall), 1),
    cpuMedianMs: round(median(samples[i]!.cpu), 1),
    statuses: [...samples[i]!.statuses],
  }));
  const vsLsof = ratio(rows[0]!.medianMs, rows[1]!.medianMs);
  return { runs, rows, vsLsof: vsLsof === null ? null : round(vsLsof, 2), target: { maxVsLsof: MAX_VS_LSOF, pass: vsLsof !== null && vsLsof <= MAX_VS_LSOF } };
}

/** The report's lines for this comparison. */
export function formatCliScan(result: CliScanResult): string {
  const lines = [`whole-process one-shot scan of port 596 (median of ${result.runs}, interleaved):`];
  for (const r of result.rows) lines.push(`  ${r.method.padEnd(16)} ${String(r.medianMs).padStart(7)} ms wall  ${String(r.cpuMedianMs).padStart(7)} ms CPU  exit ${r.statuses.join('/')}`);
  lines.push(`  ${result.target.pass ? 'PASS' : 'FAIL'} ghostport scan is ${result.vsLsof ?? '?'}x lsof (target <= ${result.target.maxVsLsof}x)`);
  return `${lines.join('\n')}\n`;
}

if (import.meta.main) {
  process.stdout.write(formatCliScan(await measureCliScan(process.cwd(), 596)));
}

/**
 * The one-shot question "what is on port 596?" answered by whole processes, as an admin asks it:
 * `ghostport scan` (the bin over the bundle, as `npm install` builds it) against
 * `lsof -nP -i :596` and `ss -tuanp` with the port filter, interleaved, median of 10 runs each
 * (wall time, and the CPU of the process and its children), with the port clear and with a
 * listener on it. Target: ghostport at most 3x lsof.
 */
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** The whole-process comparison and its verdict, with the port clear and with a listener on it. */
export interface CliScanResult {
  readonly runs: number;
  readonly rows: readonly CliScanRow[];
  /** ghostport's median wall time over lsof's. */
  readonly vsLsof: number | null;
  /** The same with a listener on the port (ghostport then looks up its owner, as lsof always does). */
  readonly found: { readonly rows: readonly CliScanRow[]; readonly vsLsof: number | null } | null;
  readonly target: { readonly maxVsLsof: number; readonly pass: boolean };
}

const MAX_VS_LSOF = 3;

/** Measures the three commands `runs` times each, interleaved so that load hits all alike; then again with a listener on the port. */
export async function measureCliScan(root: string, port: number, runs = 10): Promise<CliScanResult> {
  await buildCli(root);
  const methods: [string, string[]][] = [
    ['ghostport scan', [process.execPath, 'electron/node/cli/ghostport.mjs', 'scan', '--port', String(port), '--quiet']],
    ['lsof -nP -i', ['lsof', '-nP', '-i', `:${port}`]],
    ['ss -tuanp', ['ss', '-tuanp', `sport = :${port} or dport = :${port}`]],
  ];
  const clear = measureRows(root, methods, runs);
  // A listener with no pipes (a daemon's shape): its owner is looked up by each tool.
  const listener = spawn('python3', ['-c', `import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", ${port})); s.listen(); time.sleep(600)`], { stdio: 'ignore' });
  let found: CliScanResult['found'] = null;
  try {
    for (let i = 0; i < 100 && spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim() === ''; i++) await sleep(20);
    const rows = measureRows(root, methods, runs);
    found = { rows, vsLsof: ratioOf(rows) };
  } finally {
    listener.kill('SIGKILL');
  }
  const vsLsof = ratioOf(clear);
  const pass = [vsLsof, found?.vsLsof ?? null].every((r) => r !== null && r <= MAX_VS_LSOF);
  return { runs, rows: clear, vsLsof, found, target: { maxVsLsof: MAX_VS_LSOF, pass } };
}

function ratioOf(rows: readonly CliScanRow[]): number | null {
  const r = ratio(rows[0]!.medianMs, rows[1]!.medianMs);
  return r === null ? null : round(r, 2);
}

function measureRows(root: string, methods: readonly [string, string[]][], runs: number): CliScanRow[] {
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
  return methods.map(([method, argv], i) => ({
    method,
    argv,
    medianMs: round(median(samples[i]!.wall), 1),
    cpuMedianMs: round(median(samples[i]!.cpu), 1),
    statuses: [...samples[i]!.statuses],
  }));
}

/** The report's lines for this comparison. */
export function formatCliScan(result: CliScanResult): string {
  const lines = [`whole-process one-shot scan of port 596 (median of ${result.runs}, interleaved):`];
  const table = (title: string, rows: readonly CliScanRow[], vsLsof: number | null) => {
    lines.push(`  ${title}`);
    for (const r of rows) lines.push(`    ${r.method.padEnd(16)} ${String(r.medianMs).padStart(7)} ms wall  ${String(r.cpuMedianMs).padStart(7)} ms CPU  exit ${r.statuses.join('/')}`);
    lines.push(`    ghostport scan is ${vsLsof ?? '?'}x lsof`);
  };
  table('port clear:', result.rows, result.vsLsof);
  if (result.found) table('a listener on the port:', result.found.rows, result.found.vsLsof);
  lines.push(`  ${result.target.pass ? 'PASS' : 'FAIL'} ghostport scan at most ${result.target.maxVsLsof}x lsof, both ways`);
  return `${lines.join('\n')}\n`;
}

if (import.meta.main) {
  // As root, in a network namespace of its own: its listener on 596 must not disturb anyone's tests.
  const { runInOwnNetns } = await import('./own-netns.ts');
  const code = await runInOwnNetns(new URL(import.meta.url).pathname, process.argv.slice(2));
  if (code !== null) process.exit(code);
  process.stdout.write(formatCliScan(await measureCliScan(process.cwd(), 596)));
}

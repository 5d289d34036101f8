/**
 * Times methods side by side: wall time of every scan, and CPU per scan over blocks of scans,
 * counting this process's CPU (process.cpuUsage, microseconds) and that of the tools the scan
 * spawned (cutime+cstime of this process, which the kernel adds when a child is reaped).
 * Methods take turns in blocks of about half a second, so a slow spell of the machine hits all
 * of them alike rather than one.
 */
import { performance } from 'node:perf_hooks';
import { readChildrenCpuMs } from './proc-stat.ts';
import { median, percentile, round } from './stats.ts';
import type { Expectation, Method, MethodName, PortState } from './methods.ts';

/** Timing of one method at one socket count. */
export interface MethodTiming {
  readonly method: MethodName;
  readonly port596: PortState;
  readonly samples: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly cpuMsPerScan: number;
  /** Of cpuMsPerScan, the part spent in spawned tools (ss, lsof, netstat, sh). */
  readonly childCpuMsPerScan: number;
  /** Runs whose answer was wrong (missed the holder, or saw something on a clear port). */
  readonly wrongAnswers: number;
}

/** How long to spend per method: enough scans for a stable p90 and CPU figure, bounded in time. */
export interface Budget {
  readonly msPerMethod: number;
  readonly minScans: number;
  readonly maxScans: number;
  readonly blockMs: number;
}

/** The default budget: about 2.5 s per method, 15 to 200 scans. */
export const DEFAULT_BUDGET: Budget = { msPerMethod: 2500, minScans: 15, maxScans: 200, blockMs: 500 };

interface Tally {
  readonly method: Method;
  readonly target: number;
  readonly block: number;
  readonly wall: number[];
  cpuMs: number;
  childMs: number;
  wrong: number;
}

/** Times each method (after two warm-up scans each) and returns one row per method. */
export async function timeMethods(
  methods: readonly Method[],
  port596: PortState,
  expect: Expectation,
  budget: Budget = DEFAULT_BUDGET,
): Promise<MethodTiming[]> {
  const tallies: Tally[] = [];
  for (const method of methods) {
    // Warm-up: loads code, fills caches, and the first engine scan is the full one by design;
    // the second run, a normal one, sets how many fit in the budget.
    await method.run(expect);
    const started = performance.now();
    await method.run(expect);
    const warmMs = Math.max(0.1, performance.now() - started);
    const target = clamp(Math.round(budget.msPerMethod / warmMs), budget.minScans, budget.maxScans);
    const block = clamp(Math.round(budget.blockMs / warmMs), 1, target);
    tallies.push({ method, target, block, wall: [], cpuMs: 0, childMs: 0, wrong: 0 });
  }
  while (tallies.some((t) => t.wall.length < t.target)) {
    for (const t of tallies) {
      const n = Math.min(t.block, t.target - t.wall.length);
      if (n <= 0) continue;
      const cpu0 = process.cpuUsage();
      const child0 = readChildrenCpuMs();
      for (let i = 0; i < n; i++) {
        const started = performance.now();
        const right = await t.method.run(expect);
        t.wall.push(performance.now() - started);
        if (!right) t.wrong++;
      }
      const cpu = process.cpuUsage(cpu0);
      const childMs = readChildrenCpuMs() - child0;
      t.cpuMs += (cpu.user + cpu.system) / 1000 + childMs;
      t.childMs += childMs;
    }
  }
  return tallies.map((t) => ({
    method: t.method.name,
    port596,
    samples: t.wall.length,
    medianMs: round(median(t.wall), 3),
    p90Ms: round(percentile(t.wall, 90), 3),
    cpuMsPerScan: round(t.cpuMs / t.wall.length, 3),
    childCpuMsPerScan: round(t.childMs / t.wall.length, 3),
    wrongAnswers: t.wrong,
  }));
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/**
 * Pure arithmetic of the benchmark: percentiles, rounding and ratios. No I/O, so it has its own
 * unit tests and the numbers in the report can be trusted to mean what their names say.
 */

/** The p-th percentile (0..100) of the samples by linear interpolation; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (rank - lower);
}

/** The median of the samples; NaN when there are none. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** Rounds for display and JSON: enough digits for sub-millisecond scans, no float noise. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** How many times `baseline` costs more than `subject` (e.g. 20 = subject is 20x cheaper); null when undefined. */
export function ratio(baseline: number, subject: number): number | null {
  if (!Number.isFinite(baseline) || !Number.isFinite(subject) || subject <= 0) return null;
  return baseline / subject;
}

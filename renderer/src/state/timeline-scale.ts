/**
 * Geometry of the activity chart: bars from bucket counts, and time labels along the axis.
 * Pure, so the drawing is tested without a browser.
 */
import type { TimelineBucket } from '#common/history-query.ts';
import { formatDate, formatTimeOfDay } from '../format/time.ts';

/** One bar: a bucket's time slice and its two stacked segments, in pixels. */
export interface TimelineBar {
  readonly index: number;
  readonly start: string;
  readonly end: string;
  readonly x: number;
  readonly width: number;
  readonly appeared: number;
  readonly disappeared: number;
  /** Top and height of the "appeared" segment (bottom of the stack). */
  readonly appearedY: number;
  readonly appearedHeight: number;
  /** Top and height of the "disappeared" segment (stacked above). */
  readonly disappearedY: number;
  readonly disappearedHeight: number;
}

/** The plot area inside the SVG. */
export interface PlotArea {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** A label on the time axis. */
export interface AxisTick {
  readonly x: number;
  readonly label: string;
}

/** Smallest visible height of a non-empty segment, so one event in a busy range is still seen. */
export const MIN_SEGMENT_PX = 2;

/** The largest stacked count, at least 1. */
export function maxCount(buckets: readonly TimelineBucket[]): number {
  return buckets.reduce((max, b) => Math.max(max, b.appeared + b.disappeared), 0) || 1;
}

/** Lays out one bar per bucket across the plot area. `until` closes the last bucket. */
export function layoutBars(buckets: readonly TimelineBucket[], until: string, area: PlotArea): readonly TimelineBar[] {
  const max = maxCount(buckets);
  const slot = buckets.length > 0 ? area.width / buckets.length : 0;
  const gap = slot > 4 ? Math.min(2, slot * 0.2) : 0;
  const bottom = area.top + area.height;
  const scale = (n: number): number => (n === 0 ? 0 : Math.max(MIN_SEGMENT_PX, (n / max) * area.height));
  return buckets.map((bucket, index) => {
    const appearedHeight = scale(bucket.appeared);
    const disappearedHeight = Math.min(scale(bucket.disappeared), area.height - appearedHeight);
    return {
      index,
      start: bucket.start,
      end: buckets[index + 1]?.start ?? until,
      x: area.left + index * slot + gap / 2,
      width: Math.max(1, slot - gap),
      appeared: bucket.appeared,
      disappeared: bucket.disappeared,
      appearedY: bottom - appearedHeight,
      appearedHeight,
      disappearedY: bottom - appearedHeight - disappearedHeight,
      disappearedHeight,
    };
  });
}

const TICK_STEPS_MS = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000];

/**
 * Labels at round times (whole minutes, hours, days) across `[since, until]`, at most
 * `maxTicks` of them: times of day for spans under two days, dates beyond.
 */
export function axisTicks(since: string, until: string, area: PlotArea, maxTicks: number): readonly AxisTick[] {
  const from = Date.parse(since);
  const to = Date.parse(until);
  if (!(to > from) || maxTicks < 1) return [];
  const span = to - from;
  const step = TICK_STEPS_MS.find((s) => span / s <= maxTicks) ?? span / maxTicks;
  const withDates = span >= 2 * 86_400_000;
  const ticks: AxisTick[] = [];
  // Round to the step in local time so hour and day ticks land on local boundaries.
  const offset = new Date(from).getTimezoneOffset() * 60_000;
  let t = Math.ceil((from - offset) / step) * step + offset;
  for (; t <= to && ticks.length < maxTicks + 1; t += step) {
    const date = new Date(t);
    const label = withDates ? formatDate(date).slice(5) : formatTimeOfDay(date).slice(0, 5);
    ticks.push({ x: area.left + ((t - from) / span) * area.width, label });
  }
  return ticks;
}

/** One sentence describing the chart for screen readers. */
export function describeTimeline(buckets: readonly TimelineBucket[], rangeLabel: string): string {
  const appeared = buckets.reduce((n, b) => n + b.appeared, 0);
  const disappeared = buckets.reduce((n, b) => n + b.disappeared, 0);
  if (appeared + disappeared === 0) return `No activity on the watched ports (${rangeLabel.toLowerCase()}).`;
  let busiest = buckets[0];
  for (const bucket of buckets) if (busiest && bucket.appeared + bucket.disappeared > busiest.appeared + busiest.disappeared) busiest = bucket;
  const when = busiest ? ` Busiest around ${formatDate(new Date(busiest.start))} ${formatTimeOfDay(new Date(busiest.start)).slice(0, 5)}.` : '';
  return `${rangeLabel}: ${appeared} appeared and ${disappeared} disappeared.${when}`;
}

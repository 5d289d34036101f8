/**
 * The history view's filter, and how it becomes a `HistoryQuery` and a timeline request.
 * One filter drives both the chart and the list, so the chart always explains the rows below it.
 */
import type { EventType, Protocol } from '#common/model.ts';
import type { HistoryQuery, TimelineQuery } from '#common/history-query.ts';

/** The time span the chart and the list cover. */
export type HistoryRange = 'hour' | 'day' | 'week' | 'all' | 'custom';

/** What the user filters the history by. Empty strings and nulls mean "any". */
export interface HistoryFilter {
  readonly range: HistoryRange;
  /** ISO bounds, used when `range` is `custom`. */
  readonly since: string | null;
  readonly until: string | null;
  readonly port: number | null;
  readonly protocol: Protocol | null;
  readonly type: EventType | null;
  /** Exact process name, executable path or pid. */
  readonly process: string;
  /** Free text over name, path, command, user and addresses. */
  readonly text: string;
}

/** The filter a fresh window starts with: the last day, everything in it. */
export const defaultHistoryFilter: HistoryFilter = {
  range: 'day',
  since: null,
  until: null,
  port: null,
  protocol: null,
  type: null,
  process: '',
  text: '',
};

/** Length of each preset range in milliseconds. */
export const RANGE_MS: Readonly<Record<'hour' | 'day' | 'week', number>> = {
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/** Human names of the ranges, for buttons and the chart's label. */
export const RANGE_LABELS: Readonly<Record<HistoryRange, string>> = {
  hour: 'Last hour',
  day: 'Last day',
  week: 'Last week',
  all: 'All time',
  custom: 'Custom',
};

/** The time bounds a filter covers at time `now`; null bounds are open. */
export function rangeBounds(filter: HistoryFilter, now: number): { readonly since: string | null; readonly until: string | null } {
  switch (filter.range) {
    case 'hour':
    case 'day':
    case 'week':
      return { since: new Date(now - RANGE_MS[filter.range]).toISOString(), until: null };
    case 'all':
      return { since: null, until: null };
    case 'custom':
      return { since: filter.since, until: filter.until };
  }
}

/** The filter as a history query, newest first, without paging (the list adds offset and limit). */
export function buildHistoryQuery(filter: HistoryFilter, now: number): HistoryQuery {
  const { since, until } = rangeBounds(filter, now);
  const query: { -readonly [K in keyof HistoryQuery]: HistoryQuery[K] } = { order: 'desc' };
  if (since) query.since = since;
  if (until) query.until = until;
  if (filter.port !== null) query.ports = [filter.port];
  if (filter.protocol) query.protocols = [filter.protocol];
  if (filter.type) query.types = [filter.type];
  const process = filter.process.trim();
  if (process) query.process = process;
  const text = filter.text.trim();
  if (text) query.text = text;
  return query;
}

/** How many bars the chart draws for a span: whole minutes, quarter hours or hours where they fit. */
export function bucketCountFor(range: HistoryRange, spanMs: number): number {
  switch (range) {
    case 'hour':
      return 60;
    case 'day':
      return 96;
    case 'week':
      return 168;
    default:
      return Math.max(1, Math.min(120, Math.ceil(spanMs / 60_000)));
  }
}

/**
 * The timeline request for a filter. `firstEventAt` is the oldest matching event, which
 * bounds "all time" (and a custom range without a start); null when there is none.
 */
export function buildTimelineQuery(filter: HistoryFilter, now: number, firstEventAt: string | null): TimelineQuery | null {
  const bounds = rangeBounds(filter, now);
  const until = bounds.until ?? new Date(now).toISOString();
  const since = bounds.since ?? firstEventAt;
  if (!since) return null;
  const sinceMs = Date.parse(since);
  let untilMs = Date.parse(until);
  // A span of zero (one event, or an inverted custom range) would be an empty chart.
  if (!(untilMs > sinceMs)) untilMs = sinceMs + 60_000;
  const query = buildHistoryQuery(filter, now);
  const { order: _order, since: _since, until: _until, ...rest } = query;
  const filterPart: TimelineQuery['filter'] = rest;
  return {
    since: new Date(sinceMs).toISOString(),
    until: new Date(untilMs).toISOString(),
    buckets: bucketCountFor(filter.range, untilMs - sinceMs),
    ...(Object.keys(filterPart ?? {}).length > 0 ? { filter: filterPart } : {}),
  };
}

/** True when the filter narrows anything besides the time range. */
export function isNarrowed(filter: HistoryFilter): boolean {
  return filter.port !== null || filter.protocol !== null || filter.type !== null || filter.process.trim() !== '' || filter.text.trim() !== '';
}

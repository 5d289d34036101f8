/**
 * The activity chart's data for the current filter: finds where "all time" begins (the oldest
 * matching event), then asks the history for bucketed counts. Refreshes with the list.
 */
import { useEffect, useRef, useState } from 'react';
import type { GhostportApi } from '#common/ipc-contract.ts';
import type { TimelineBucket, TimelineQuery } from '#common/history-query.ts';
import { buildHistoryQuery, buildTimelineQuery } from './history-filter.ts';
import type { HistoryFilter } from './history-filter.ts';
import { settle } from './settle.ts';

/** What the chart draws, or why it cannot. */
export interface TimelineData {
  readonly query: TimelineQuery | null;
  readonly buckets: readonly TimelineBucket[];
  readonly loading: boolean;
  readonly error: string | null;
}

/** How long new events wait before the chart redraws. */
export const REDRAW_DELAY_MS = 1000;

const EMPTY: TimelineData = { query: null, buckets: [], loading: true, error: null };

/**
 * Loads the chart for `filter`; reloads (debounced by a second) when `revision` says new events
 * arrived. Nothing is asked while `enabled` is false: the view holds the chart back until the
 * list's first rows are in, because the main process answers one request at a time and
 * bucketing a large history takes longer than a page of rows.
 */
export function useTimeline(api: Pick<GhostportApi, 'queryHistory' | 'getTimeline'>, filter: HistoryFilter, revision: number, enabled = true): TimelineData {
  const [data, setData] = useState<TimelineData>(EMPTY);
  // A new filter (or the first render) loads at once; only new events wait, so bursts redraw once.
  const lastFilter = useRef<HistoryFilter | null>(null);
  useEffect(() => {
    if (!enabled) return;
    const delay = lastFilter.current === filter ? REDRAW_DELAY_MS : 0;
    lastFilter.current = filter;
    let live = true;
    setData((previous) => ({ ...previous, loading: true }));
    const timer = setTimeout(async () => {
      const now = Date.now();
      let firstAt: string | null = null;
      if (filter.range === 'all' || (filter.range === 'custom' && !filter.since)) {
        const first = await settle(() => api.queryHistory({ ...buildHistoryQuery(filter, now), order: 'asc', offset: 0, limit: 1 }));
        if (!live) return;
        if (!first.ok) {
          setData({ query: null, buckets: [], loading: false, error: first.error.message });
          return;
        }
        firstAt = first.value.events[0]?.at ?? null;
      }
      const query = buildTimelineQuery(filter, now, firstAt);
      if (!query) {
        setData({ query: null, buckets: [], loading: false, error: null });
        return;
      }
      const result = await settle(() => api.getTimeline(query));
      if (!live) return;
      setData(result.ok ? { query, buckets: result.value, loading: false, error: null } : { query, buckets: [], loading: false, error: result.error.message });
    }, delay);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, filter, revision, enabled]);
  return data;
}

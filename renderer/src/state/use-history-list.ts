/**
 * The history list's data: fetches the pages the viewport needs for the current filter, keeps
 * them in the page cache, and refreshes when new events are appended (at most once a second).
 */
import { useCallback, useEffect, useReducer, useRef } from 'react';
import type { GhostportApi } from '#common/ipc-contract.ts';
import type { HistoryQuery } from '#common/history-query.ts';
import { initialHistoryPages, PAGE_SIZE, pagesToFetch, reduceHistoryPages } from './history-pages.ts';
import type { HistoryPages } from './history-pages.ts';
import { settle } from './settle.ts';

/** Rows beyond the viewport (each way) whose pages are fetched ahead, so scrolling rarely meets a gap. */
export const PREFETCH_ROWS = 60;

/** Minimum time between refreshes caused by new events. */
export const REFRESH_THROTTLE_MS = 1000;

/** The list's data and the callback the list calls when its visible rows change. */
export interface HistoryList {
  readonly pages: HistoryPages;
  /** Tells the hook which rows are on screen, so it fetches what is missing. */
  readonly showRows: (start: number, end: number) => void;
}

/**
 * `query` must be memoized by the caller: a new object means a new filter. `revision` is bumped
 * by the app whenever events are appended.
 */
export function useHistoryList(api: Pick<GhostportApi, 'queryHistory'>, query: HistoryQuery, revision: number): HistoryList {
  const [pages, dispatch] = useReducer(reduceHistoryPages, initialHistoryPages);
  const pagesRef = useRef(pages);
  pagesRef.current = pages;
  const queryRef = useRef(query);
  const visibleRef = useRef<readonly [number, number]>([0, PAGE_SIZE]);
  const lastRefreshRef = useRef(0);
  // Requests already sent, by `version:page`: a dispatch is not visible in pagesRef until the next render.
  const inFlightRef = useRef(new Set<string>());

  const fetchMissing = useCallback(
    (state: HistoryPages) => {
      const [start, end] = visibleRef.current;
      for (const page of pagesToFetch(state, Math.max(0, start - PREFETCH_ROWS), end + PREFETCH_ROWS)) {
        const version = state.version;
        const key = `${version}:${page}`;
        if (inFlightRef.current.has(key)) continue;
        inFlightRef.current.add(key);
        dispatch({ type: 'requested', version, page });
        const request: HistoryQuery = { ...queryRef.current, offset: page * PAGE_SIZE, limit: PAGE_SIZE };
        void settle(() => api.queryHistory(request)).then((result) => {
          inFlightRef.current.delete(key);
          dispatch(
            result.ok
              ? { type: 'loaded', version, page, result: result.value, keepNear: visibleRef.current[0] }
              : { type: 'failed', version, page, message: result.error.message },
          );
        });
      }
    },
    [api],
  );

  // The cache starts empty for the first query; only a later, different query resets it (a reset on
  // mount would throw away the first page's answer and ask again).
  useEffect(() => {
    if (queryRef.current === query) return;
    queryRef.current = query;
    inFlightRef.current.clear();
    dispatch({ type: 'reset' });
  }, [query]);

  useEffect(() => {
    if (revision === 0) return;
    const wait = Math.max(0, lastRefreshRef.current + REFRESH_THROTTLE_MS - Date.now());
    const timer = setTimeout(() => {
      lastRefreshRef.current = Date.now();
      dispatch({ type: 'refresh' });
    }, wait);
    return () => clearTimeout(timer);
  }, [revision]);

  // Every new version (reset or refresh) and every answer re-checks what the viewport lacks.
  useEffect(() => {
    fetchMissing(pagesRef.current);
  }, [pages.version, pages.total, fetchMissing]);

  const showRows = useCallback(
    (start: number, end: number) => {
      const [oldStart, oldEnd] = visibleRef.current;
      if (oldStart === start && oldEnd === end) return;
      visibleRef.current = [start, end];
      fetchMissing(pagesRef.current);
    },
    [fetchMissing],
  );

  return { pages, showRows };
}

/**
 * The history list's page cache: which slices of the filtered history have been fetched, for
 * which version of the filter, and which are in flight. Pure; `use-history-list.ts` drives it.
 *
 * Two kinds of change: a new filter throws the cache away (old rows would be wrong), while a
 * refresh after new events keeps the old rows on screen as stale until their replacements
 * arrive, so live updates never blank the list.
 */
import type { PortEvent } from '#common/model.ts';
import type { HistoryPage } from '#common/history-query.ts';

/** Rows per request. */
export const PAGE_SIZE = 100;
/** Pages kept in memory; those farthest from the viewport are dropped first. */
export const MAX_CACHED_PAGES = 40;

/** One fetched page and the version of the query it answered. */
export interface CachedPage {
  readonly version: number;
  readonly events: readonly PortEvent[];
}

/** The list's cache. */
export interface HistoryPages {
  /** Bumped by every filter change or refresh; answers for older versions are stale. */
  readonly version: number;
  /** Matching events in total, as of the latest answer (null before the first). */
  readonly total: number | null;
  readonly pages: Readonly<Record<number, CachedPage>>;
  /** Page indexes requested for the current version. */
  readonly pending: readonly number[];
  readonly error: string | null;
  /** `total` when the last refresh began, to measure how many new rows arrived at the top. */
  readonly totalBeforeRefresh: number | null;
  /**
   * Rows added at the top by the refresh of `version` (newest first), so the list can keep the
   * rows the user is reading in place instead of letting them slide down.
   */
  readonly growth: { readonly version: number; readonly rows: number } | null;
}

/** Inputs of the page cache. */
export type HistoryPagesInput =
  | { readonly type: 'reset' }
  | { readonly type: 'refresh' }
  | { readonly type: 'requested'; readonly version: number; readonly page: number }
  | { readonly type: 'loaded'; readonly version: number; readonly page: number; readonly result: HistoryPage; readonly keepNear: number }
  | { readonly type: 'failed'; readonly version: number; readonly page: number; readonly message: string };

/** An empty cache. */
export const initialHistoryPages: HistoryPages = {
  version: 0,
  total: null,
  pages: {},
  pending: [],
  error: null,
  totalBeforeRefresh: null,
  growth: null,
};

/** Applies one input to the page cache. */
export function reduceHistoryPages(state: HistoryPages, input: HistoryPagesInput): HistoryPages {
  switch (input.type) {
    case 'reset':
      return { ...initialHistoryPages, version: state.version + 1 };
    case 'refresh':
      return { ...state, version: state.version + 1, pending: [], error: null, totalBeforeRefresh: state.total, growth: null };
    case 'requested':
      if (input.version !== state.version || state.pending.includes(input.page)) return state;
      return { ...state, pending: [...state.pending, input.page] };
    case 'loaded': {
      if (input.version !== state.version) return state;
      const pages: Record<number, CachedPage> = { ...state.pages, [input.page]: { version: input.version, events: input.result.events } };
      const growth =
        state.growth === null && state.totalBeforeRefresh !== null
          ? { version: input.version, rows: input.result.total - state.totalBeforeRefresh }
          : state.growth;
      return {
        ...state,
        total: input.result.total,
        pages: evictFarPages(pages, input.keepNear, input.result.total),
        pending: state.pending.filter((p) => p !== input.page),
        error: null,
        totalBeforeRefresh: null,
        growth,
      };
    }
    case 'failed':
      if (input.version !== state.version) return state;
      return { ...state, pending: state.pending.filter((p) => p !== input.page), error: input.message };
  }
}

/** The page holding row `index`. */
export function pageOf(index: number): number {
  return Math.floor(index / PAGE_SIZE);
}

/** The event at row `index`, fresh or stale; undefined while it is not fetched. */
export function rowAt(state: HistoryPages, index: number): PortEvent | undefined {
  return state.pages[pageOf(index)]?.events[index % PAGE_SIZE];
}

/** Pages covering rows `[start, end)` that are neither fresh in the cache nor in flight. */
export function pagesToFetch(state: HistoryPages, start: number, end: number): readonly number[] {
  const last = state.total === null ? pageOf(Math.max(start, end - 1)) : pageOf(Math.max(0, Math.min(end, state.total) - 1));
  const wanted: number[] = [];
  for (let page = pageOf(start); page <= last; page += 1) {
    const cached = state.pages[page];
    if (cached?.version === state.version || state.pending.includes(page)) continue;
    wanted.push(page);
  }
  return wanted;
}

/** Every event the cache holds for rows `[start, end)`, in order, stopping at the first gap. */
export function rowsIn(state: HistoryPages, start: number, end: number): readonly PortEvent[] {
  const rows: PortEvent[] = [];
  for (let index = start; index < end; index += 1) {
    const row = rowAt(state, index);
    if (!row) break;
    rows.push(row);
  }
  return rows;
}

function evictFarPages(pages: Record<number, CachedPage>, keepNear: number, total: number): Record<number, CachedPage> {
  const lastPage = Math.max(0, pageOf(Math.max(0, total - 1)));
  const indexes = Object.keys(pages)
    .map(Number)
    .filter((page) => page <= lastPage);
  if (indexes.length <= MAX_CACHED_PAGES && indexes.length === Object.keys(pages).length) return pages;
  const center = pageOf(keepNear);
  const kept = indexes.sort((a, b) => Math.abs(a - center) - Math.abs(b - center)).slice(0, MAX_CACHED_PAGES);
  const next: Record<number, CachedPage> = {};
  for (const page of kept) next[page] = pages[page] as CachedPage;
  return next;
}

/**
 * Which rows of a long fixed-height list to render for a scroll position. Pure.
 *
 * Browsers cap an element's height (Chromium near 33.5 million px), so past `maxHeight` the
 * scroll range is compressed: the scrollbar maps proportionally onto the rows and each rendered
 * row is placed relative to the first visible one. Below the cap the mapping is exact.
 */

/** Inputs of the window computation. */
export interface VirtualInput {
  readonly total: number;
  readonly rowHeight: number;
  readonly scrollTop: number;
  readonly viewportHeight: number;
  /** Extra rows rendered above and below the viewport. */
  readonly overscan: number;
  /** Largest spacer height to use. */
  readonly maxHeight: number;
}

/** What to render. */
export interface VirtualWindow {
  /** Height of the scrollable spacer. */
  readonly height: number;
  /** First and one-past-last row to render. */
  readonly start: number;
  readonly end: number;
  /** Top offset, in spacer coordinates, of row `start`. */
  readonly offset: number;
  /** First and one-past-last row actually visible (without overscan). */
  readonly firstVisible: number;
  readonly lastVisible: number;
}

/** A safe spacer height below every browser's cap. */
export const DEFAULT_MAX_HEIGHT = 8_000_000;

/** Computes the rows to render and where. */
export function computeVirtualWindow(input: VirtualInput): VirtualWindow {
  const { total, rowHeight, viewportHeight, overscan, maxHeight } = input;
  const naturalHeight = total * rowHeight;
  const height = Math.min(naturalHeight, maxHeight);
  const maxScroll = Math.max(0, height - viewportHeight);
  const scrollTop = Math.min(Math.max(0, input.scrollTop), maxScroll);
  const visibleRows = Math.ceil(viewportHeight / rowHeight) + 1;
  // Exact while the list fits; else the scroll fraction picks the first row (last row reachable at the bottom).
  const exact = naturalHeight <= maxHeight;
  const firstRowFloat = exact ? scrollTop / rowHeight : maxScroll === 0 ? 0 : (scrollTop / maxScroll) * Math.max(0, total - viewportHeight / rowHeight);
  const firstVisible = clamp(Math.floor(firstRowFloat), 0, Math.max(0, total - 1));
  const lastVisible = clamp(firstVisible + visibleRows, 0, total);
  const start = clamp(firstVisible - overscan, 0, total);
  const end = clamp(lastVisible + overscan, 0, total);
  // In compressed mode, keep the sub-row fraction so scrolling stays smooth within a row.
  const firstTop = exact ? firstVisible * rowHeight : scrollTop - (firstRowFloat - firstVisible) * rowHeight;
  return { height, start, end, offset: firstTop - (firstVisible - start) * rowHeight, firstVisible, lastVisible };
}

/** The scrollTop that puts row `index` at the top of the viewport (inverse of the mapping above). */
export function scrollTopForRow(index: number, input: Omit<VirtualInput, 'scrollTop' | 'overscan'>): number {
  const { total, rowHeight, viewportHeight, maxHeight } = input;
  const naturalHeight = total * rowHeight;
  if (naturalHeight <= maxHeight) return Math.max(0, index * rowHeight);
  const maxScroll = Math.max(0, maxHeight - viewportHeight);
  const rows = Math.max(1, total - viewportHeight / rowHeight);
  return clamp((index / rows) * maxScroll, 0, maxScroll);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

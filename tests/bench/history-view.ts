/**
 * The window's history view with 100,000 stored events (issue 4, run by `npm run bench`):
 * seeds a real SQLite history through `History.record`, opens the built renderer in Debian's
 * Chromium bridged to the real app service, and measures the time from opening History to the
 * first rendered rows and the frame times while scrolling through the list.
 *
 * Prints one JSON document: {"historyView": {"events", "firstRowsMs", "scrollFrameMsP50",
 * "scrollFrameMsP95", ...}}. Options: --events N (default 100000), --scroll-seconds S (default 4).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import type { Page } from '@playwright/test';
import { startWindowRig } from '../support/window-rig.ts';
import { openWindow } from '../support/window-page.ts';
import { seedHistory } from '../support/seed-history.ts';
import { resolveTestBrowser, TEST_BROWSER_ARGS } from '../support/test-browser.ts';
import { percentile, round } from './stats.ts';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: a positive number`);
  return value;
}

function progress(text: string): void {
  process.stderr.write(`history-view: ${text}\n`);
}

/** Opens History and returns the ms until the first event rows are in the DOM and painted. */
async function timeToFirstRows(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const tab = [...document.querySelectorAll<HTMLButtonElement>('[role="tab"]')].find((t) => t.textContent?.startsWith('History'));
        if (!tab) throw new Error('no History tab');
        const started = performance.now();
        const done = (): void => {
          // Count until the frame that shows them has been produced.
          requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - started), 0));
        };
        const observer = new MutationObserver(() => {
          if (document.querySelector('.event-row[data-seq]')) {
            observer.disconnect();
            done();
          }
        });
        observer.observe(document.body, { childList: true, subtree: true });
        tab.click();
      }),
  );
}

interface ScrollSample {
  readonly frames: number[];
  readonly placeholderFrames: number;
  readonly maxDomRows: number;
  readonly endRow: number;
}

/** Scrolls the list by `pxPerFrame` every frame for `seconds`, recording frame-to-frame times. */
async function scrollFrames(page: Page, seconds: number, pxPerFrame: number): Promise<ScrollSample> {
  return page.evaluate(
    ({ seconds, pxPerFrame }) =>
      new Promise<ScrollSample>((resolve) => {
        const list = document.querySelector<HTMLElement>('.event-list');
        if (!list) throw new Error('no event list');
        const frames: number[] = [];
        let placeholderFrames = 0;
        let maxDomRows = 0;
        let last = 0;
        const until = performance.now() + seconds * 1000;
        const step = (time: number): void => {
          if (last > 0) frames.push(time - last);
          last = time;
          const rows = list.querySelectorAll('.event-row').length;
          maxDomRows = Math.max(maxDomRows, rows);
          if (list.querySelector('.event-row.is-loading')) placeholderFrames += 1;
          if (time > until) {
            const lastRow = list.querySelector<HTMLElement>('.event-row:last-child');
            resolve({ frames, placeholderFrames, maxDomRows, endRow: Number(lastRow?.getAttribute('aria-rowindex') ?? 0) });
            return;
          }
          list.scrollTop += pxPerFrame;
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      }),
    { seconds, pxPerFrame },
  );
}

/** Jumps to the end of the list and returns the ms until the oldest rows are shown. */
async function timeToJumpToEnd(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const list = document.querySelector<HTMLElement>('.event-list');
        if (!list) throw new Error('no event list');
        const total = Number(list.getAttribute('aria-rowcount'));
        const started = performance.now();
        list.scrollTop = list.scrollHeight;
        const check = (): void => {
          const lastRow = list.querySelector<HTMLElement>(`.event-row[aria-rowindex="${total}"][data-seq]`);
          if (lastRow) resolve(performance.now() - started);
          else if (performance.now() - started > 30_000) reject(new Error('the last row never loaded'));
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      }),
  );
}

async function main(): Promise<void> {
  const events = Math.round(option('--events', 100_000));
  const scrollSeconds = option('--scroll-seconds', 4);
  const dir = await mkdtemp(join(tmpdir(), 'ghostport-history-view-'));
  let cleanup: (() => Promise<void>)[] = [];
  try {
    progress(`seeding ${events} events into ${dir}`);
    const seedStart = performance.now();
    // All within the last 20 hours, so the view's default range ("Last day") holds every one of them.
    seedHistory(dir, events, 20 * 3_600_000);
    const seedMs = performance.now() - seedStart;
    // The engine is not started: this measures the window over the history, not scanning.
    const rig = await startWindowRig({ dataDir: dir, start: false });
    cleanup.push(() => rig.close());
    const browser = await chromium.launch({ executablePath: await resolveTestBrowser(), args: [...TEST_BROWSER_ARGS] });
    cleanup.push(() => browser.close());
    const win = await openWindow(browser, rig, { viewport: { width: 1100, height: 800 } });
    await win.page.getByRole('tab', { name: 'History' }).waitFor();

    progress('opening History');
    const firstRowsMs = await timeToFirstRows(win.page);
    await win.page.getByTestId('result-count').filter({ hasText: /\d events?/ }).waitFor();
    const shown = Number((await win.page.getByTestId('event-list').getAttribute('aria-rowcount')) ?? 0);
    if (shown !== events) throw new Error(`the list shows ${shown} events, expected ${events}`);
    await win.page.locator('.timeline .bar').first().waitFor();

    progress('scrolling');
    // About 7 rows a frame (420 px/s at 60 fps would be slow; this is a brisk fling), then a slower read.
    const fling = await scrollFrames(win.page, scrollSeconds / 2, 400);
    const read = await scrollFrames(win.page, scrollSeconds / 2, 60);
    const frames = [...fling.frames, ...read.frames];
    const jumpToEndMs = await timeToJumpToEnd(win.page);
    if (win.pageErrors.length > 0) throw new Error(`page errors: ${win.pageErrors.join('; ')}`);

    const result = {
      historyView: {
        events,
        firstRowsMs: round(firstRowsMs, 1),
        scrollFrameMsP50: round(percentile(frames, 50), 2),
        scrollFrameMsP95: round(percentile(frames, 95), 2),
        scrollFrameMsMax: round(Math.max(...frames), 2),
        framesMeasured: frames.length,
        framesWithUnloadedRows: fling.placeholderFrames + read.placeholderFrames,
        maxRowsInDom: Math.max(fling.maxDomRows, read.maxDomRows),
        rowsScrolledPast: fling.endRow + read.endRow,
        jumpToEndMs: round(jumpToEndMs, 1),
        seedMs: round(seedMs, 0),
        chromium: browser.version(),
      },
    };
    await win.close();
    process.stdout.write(`${JSON.stringify(result, null, process.argv.includes('--json') ? 0 : 2)}\n`);
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup = [];
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

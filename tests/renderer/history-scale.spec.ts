/**
 * The history list over thousands of stored events (a real SQLite history seeded through
 * `History.record`, the real app service, the built window in Chromium): only the rows in view
 * exist in the DOM, every row is reachable by scrolling and by keyboard, and new events arriving
 * while someone reads further down do not move what they are reading.
 */
import { test, expect } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWindowRig } from '../support/window-rig.ts';
import type { WindowRig } from '../support/window-rig.ts';
import { openWindow } from '../support/window-page.ts';
import type { WindowPage } from '../support/window-page.ts';
import { seedHistory, syntheticEvent } from '../support/seed-history.ts';

const EVENTS = 5000;

let dir = '';
let rig: WindowRig;
let win: WindowPage | null = null;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ghostport-history-scale-'));
  seedHistory(dir, EVENTS, 6 * 3_600_000);
  // The engine stays stopped: these tests are about the history, and must not depend on port 596.
  rig = await startWindowRig({ dataDir: dir, start: false });
});

test.afterEach(async () => {
  await win?.close();
  win = null;
});

test.afterAll(async () => {
  await rig?.close();
  await rm(dir, { recursive: true, force: true });
});

test('thousands of events: few DOM rows, the oldest reachable by scrolling and by keyboard', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  await page.getByRole('tab', { name: 'History' }).click();
  const list = page.getByTestId('event-list');
  await expect(list).toHaveAttribute('aria-rowcount', String(EVENTS));
  await expect(page.getByTestId('result-count')).toHaveText('5,000 events');
  const newest = rig.history.query({ order: 'desc', limit: 1 }).events[0];
  const oldest = rig.history.query({ order: 'asc', limit: 1 }).events[0];
  await expect(page.locator('.event-row').first()).toHaveAttribute('data-seq', String(newest?.seq));
  expect(await page.locator('.event-row').count()).toBeLessThan(40);

  // Scrolling to the bottom shows the oldest event in the last row.
  await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(page.locator(`.event-row[aria-rowindex="${EVENTS}"]`)).toHaveAttribute('data-seq', String(oldest?.seq));
  expect(await page.locator('.event-row').count()).toBeLessThan(40);
  // Only the pages around the two places looked at were asked for, not all 50.
  const pageRequests = win.bridge.calls.filter((c) => c === 'history:query').length;
  expect(pageRequests).toBeLessThan(12);

  // Keyboard: Home goes to the newest, End to the oldest, Enter opens it.
  await list.focus();
  await page.keyboard.press('Home');
  await expect(page.locator('.event-row.is-active')).toHaveAttribute('aria-rowindex', '1');
  await expect(list).toHaveJSProperty('scrollTop', 0);
  await page.keyboard.press('End');
  await expect(page.locator('.event-row.is-active')).toHaveAttribute('aria-rowindex', String(EVENTS));
  await expect(page.locator('.event-row.is-active')).toHaveAttribute('data-seq', String(oldest?.seq));
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('details-panel').locator('[data-field="History entry"]')).toContainText(`#${oldest?.seq}`);
  await page.keyboard.press('Escape');
  await expect(list).toBeFocused();
  await page.keyboard.press('PageUp');
  const activeIndex = Number(await page.locator('.event-row.is-active').getAttribute('aria-rowindex'));
  expect(activeIndex).toBeLessThan(EVENTS);
  expect(activeIndex).toBeGreaterThan(EVENTS - 20);
  expect(win.pageErrors).toEqual([]);
});

test('new events arriving while reading further down keep the rows in place', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  await page.getByRole('tab', { name: 'History' }).click();
  const list = page.getByTestId('event-list');
  const before = Number(await list.getAttribute('aria-rowcount'));
  expect(before).toBeGreaterThan(100);
  await list.evaluate((el) => (el.scrollTop = 56 * 40));
  const rowAtTop = async () =>
    list.evaluate((el) => {
      const top = el.getBoundingClientRect().top + 1;
      const row = [...el.querySelectorAll<HTMLElement>('.event-row[data-seq]')].find((r) => {
        const box = r.getBoundingClientRect();
        return box.top <= top && box.bottom > top;
      });
      return row?.getAttribute('data-seq') ?? null;
    });
  await expect.poll(rowAtTop).not.toBeNull();
  const reading = await rowAtTop();

  // The main process's order: persist, then announce.
  const now = Date.now();
  const fresh = rig.history.record(Array.from({ length: 3 }, (_, i) => ({ ...syntheticEvent(i, 3, now, 1000), at: new Date(now + i).toISOString() })));
  await win.bridge.push('events:appended', fresh);
  await expect(list).toHaveAttribute('aria-rowcount', String(before + 3));
  await expect(page.getByTestId('result-count')).toHaveText(`${(before + 3).toLocaleString('en-US')} events`);
  await expect.poll(rowAtTop).toBe(reading);
  // And the newest are at the top for whoever scrolls back up.
  await list.evaluate((el) => (el.scrollTop = 0));
  await expect(page.locator('.event-row').first()).toHaveAttribute('data-seq', String(fresh.at(-1)?.seq));
});

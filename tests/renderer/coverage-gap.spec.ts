/**
 * Issue 15: a gap in coverage (no Ghostport watching) shows on the window's timeline. A real
 * history with two watching sessions three seconds apart, the real service and the window in
 * Chromium: the slice holding the gap carries a "not watching" band with its length, and the
 * legend names it; a history watched without a break has neither.
 */
import { test, expect } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { History } from '#node/history.ts';
import { startWindowRig } from '../support/window-rig.ts';
import type { WindowRig } from '../support/window-rig.ts';
import { openWindow } from '../support/window-page.ts';
import type { WindowPage } from '../support/window-page.ts';

test.skip(process.platform !== 'linux' || process.getuid?.() !== 0, 'needs Linux and root: the rig polls port 596');

let rig: WindowRig | null = null;
let win: WindowPage | null = null;
let dir = '';

test.afterEach(async () => {
  await win?.close();
  await rig?.close();
  win = rig = null;
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a time nobody was watching is shaded on the timeline, with its length', async ({ browser }) => {
  dir = await mkdtemp(join(tmpdir(), 'ghostport-gap-'));
  History.open({ dataDir: dir, label: 'watch' }).close();
  await new Promise((r) => setTimeout(r, 3000));
  rig = await startWindowRig({ dataDir: dir });
  expect(rig.history.timeline({ since: new Date(Date.now() - 60_000).toISOString(), until: new Date().toISOString(), buckets: 1 })[0]!.unwatchedMs).toBeGreaterThan(2500);

  win = await openWindow(browser, rig);
  const { page } = win;
  await page.getByRole('tab', { name: 'History' }).click();
  await page.getByRole('radio', { name: 'Last hour' }).click();
  const band = page.locator('.timeline .bar-unwatched');
  await expect(band.first()).toBeAttached();
  await expect(band.first().locator('title')).toHaveText(/Ghostport was not watching for \d+ s; sockets may have come and gone unseen\./);
  await expect(page.locator('.timeline-legend')).toContainText('not watching');
});

test('a history watched without a break has no band and no legend entry for it', async ({ browser }) => {
  rig = await startWindowRig();
  win = await openWindow(browser, rig);
  const { page } = win;
  await page.getByRole('tab', { name: 'History' }).click();
  await expect(page.getByTestId('timeline-svg')).toBeVisible();
  await expect(page.locator('.timeline .bar-unwatched')).toHaveCount(0);
  await expect(page.locator('.timeline-legend')).not.toContainText('not watching');
});

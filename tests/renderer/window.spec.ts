/**
 * The Ghostport window in Debian's Chromium, built by vite, served under the app protocol's CSP,
 * with `window.ghostport` bridged to the real engine, SQLite history and settings store running
 * in this process, and real processes holding real sockets on port 596.
 */
import { test, expect } from '@playwright/test';
import type { Locator, Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { killAllHolders, startHolder, waitFor } from '../support/port-holder.ts';
import type { PortEvent } from '#common/model.ts';
import type { HistoryQuery } from '#common/history-query.ts';
import { startWindowRig } from '../support/window-rig.ts';
import type { WindowRig } from '../support/window-rig.ts';
import { openWindow } from '../support/window-page.ts';
import type { WindowPage } from '../support/window-page.ts';
import { TEST_ORIGIN } from '../support/serve-renderer.ts';
import { parseCsv } from '../support/csv.ts';
import { HOSTILE_ARGS, startHostileProcess } from '../support/hostile-listener.ts';
import type { HostileProcess } from '../support/hostile-listener.ts';

const PORT = 596;
const cannotRun = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root: binds port 596 and reads other processes' : null;

test.skip(cannotRun !== null, cannotRun ?? '');

let rig: WindowRig;
let win: WindowPage | null = null;
let hostile: HostileProcess | null = null;

/** A loopback address of its own per test, so sockets from one test never match another's. */
function loopback(): string {
  return `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
}

/**
 * How many events of the last day match, by the history itself: the ground truth the window's
 * count must equal. (Counts are not constants: the engine may record an extra disappeared/appeared
 * pair for a socket whose identity it re-reads while other sockets come and go.)
 */
function historyTotal(query: HistoryQuery = {}): number {
  return rig.history.query({ ...query, since: new Date(Date.now() - 86_400_000).toISOString() }).total;
}

/** Waits until the window's count equals the history's for `query` (both may still move); returns it. */
async function expectCountMatches(page: Page, query: HistoryQuery = {}): Promise<number> {
  await expect.poll(async () => (await resultCount(page)) === historyTotal(query)).toBe(true);
  return historyTotal(query);
}

/** Kills a holder and waits until the engine no longer sees it and has recorded its disappearance. */
async function killAndRecord(holder: { pid: number; kill(): Promise<void> }): Promise<void> {
  await holder.kill();
  await waitFor(() => !(rig.engine.snapshot?.sockets ?? []).some((s) => s.pid === holder.pid), 20_000);
  await recorded(holder.pid, 'disappeared');
}

/** Waits until the history holds an event of this type for this pid. */
function recorded(pid: number, type: PortEvent['type']): Promise<PortEvent> {
  return waitFor(() => rig.history.query({ process: String(pid), types: [type], limit: 10 }).events[0], 20_000);
}

/**
 * The header's count agrees with the engine. (Other test suites on this machine may hold port
 * 596 at the same time, so the tests compare with what the engine sees rather than a constant.)
 */
async function expectVerdictMatchesEngine(page: Page): Promise<void> {
  await expect
    .poll(async () => {
      const title = (await page.locator('.verdict-title').textContent()) ?? '';
      const count = rig.engine.snapshot?.sockets.length ?? -1;
      if (count === 0) return title === 'Clear';
      return new RegExp(`^${count} sockets?`).test(title);
    })
    .toBe(true);
}

function nowRow(page: Page, pid: number): Locator {
  return page.locator(`.socket-table tbody tr[data-pid="${pid}"]`);
}

async function showTab(page: Page, name: 'Now' | 'History' | 'Settings'): Promise<void> {
  await page.getByRole('tab', { name }).click();
}

/** The count the list shows, or -1 while it is loading. */
async function resultCount(page: Page): Promise<number> {
  const text = (await page.getByTestId('result-count').textContent()) ?? '';
  const match = /([\d,]+) events?/.exec(text);
  return match?.[1] ? Number(match[1].replaceAll(',', '')) : -1;
}

/** The seq of every event row the list rendered (all of them, for short lists). */
async function shownSeqs(page: Page): Promise<number[]> {
  return page.locator('.event-row[data-seq]').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-seq'))));
}

test.beforeAll(async () => {
  rig = await startWindowRig({ intervalMs: 400 });
  await waitFor(() => rig.engine.snapshot, 20_000);
});

test.afterEach(async () => {
  await win?.close();
  win = null;
  await hostile?.stop();
  hostile = null;
  await killAllHolders();
});

test.afterAll(async () => {
  await rig?.close();
});

test('clear: the empty state explains port 596, with no network access and no CSP violation', async ({ browser }) => {
  test.setTimeout(150_000);
  // Other suites on this machine bind 596 too; wait for a quiet moment rather than fail on theirs.
  await waitFor(() => (rig.engine.snapshot?.sockets.length ?? 1) === 0, 90_000, 200).catch(() => undefined);
  const foreign = rig.engine.snapshot?.sockets ?? [];
  expect(foreign, 'another program stayed on port 596 for 90 s, so "clear" cannot be shown').toEqual([]);
  win = await openWindow(browser, rig);
  const { page } = win;
  await expect(page.getByTestId('verdict')).toContainText('Clear');
  await expect(page.getByTestId('verdict')).toContainText('Nothing is using port 596');
  const empty = page.getByTestId('empty-state');
  await expect(empty).toContainText('Port 596 is clear');
  await expect(empty).toContainText('normal, good state');
  await expect(empty).toContainText('SMSD');
  await expect(page.locator('.header-meta')).toContainText('every 400 ms');
  await expect(page.locator('.header-meta')).toContainText(/Last scan (just now|\d+ s ago)/);
  await win.screenshot('clear');
  expect(win.requests.blocked, 'the window must not request anything outside its own files').toEqual([]);
  expect(win.requests.served.sort()).toEqual(expect.arrayContaining(['index.html']));
  expect(await win.cspViolations()).toEqual([]);
  expect(win.pageErrors).toEqual([]);
  expect(win.bridge.calls).toContain('state:get');
});

test('a listener appears in Now with its pid and command, and the details panel shows that process', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page, context } = win;
  const address = loopback();
  const holder = await startHolder({ tcpListen: [[address, PORT]], extraArgs: ['ghostport-e2e-now', '--marker=now-view'] });

  const row = nowRow(page, holder.pid);
  await expect(row).toBeVisible();
  await expect(row).toContainText(`${address}:${PORT}`);
  await expect(row).toContainText('Listening');
  await expect(row).toContainText('TCP');
  await expect(row).toContainText('IPv4');
  await expect(row).toContainText(String(holder.pid));
  await expect(row).toContainText('root');
  await expect(page.getByTestId('verdict')).toContainText(/sockets? on the port/);
  await expectVerdictMatchesEngine(page);
  await expect(page.getByTestId('empty-state')).toHaveCount(0);
  await win.screenshot('alert');

  await row.click();
  const panel = page.getByTestId('details-panel');
  await expect(panel).toBeVisible();
  await expect(panel.locator('h2')).toContainText(`pid ${holder.pid}`);
  await expect(panel.locator('[data-field="PID"]')).toContainText(String(holder.pid));
  await expect(panel.locator('[data-field="Command line"]')).toContainText('ghostport-e2e-now --marker=now-view');
  await expect(panel.locator('[data-field="Executable"]')).toContainText(realpathSync(process.execPath));
  await expect(panel.locator('[data-field="User"]')).toContainText('root');
  await expect(panel.locator('[data-running="true"]')).toBeVisible();
  await expect(panel.locator('.socket-list')).toContainText(`${address}:${PORT}`);
  await expect(panel.locator('.parent-chain li').first()).toContainText(String(process.pid));
  await expect(panel.locator('.why')).toContainText('SMSD');
  await win.screenshot('details');

  // Copy details: the clipboard holds the pid and the command line.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: TEST_ORIGIN });
  await panel.getByRole('button', { name: 'Copy details' }).click();
  await expect(page.getByTestId('toasts')).toContainText('Details copied.');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain(`PID: ${holder.pid}`);
  expect(copied).toContain('ghostport-e2e-now --marker=now-view');

  // Reveal goes to the main process with the captured path.
  await panel.getByRole('button', { name: 'Show executable' }).click();
  await expect.poll(() => rig.hooks.reveals.at(-1)).toBe(realpathSync(process.execPath));

  // Allow, then alert again: the settings change in the store and the header follows.
  await panel.getByTestId('allow-choice').selectOption({ label: 'This program, any arguments' });
  await panel.getByRole('button', { name: 'Allow', exact: true }).click();
  await expect.poll(() => rig.store.settings.allowlist).toEqual([{ by: 'path', path: realpathSync(process.execPath), argsPrefix: [], port: PORT }]);
  await expect(row.locator('.chip-allowed')).toBeVisible();
  await expect(page.getByTestId('verdict')).toContainText(/all allowed|allowed by you/);
  await panel.getByRole('button', { name: 'Alert me again' }).click();
  await expect.poll(() => rig.store.settings.allowlist).toEqual([]);
  await expect(row.locator('.chip-allowed')).toHaveCount(0);

  // End process: the main process confirms (recorded here) and ends it; the window only asked.
  rig.hooks.confirmAnswer = () => true;
  await panel.getByRole('button', { name: /End process/ }).click();
  await expect.poll(() => rig.hooks.confirms.map((p) => p.pid)).toContain(holder.pid);
  await expect.poll(() => holder.child.exitCode !== null || holder.child.signalCode !== null, { timeout: 10_000 }).toBe(true);
  await expect(page.getByTestId('toasts')).toContainText(`Process ${holder.pid} ended.`);
  await expect(panel.locator('[data-running="false"]')).toBeVisible();
  await expect(row).toHaveCount(0);
  await expectVerdictMatchesEngine(page);
  expect(win.pageErrors).toEqual([]);
  expect(await win.cspViolations()).toEqual([]);
});

test('keyboard: a socket row opens details with Enter, Escape closes and returns focus', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  const holder = await startHolder({ udpBind: [[loopback(), PORT]], extraArgs: ['ghostport-e2e-keyboard'] });
  const row = nowRow(page, holder.pid);
  await expect(row).toBeVisible();
  await expect(row).toContainText('UDP');
  await expect(row).toContainText('Bound');
  // Tab order: Scan now, Pause, the selected tab, then the row.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  let focused = '';
  for (let i = 0; i < 8 && focused !== String(holder.pid); i += 1) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.getAttribute('data-pid') ?? '');
  }
  expect(focused, 'the socket row is reachable with Tab').toBe(String(holder.pid));
  const outline = await row.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline, 'focus is visible').not.toBe('none');
  await page.keyboard.press('Enter');
  const panel = page.getByTestId('details-panel');
  await expect(panel.locator('[data-field="Command line"]')).toContainText('ghostport-e2e-keyboard');
  await expect(panel.locator('h2')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(panel).toHaveCount(0);
  await expect(row).toBeFocused();
});

test('app notices (e.g. history recovered) are shown until dismissed', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  await expect(page.locator('.notices')).toHaveCount(0);
  rig.service.setNotice('history-recovered', {
    code: 'history-recovered',
    message: 'The history file was unreadable and has been set aside; a new one was started.',
    hint: 'The old file is kept next to the new one.',
  });
  const notice = page.locator('[data-notice="history-recovered"]');
  await expect(notice).toContainText('set aside');
  await expect(notice).toContainText('kept next to the new one');
  await notice.getByRole('button', { name: /^Dismiss/ }).click();
  await expect(notice).toHaveCount(0);
  rig.service.setNotice('history-recovered', null);
});

test('a locked history: events wait in memory, the window lists them and counts them live, and they are stored when the lock clears', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  const lock = new DatabaseSync(join(rig.dir, 'history.db'), { timeout: 5000 });
  lock.exec('BEGIN EXCLUSIVE');
  let locked = true;
  try {
    const holder = await startHolder({ tcpListen: [[loopback(), PORT]], extraArgs: ['ghostport-e2e-waiting'] });
    const notice = page.locator('[data-notice="history-busy"]');
    await expect(notice).toContainText('locked by another process', { timeout: 15_000 });
    await expect(notice).toContainText(/1 event waiting to be written/);
    await showTab(page, 'History');
    const rows = page.locator(`.event-row[data-pid="${holder.pid}"]`);
    await expect(rows).toHaveCount(1, { timeout: 15_000 });
    await expect(rows.first()).toHaveAttribute('data-seq', '0');
    await holder.kill();
    await expect(notice).toContainText(/2 events waiting to be written/, { timeout: 15_000 });
    await expect(rows).toHaveCount(2, { timeout: 15_000 });
    lock.exec('COMMIT');
    locked = false;
    await expect(notice).toHaveCount(0, { timeout: 15_000 });
    const stored = rig.history.query({ process: String(holder.pid) }).events;
    expect(stored.map((e) => e.type).sort()).toEqual(['appeared', 'disappeared']);
    expect(stored.every((e) => e.seq > 0)).toBe(true);
  } finally {
    if (locked) lock.exec('COMMIT');
    lock.close();
  }
});

test('a notification click (open-target push) opens that process', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  const holder = await startHolder({ tcpListen: [[loopback(), PORT]], extraArgs: ['ghostport-e2e-open-target'] });
  await expect(nowRow(page, holder.pid)).toBeVisible();
  const socket = rig.engine.snapshot?.sockets.find((s) => s.pid === holder.pid);
  expect(socket?.process).toBeTruthy();
  await win.bridge.push('window:open-target', {
    kind: 'process',
    process: { pid: holder.pid, startedAt: socket?.process?.startedAt ?? null },
    seq: null,
    socketId: socket?.id ?? null,
  });
  const panel = page.getByTestId('details-panel');
  await expect(panel.locator('[data-field="Command line"]')).toContainText('ghostport-e2e-open-target');
  await expect(nowRow(page, holder.pid)).toHaveClass(/is-selected/);
});

test('live updates do not move the layout', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  const holder = await startHolder({ tcpListen: [[loopback(), PORT]], extraArgs: ['ghostport-e2e-steady'] });
  const row = nowRow(page, holder.pid);
  await expect(row).toBeVisible();
  const boxes = async () => ({
    row: await row.boundingBox(),
    header: await page.locator('.status-header').boundingBox(),
    duration: await row.locator('td[data-label="For"]').boundingBox(),
  });
  const before = await boxes();
  const durationBefore = await row.locator('td[data-label="For"]').textContent();
  // Several scans (400 ms) and clock ticks (1 s) later...
  await page.waitForTimeout(2600);
  const after = await boxes();
  expect(await row.locator('td[data-label="For"]').textContent()).not.toBe(durationBefore);
  expect(after).toEqual(before);
});

test('pause and resume reach the engine and show a banner with what to do', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect.poll(() => rig.engine.status.paused).toBe(true);
  const banner = page.locator('[data-banner="paused"]');
  await expect(banner).toContainText('Monitoring is paused');
  await expect(page.getByTestId('verdict')).toContainText('Paused');
  await banner.getByRole('button', { name: 'Resume' }).click();
  await expect.poll(() => rig.engine.status.paused).toBe(false);
  await expect(banner).toHaveCount(0);
});

test('history lists the appeared and disappeared events with the right pid and command', async ({ browser }) => {
  const holder = await startHolder({ tcpListen: [[loopback(), PORT]], extraArgs: ['ghostport-e2e-history', '--marker=history-view'] });
  const appeared = await recorded(holder.pid, 'appeared');
  await killAndRecord(holder);
  const disappeared = rig.history.query({ process: String(holder.pid), types: ['disappeared'], order: 'desc', limit: 1 }).events[0] as PortEvent;

  win = await openWindow(browser, rig);
  const { page } = win;
  await showTab(page, 'History');
  const rows = page.locator(`.event-row[data-pid="${holder.pid}"]`);
  const forPid = historyTotal({ process: String(holder.pid) });
  expect(forPid).toBeGreaterThanOrEqual(2);
  await expect(rows).toHaveCount(forPid);
  await expect(page.locator(`.event-row[data-seq="${disappeared.seq}"]`)).toHaveAttribute('data-type', 'disappeared');
  await expect(page.locator(`.event-row[data-seq="${appeared.seq}"]`)).toHaveAttribute('data-type', 'appeared');
  await expect(rows.first()).toContainText('ghostport-e2e-history --marker=history-view');
  await expect(rows.first()).toContainText(String(holder.pid));
  // Newest first.
  const seqs = await shownSeqs(page);
  expect(seqs.indexOf(disappeared.seq)).toBeLessThan(seqs.indexOf(appeared.seq));
  await expectCountMatches(page);
  await expect(page.locator('.timeline .bar').first()).toBeVisible();
  await expect(page.getByTestId('timeline-svg')).toHaveAttribute('aria-label', /appeared and \d+ disappeared/);

  // Other zoom levels redraw the chart over the same events.
  for (const range of ['Last hour', 'Last week', 'All time']) {
    await page.getByRole('radio', { name: range }).click();
    await expect(page.getByRole('radio', { name: range })).toHaveAttribute('aria-checked', 'true');
    await expect(page.locator('.timeline .bar').first()).toBeVisible();
    await expect(rows).toHaveCount(forPid);
  }
  await page.getByRole('radio', { name: 'Last day' }).click();

  // An event opens the details of the process as captured, now gone.
  await page.locator(`.event-row[data-seq="${appeared.seq}"]`).click();
  const panel = page.getByTestId('details-panel');
  await expect(panel.locator('[data-field="Command line"]')).toContainText('ghostport-e2e-history');
  await expect(panel.locator('[data-field="History entry"]')).toContainText(`#${appeared.seq}`);
  await expect(panel.locator('[data-running="false"]')).toBeVisible();
  await expect(panel.getByRole('button', { name: /End process/ })).toBeDisabled();
  await page.keyboard.press('Escape');
  await win.screenshot('history');

  // New events arrive while the view is open.
  const late = await startHolder({ tcpListen: [[loopback(), PORT]], extraArgs: ['ghostport-e2e-history-live'] });
  await expect(page.locator(`.event-row[data-pid="${late.pid}"]`)).toHaveCount(1, { timeout: 15_000 });
});

test('filters and search narrow the list to exactly the matching events', async ({ browser }) => {
  const alpha = await startHolder({ tcpListen: [[loopback(), PORT]], extraArgs: ['gp-filter-alpha'] });
  const beta = await startHolder({ udpBind: [[loopback(), PORT]], extraArgs: ['gp-filter-beta'] });
  await recorded(alpha.pid, 'appeared');
  await recorded(beta.pid, 'appeared');
  await killAndRecord(alpha);
  await killAndRecord(beta);

  win = await openWindow(browser, rig);
  const { page } = win;
  await showTab(page, 'History');
  await expect.poll(() => resultCount(page)).toBeGreaterThanOrEqual(4);
  const all = await resultCount(page);

  await page.getByLabel('Protocol', { exact: true }).selectOption('udp');
  const udpTotal = await expectCountMatches(page, { protocols: ['udp'] });
  expect(udpTotal).toBeLessThan(all);
  const protocols = await page.locator('.event-row[data-seq]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-protocol')));
  expect(new Set(protocols)).toEqual(new Set(['udp']));
  await expect(page.locator(`.event-row[data-pid="${beta.pid}"]`)).toHaveCount(historyTotal({ process: String(beta.pid) }));
  await expect(page.locator(`.event-row[data-pid="${alpha.pid}"]`)).toHaveCount(0);
  await page.getByLabel('Protocol', { exact: true }).selectOption('');

  await page.getByLabel('Search', { exact: true }).fill('gp-filter-alpha');
  const alphaTotal = await expectCountMatches(page, { text: 'gp-filter-alpha' });
  expect(alphaTotal).toBeGreaterThanOrEqual(2);
  expect(alphaTotal).toBeLessThan(all);
  await expect(page.locator('.event-row[data-seq]')).toHaveCount(alphaTotal);
  await expect(page.locator(`.event-row[data-pid="${alpha.pid}"]`)).toHaveCount(alphaTotal);

  await page.getByLabel('Event', { exact: true }).selectOption('disappeared');
  const alphaGone = await expectCountMatches(page, { text: 'gp-filter-alpha', types: ['disappeared'] });
  expect(alphaGone).toBeGreaterThanOrEqual(1);
  expect(alphaGone).toBeLessThan(alphaTotal);
  const types = await page.locator('.event-row[data-seq]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')));
  expect(new Set(types)).toEqual(new Set(['disappeared']));
  await page.getByLabel('Event', { exact: true }).selectOption('');
  await page.getByLabel('Search', { exact: true }).fill('');

  await page.getByLabel('Process', { exact: true }).fill(String(beta.pid));
  const betaTotal = await expectCountMatches(page, { process: String(beta.pid) });
  await expect(page.locator(`.event-row[data-pid="${beta.pid}"]`)).toHaveCount(betaTotal);

  await page.getByLabel('Process', { exact: true }).fill('');
  await page.getByLabel('Search', { exact: true }).fill('no-such-process-anywhere');
  await expect.poll(() => resultCount(page)).toBe(0);
  await expect(page.locator('.list-empty')).toHaveText('No events match.');
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect.poll(() => resultCount(page)).toBeGreaterThanOrEqual(4);

  // A custom time range that ends before these events hides them.
  await page.getByRole('radio', { name: 'Custom' }).click();
  const firstAt = rig.history.query({ process: String(alpha.pid), order: 'asc', limit: 1 }).events[0]?.at ?? '';
  await page.locator('.custom-range input').nth(1).fill(toLocalInput(new Date(Date.parse(firstAt) - 2000)));
  const until = new Date(Math.floor((Date.parse(firstAt) - 2000) / 1000) * 1000).toISOString();
  await expect.poll(() => resultCount(page)).toBe(rig.history.query({ until }).total);
  await expect(page.locator(`.event-row[data-pid="${alpha.pid}"]`)).toHaveCount(0);
});

test('export writes exactly the rows shown, as CSV and as JSON', async ({ browser }) => {
  const holder = await startHolder({ tcpListen: [[loopback(), PORT]], extraArgs: ['gp-export-marker'] });
  await recorded(holder.pid, 'appeared');
  await killAndRecord(holder);
  win = await openWindow(browser, rig);
  const { page } = win;
  await showTab(page, 'History');
  await page.getByLabel('Search', { exact: true }).fill('gp-export-marker');
  const expected = await expectCountMatches(page, { text: 'gp-export-marker' });
  expect(expected).toBeGreaterThanOrEqual(2);
  await expect(page.locator('.event-row[data-seq]')).toHaveCount(expected);
  const shown = (await shownSeqs(page)).sort((a, b) => a - b);

  await page.getByRole('button', { name: 'CSV' }).click();
  await expect(page.getByTestId('toasts')).toContainText(`Exported ${expected} events to`);
  const csvPath = rig.hooks.exports.at(-1) as string;
  expect(csvPath).toMatch(/\.csv$/);
  await expect(page.getByTestId('toasts')).toContainText(csvPath);
  const csv = parseCsv(await readFile(csvPath, 'utf8'));
  const header = csv[0] ?? [];
  const seqColumn = header.indexOf('seq');
  const pidColumn = header.indexOf('pid');
  const commandColumn = header.indexOf('command');
  const body = csv.slice(1).filter((row) => row.length > 1);
  expect(body.map((row) => Number(row[seqColumn])).sort((a, b) => a - b)).toEqual(shown);
  expect(body.every((row) => row[pidColumn] === String(holder.pid))).toBe(true);
  expect(body.every((row) => row[commandColumn]?.includes('gp-export-marker'))).toBe(true);

  await page.getByRole('button', { name: 'JSON' }).click();
  await expect.poll(() => rig.hooks.exports.at(-1)).toMatch(/\.json$/);
  await expect(page.getByTestId('toasts')).toContainText('.json');
  const json = JSON.parse(await readFile(rig.hooks.exports.at(-1) as string, 'utf8')) as { events: PortEvent[]; count: number };
  expect(json.count).toBe(expected);
  expect(json.events.map((e) => e.seq).sort((a, b) => a - b)).toEqual(shown);
  expect(json.events.every((e) => e.socket.process?.pid === holder.pid)).toBe(true);
});

test('a hostile process name and command line render as inert, visible text', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  hostile = await startHostileProcess(loopback(), PORT);
  const row = nowRow(page, hostile.pid);
  await expect(row).toBeVisible();
  const name = row.locator('.process-name');
  // The newline, the bell and the bidi override are shown as markers, the markup as text.
  await expect(name).toContainText('gp-evil\\u202etxt.exe\\n<img src=x onerror=alert(1)>\\x07');
  await expect(name.locator(':not(.hidden-char)')).toHaveCount(0);
  expect(await page.locator('img, script:not([src])').count()).toBe(0);
  await row.click();
  const command = page.getByTestId('details-panel').locator('[data-field="Command line"]');
  await expect(command).toContainText('line-one\\nFAKE: all clear');
  await expect(command).toContainText('<script>alert(2)</script>');
  await expect(command).toContainText('\\u202efdp.exe');
  const argv = page.getByTestId('details-panel').locator('.argv li');
  await expect(argv).toHaveCount(3 + HOSTILE_ARGS.length + 1);
  // What a person reads contains no raw control or bidi character anywhere in the panel.
  const rawText = await page.getByTestId('details-panel').evaluate((el) => el.textContent ?? '');
  expect(rawText).not.toMatch(/[\u0000-\u001f\u202a-\u202e\u2066-\u2069]/);
  await win.screenshot('hostile');
  expect(win.dialogs).toEqual([]);
  expect(win.pageErrors).toEqual([]);
  expect(await win.cspViolations()).toEqual([]);
});

test('settings: edits reach the store and the engine, bad input is explained, the allowlist can be pruned', async ({ browser }) => {
  await rig.service.invoke('allowlist:add', [{ by: 'path', path: '/usr/bin/nc.openbsd', argsPrefix: [], port: PORT }]);
  win = await openWindow(browser, rig);
  const { page } = win;
  await showTab(page, 'Settings');
  const ports = page.getByLabel('Watched ports');
  const interval = page.getByLabel('Check every (seconds)');
  await expect(ports).toHaveValue('596');
  await expect(interval).toHaveValue('0.4');
  await expect(page.getByTestId('allowlist')).toContainText('/usr/bin/nc.openbsd');
  await win.screenshot('settings');

  await ports.fill('596, 70000');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.field-error')).toContainText('\u201C70000\u201D is not a port number');
  expect(rig.store.settings.ports).toEqual([PORT]);

  await ports.fill('596');
  await interval.fill('0.75');
  await page.getByLabel('When it goes away').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('toasts')).toContainText('Settings saved.');
  await expect.poll(() => rig.engine.status.intervalMs).toBe(750);
  expect(rig.store.settings.notifications.onDisappeared).toBe(true);
  const onDisk = JSON.parse(await readFile(rig.store.path, 'utf8')) as { intervalMs: number };
  expect(onDisk.intervalMs).toBe(750);
  await expect(page.locator('.header-meta')).toContainText('every 750 ms');

  await page.getByLabel('Start Ghostport when I log in').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => rig.hooks.loginItems.at(-1)).toBe(true);

  await page.getByRole('button', { name: 'Remove /usr/bin/nc.openbsd, port 596 from the allowlist' }).click();
  await expect(page.getByTestId('allowlist-empty')).toBeVisible();
  expect(rig.store.settings.allowlist).toEqual([]);

  // Put the fast interval and defaults back for the tests that follow.
  await rig.service.invoke('settings:set', [{ intervalMs: 400, startAtLogin: false, notifications: { enabled: true, onAppeared: true, onDisappeared: false } }]);
  await expect(interval).toHaveValue('0.4');
});

test('dark mode follows the OS', async ({ browser }) => {
  win = await openWindow(browser, rig, { colorScheme: 'dark' });
  const { page } = win;
  const holder = await startHolder({ tcpListen: [[loopback(), PORT]], extraArgs: ['ghostport-e2e-dark'] });
  await expect(nowRow(page, holder.pid)).toBeVisible();
  const luminance = async (selector: string, property: 'backgroundColor' | 'color') =>
    page.locator(selector).first().evaluate((el, prop) => {
      const [r, g, b] = (getComputedStyle(el)[prop].match(/\d+(\.\d+)?/g) ?? ['0', '0', '0']).map(Number);
      return (0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0)) / 255;
    }, property);
  expect(await luminance('body', 'backgroundColor')).toBeLessThan(0.15);
  expect(await luminance('body', 'color')).toBeGreaterThan(0.8);
  expect(await luminance('.socket-table', 'backgroundColor')).toBeLessThan(0.2);
  await win.screenshot('dark');
  await nowRow(page, holder.pid).click();
  await expect(page.getByTestId('details-panel').locator('[data-running="true"]')).toBeVisible();
  await win.screenshot('dark-details');
});

test('readable at 480 px wide: no sideways scrolling, sockets become cards', async ({ browser }) => {
  win = await openWindow(browser, rig, { viewport: { width: 480, height: 820 } });
  const { page } = win;
  const holder = await startHolder({ tcpListen: [[loopback(), PORT]], extraArgs: ['ghostport-e2e-narrow', '--with-a-rather-long-argument=' + 'x'.repeat(120)] });
  const row = nowRow(page, holder.pid);
  await expect(row).toBeVisible();
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(await overflow()).toBeLessThanOrEqual(0);
  expect(await page.locator('.now-view > .socket-table thead').isVisible()).toBe(false);
  await win.screenshot('narrow');
  await row.click();
  const panel = page.getByTestId('details-panel');
  await expect(panel).toBeVisible();
  const box = await panel.boundingBox();
  expect(box?.width).toBeLessThanOrEqual(480);
  expect(await overflow()).toBeLessThanOrEqual(0);
  await win.screenshot('narrow-details');
  await page.keyboard.press('Escape');
  await showTab(page, 'History');
  await expect(page.locator('.event-row[data-seq]').first()).toBeVisible();
  expect(await overflow()).toBeLessThanOrEqual(0);
  await win.screenshot('narrow-history');
});

/** A Date as the value of an `<input type="datetime-local" step="1">`. */
function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

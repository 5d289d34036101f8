/**
 * The evidence in the window, on real processes: a listener run from a copied, then deleted,
 * executable shows its warnings first and the groups a responder reads (Who, What, How it
 * started, Talking to); "Export evidence" writes that socket's full record; the precise allow
 * choices reach the settings; and axe-core finds no serious accessibility violation (contrast
 * included) in light or dark, on each view and with the panel open.
 */
import { test, expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllHolders, startHolder, waitFor } from '../support/port-holder.ts';
import { expectNoSeriousViolations } from '../support/axe.ts';
import { startWindowRig } from '../support/window-rig.ts';
import type { WindowRig } from '../support/window-rig.ts';
import { openWindow } from '../support/window-page.ts';
import type { WindowPage } from '../support/window-page.ts';

const PORT = 596;
const PYTHON = '/usr/bin/python3.11';
const cannotRun =
  process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root: binds port 596 and reads other processes' : null;
test.skip(cannotRun !== null, cannotRun ?? '');

let rig: WindowRig;
let win: WindowPage | null = null;
// Made in beforeAll, not at load: Playwright loads a spec in processes that never run its hooks.
let work = '';
const children = new Set<ChildProcess>();

test.beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ghostport-evidence-window-'));
  // Detection here may wait for the hash, package and socket tables: the assertions are on them.
  rig = await startWindowRig({ intervalMs: 400, evidence: { slowBudgetMs: 5000 } });
  await waitFor(() => rig.engine.snapshot, 20_000);
});

test.afterEach(async () => {
  await win?.close();
  win = null;
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await killAllHolders();
});

test.afterAll(async () => {
  await rig?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(exe: string, code: string): ChildProcess {
  const child = spawn(exe, ['-c', code, 'ghostport-evidence-e2e'], { stdio: ['ignore', 'pipe', 'inherit'], cwd: work });
  children.add(child);
  return child;
}

/** A python listener on 596 run from a copy of the interpreter (deleted once it runs, unless `keep`). */
async function deletedListener(address: string, keep = false): Promise<{ pid: number; sha256: string }> {
  const copy = join(work, `gp-deleted-${Date.now()}`);
  copyFileSync(PYTHON, copy);
  const sha256 = createHash('sha256').update(readFileSync(copy)).digest('hex');
  // Warm the hash cache with a first process from the same file, so detection has the hash at once.
  const warm = run(copy, 'import time; time.sleep(30)');
  await waitFor(async () => (await rig.owners.readProcessInfo(warm.pid!))?.exeSha256 === sha256, 10_000);
  warm.kill('SIGKILL');
  const child = run(copy, `import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('${address}', ${PORT})); s.listen()\nprint('ready', flush=True); time.sleep(600)`);
  await once(child.stdout!, 'data');
  if (!keep) rmSync(copy);
  return { pid: child.pid!, sha256 };
}

async function openDetails(page: Page, pid: number) {
  const row = page.locator(`.socket-table tbody tr[data-pid="${pid}"]`);
  await expect(row).toBeVisible({ timeout: 20_000 });
  await row.click();
  const panel = page.getByTestId('details-panel');
  await expect(panel).toBeVisible();
  return panel;
}

test('a deleted executable: warnings first, the four groups, the hash with copy, the ancestry captured at detection', async ({ browser }) => {
  win = await openWindow(browser, rig, { viewport: { width: 1100, height: 900 } });
  const { page, context } = win;
  const { pid, sha256 } = await deletedListener('127.0.0.1');
  const panel = await openDetails(page, pid);

  await expect(panel.getByTestId('evidence-warnings')).toContainText('Deleted executable');
  await expect(panel.getByTestId('evidence-warnings')).toContainText('Not from a package');
  await expect(panel.locator('.details-section h3')).toContainText(['Who', 'What', 'How it started', 'Talking to']);
  await expect(panel.locator('[data-field="Executable"]')).toContainText('DELETED since it started');
  await expect(panel.locator('[data-field="SHA-256"]')).toContainText(sha256);
  await expect(panel.locator('[data-field="User"]')).toContainText('root (uid 0)');
  await expect(panel.locator('[data-field="Working directory"]')).toContainText(work);
  await expect(panel.locator('[data-field="Arguments"] li')).toHaveCount(4);
  await expect(panel.locator('[data-field="Arguments"] li').nth(3)).toHaveText('ghostport-evidence-e2e');
  await expect(panel.locator('.parent-chain li').first()).toContainText(String(process.pid));
  await expect(panel.locator('[data-field="Listening on"]')).toContainText(`TCP 127.0.0.1:${PORT}`);
  await win.screenshot('evidence-deleted');

  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
  await panel.getByRole('button', { name: 'Copy SHA-256' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(sha256);

  // The narrow panel keeps names whole (no one-letter-per-line wrap).
  await page.setViewportSize({ width: 700, height: 900 });
  const first = panel.locator('.parent-chain li').first();
  const box = await first.boundingBox();
  expect(box && box.width > 200, `ancestry line width ${box?.width}`).toBe(true);
  await win.screenshot('evidence-narrow');
});

test('Export evidence writes the socket\u2019s full record as JSON, as captured at detection', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  const { pid, sha256 } = await deletedListener('127.0.0.2');
  const panel = await openDetails(page, pid);
  await panel.getByRole('button', { name: 'Export evidence' }).click();
  await expect(page.getByTestId('toasts')).toContainText('Evidence saved to');
  const path = rig.hooks.exports.at(-1)!;
  expect(path).toMatch(/ghostport-evidence-.+-\d+-\d{8}T\d{6}Z\.json$/);
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  expect(doc).toMatchObject({ kind: 'ghostport-evidence', schema: 1, runningAtExport: true });
  expect(doc.socket.localPort).toBe(PORT);
  expect(doc.socket.process).toMatchObject({ pid, exeDeleted: true, exeSha256: sha256, package: null, uid: 0, cwd: work });
  expect(doc.socket.process.ancestry[0].pid).toBe(process.pid);
  expect(doc.socket.process.argv.at(-1)).toBe('ghostport-evidence-e2e');
});

test('the precise allow choices: this exact binary, allowed on this port only, then alert again', async ({ browser }) => {
  win = await openWindow(browser, rig);
  const { page } = win;
  const { pid, sha256 } = await deletedListener('127.0.0.3', true);
  const panel = await openDetails(page, pid);
  const choice = panel.getByTestId('allow-choice');
  await expect(choice.locator('option')).toContainText(['This exact binary (its SHA-256)', 'This program with these arguments', 'This program, any arguments']);
  await choice.selectOption({ label: 'This exact binary (its SHA-256)' });
  await panel.getByRole('button', { name: 'Allow', exact: true }).click();
  await expect.poll(() => rig.store.settings.allowlist).toEqual([{ by: 'hash', sha256, port: PORT }]);
  await expect(page.locator(`.socket-table tbody tr[data-pid="${pid}"] .chip-allowed`)).toBeVisible();
  await panel.getByRole('button', { name: 'Alert me again' }).click();
  await expect.poll(() => rig.store.settings.allowlist).toEqual([]);
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`axe-core: no serious violations in ${colorScheme}, on every view and with the details panel open`, async ({ browser }) => {
    win = await openWindow(browser, rig, { colorScheme });
    const { page } = win;
    const holder = await startHolder({ tcpListen: [[colorScheme === 'light' ? '127.0.0.4' : '127.0.0.5', PORT]], extraArgs: ['ghostport-e2e-axe'] });
    await openDetails(page, holder.pid);
    await expectNoSeriousViolations(page, `Now with details (${colorScheme})`);
    await win.screenshot(`axe-details-${colorScheme}`);
    await page.getByRole('button', { name: 'Close details' }).click();
    for (const tab of ['History', 'Settings', 'Now'] as const) {
      await page.getByRole('tab', { name: tab }).click();
      await page.waitForTimeout(300);
      await expectNoSeriousViolations(page, `${tab} (${colorScheme})`);
    }
    await page.getByRole('button', { name: /Pause/ }).first().click();
    await expect(page.getByText(/paused/i).first()).toBeVisible();
    await expectNoSeriousViolations(page, `paused (${colorScheme})`);
    await win.screenshot(`axe-paused-${colorScheme}`);
    await page.getByRole('button', { name: /Resume/ }).first().click();
  });
}

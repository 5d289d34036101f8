/**
 * The window as `ghostport ui` serves it where no Electron can run: the real CLI process (real
 * engine, history and settings), its real loopback HTTP server, and Chromium opening the printed
 * address. No page.route: every byte comes from the server, over the request table's HTTP
 * transport and its server-sent events.
 */
import { test, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRenderer, REPO_ROOT } from '../support/build-renderer.ts';
import { buildCli } from '../../electron/build/build.ts';
import { killAllHolders, startHolder, waitFor } from '../support/port-holder.ts';

const cannotRun = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root: binds port 596' : null;
test.skip(cannotRun !== null, cannotRun ?? '');

let child: ChildProcess | null = null;
let url = '';
let stderr = '';
// Made in beforeAll, not at load: Playwright loads a spec in processes that never run its hooks.
let dataDir = '';

test.beforeAll(async () => {
  test.setTimeout(240_000);
  dataDir = mkdtempSync(join(tmpdir(), 'ghostport-ui-spec-'));
  buildRenderer();
  await buildCli(REPO_ROOT);
  child = spawn(process.execPath, ['electron/node/cli/ghostport.mjs', 'ui', '--data-dir', dataDir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += String(c)));
  child.stderr!.on('data', (c: Buffer) => (stderr += String(c)));
  url = await waitFor(() => /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out)?.[1], 60_000);
});

test.afterAll(async () => {
  await killAllHolders();
  child?.kill('SIGTERM');
  if (child && child.exitCode === null) await new Promise((resolve) => child!.once('exit', resolve));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('the printed address opens the window; sockets appear live; the page can reach nothing but its own origin', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => (/Content Security Policy|Refused to connect/.test(m.text()) ? violations.push(m.text()) : undefined));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  expect(new URL(page.url()).search, 'the token leaves the address bar').toBe('');
  await expect(page.getByTestId('verdict')).toBeVisible();

  const holder = await startHolder({ tcpListen: [['127.0.0.77', 596]], extraArgs: ['ghostport-ui-http'] });
  const row = page.locator(`.socket-table tbody tr[data-pid="${holder.pid}"]`);
  await expect(row).toBeVisible({ timeout: 20_000 });
  await expect(row).toContainText(String(holder.pid));
  await holder.kill();
  await expect(row).toHaveCount(0, { timeout: 20_000 });

  const elsewhere = await page.evaluate(() => fetch('http://127.0.0.1:9/').then(() => 'reached', () => 'refused'));
  expect(elsewhere).toBe('refused');
  expect(violations.some((v) => v.includes('127.0.0.1:9'))).toBe(true);
  expect(errors).toEqual([]);
  expect(stderr).not.toMatch(/internal error/);
});

test('the link works once: a second browser gets nothing', async ({ browser }) => {
  const other = await browser.newContext();
  const page = await other.newPage();
  const response = await page.goto(url);
  expect(response?.status()).toBe(401);
  await expect(page.locator('body')).toContainText('used already');
  await other.close();
});

/**
 * The real desktop app under Playwright's `_electron` (on Xvfb where there is no display):
 * tray, notification on a real port-596 socket, click to the process, preload surface, CSP,
 * webPreferences, forged senders, single instance, clean quit.
 *
 * These need the Electron binary. Where it is missing (an `npm install` without network, as on
 * the build machines) every test is reported SKIPPED with the reason; nothing here is faked.
 */
import { test, expect, _electron as electron } from '@playwright/test';
import type { ElectronApplication, Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findElectronBinary } from '../../electron/build/electron-binary.ts';
import type { ElectronBinary } from '../../electron/build/electron-binary.ts';
import { buildAll } from '../../electron/build/build.ts';
import { API_METHOD_NAMES } from '#common/ipc-contract.ts';
import type { AppState } from '#common/ipc-contract.ts';
import type { NotificationSpec } from '#common/notification-policy.ts';
import type { TrayModel } from '#common/tray-model.ts';
import { DEFAULT_SETTINGS } from '#common/settings.ts';
import { killAllHolders, startHolder, waitFor } from '../support/port-holder.ts';
import { ensureDisplay } from '../support/display.ts';
import type { Display } from '../support/display.ts';

const ROOT = process.cwd();
// A packaged test build (see electron/build/electron-builder.config.cjs) instead of the dev app.
const packaged = process.env.GHOSTPORT_E2E_EXECUTABLE;
const binary: ElectronBinary = packaged
  ? existsSync(packaged)
    ? { ok: true, path: resolve(packaged) }
    : { ok: false, reason: `GHOSTPORT_E2E_EXECUTABLE=${packaged} does not exist` }
  : findElectronBinary(ROOT);
const APP_ARGS: readonly string[] = packaged ? [] : ['.'];
const skipReason = !binary.ok
  ? `Electron runtime tests need the Electron binary, and ${binary.reason}; run \`node node_modules/electron/install.js\` with network access to enable them`
  : process.platform === 'linux' && process.getuid?.() !== 0
    ? 'needs root: the tests bind port 596 and read other processes'
    : null;

test.describe.configure({ mode: 'serial' });
test.skip(skipReason !== null, skipReason ?? '');
// The list reporter shows skipped tests without their reason: say it once, plainly.
if (skipReason) console.warn(`tests/electron: SKIPPED: ${skipReason}.`);

/** What main.ts exposes on globalThis when GHOSTPORT_E2E=1. */
interface Probe {
  trayExists(): boolean;
  trayModel(): TrayModel | null;
  notifications(): NotificationSpec[];
  clickNotification(index: number): void;
  state(): AppState;
}

let display: Display;
let dataDir: string;
let app: ElectronApplication;
let page: Page;

function probe<T>(read: (p: Probe) => T): Promise<T> {
  return app.evaluate((_electron, source) => {
    const p = (globalThis as unknown as { ghostportE2E: Probe }).ghostportE2E;
    return (0, eval)(source)(p) as T;
  }, `(${read.toString()})`);
}

async function launch(extraArgs: readonly string[] = []): Promise<ElectronApplication> {
  if (!binary.ok) throw new Error('unreachable: skipped without a binary');
  return electron.launch({
    executablePath: binary.path,
    args: [...APP_ARGS, ...extraArgs],
    cwd: ROOT,
    env: { ...process.env, ...display.env, GHOSTPORT_E2E: '1', GHOSTPORT_DATA_DIR: dataDir, ELECTRON_ENABLE_LOGGING: '1' } as Record<string, string>,
    timeout: 60_000,
  });
}

function loopback(): string {
  return `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  if (!packaged) expect(await buildAll(ROOT)).toBe(true);
  display = await ensureDisplay();
  dataDir = await mkdtemp(join(tmpdir(), 'ghostport-e2e-'));
  // A fast poll so the test does not wait on the default 2 s interval.
  await writeFile(join(dataDir, 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, intervalMs: 250 }));
  app = await launch();
  page = await app.firstWindow();
  await page.waitForLoadState('domcontentloaded');
});

test.afterAll(async () => {
  await killAllHolders();
  await app?.close().catch(() => undefined);
  await display?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('the tray exists and tells the state in words', async () => {
  expect(await probe((p) => p.trayExists())).toBe(true);
  const model = await waitFor(() => probe((p) => p.trayModel()));
  expect(['clear', 'alert', 'degraded']).toContain(model.state);
  expect(model.tooltip).toMatch(/port 596/i);
  const labels = model.menu.flatMap((item) => ('label' in item ? [item.label] : []));
  for (const label of ['Open Ghostport', 'Scan now', 'Pause monitoring', 'Start at login', 'Quit Ghostport']) expect(labels).toContain(label);
});

test('the window is hardened: webPreferences, no Node, CSP enforced, only window.ghostport exposed', async () => {
  // Electron has no public getter for webPreferences (their values are unit-tested in
  // tests/main/security-policy.test.ts); here their effects are checked on the live window.
  const url = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.webContents.getURL());
  expect(url).toMatch(/^ghostport:\/\/app\//);
  const surface = await page.evaluate(() => ({
    names: Object.keys((window as unknown as { ghostport: object }).ghostport).sort(),
    frozen: Object.isFrozen((window as unknown as { ghostport: object }).ghostport),
    require: typeof (window as unknown as { require?: unknown }).require,
    process: typeof (window as unknown as { process?: unknown }).process,
    ipc: 'ipcRenderer' in window,
    // contextBridge refuses to run without context isolation, and hands the page proxies.
    bridged: String((window as unknown as { ghostport: { getState: object } }).ghostport.getState).includes('[native code]'),
  }));
  expect(surface).toEqual({ names: [...API_METHOD_NAMES], frozen: true, require: 'undefined', process: 'undefined', ipc: false, bridged: true });
  const csp = await page.evaluate(() => {
    let evalBlocked = false;
    try {
      (0, eval)('1');
    } catch {
      evalBlocked = true;
    }
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.head.append(s);
    return { evalBlocked, inlineRan: (window as unknown as { __inline?: number }).__inline === 1 };
  });
  expect(csp).toEqual({ evalBlocked: true, inlineRan: false });
});

test('malformed arguments from the real window come back as invalid-argument', async () => {
  const result = await page.evaluate(() =>
    (window as unknown as { ghostport: { endProcess(ref: unknown): Promise<unknown> } }).ghostport.endProcess({ pid: '1; reboot', startedAt: null }),
  );
  expect(result).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
});

test('a window that is not the app (forged sender) is refused', async () => {
  const result = await app.evaluate(async ({ BrowserWindow, app: electronApp }) => {
    // The app's own preload (inside the asar when packaged), in a window that is not the app's.
    const preload = `${electronApp.getAppPath()}/dist/preload/preload.cjs`;
    const forged = new BrowserWindow({ show: false, webPreferences: { preload, sandbox: true, contextIsolation: true } });
    await forged.loadURL('data:text/html,<p>not ghostport</p>');
    const answer = await forged.webContents.executeJavaScript('window.ghostport.getState()');
    forged.destroy();
    return answer as unknown;
  });
  expect(result).toMatchObject({ ok: false, error: { code: 'forbidden-sender' } });
});

test('a real socket on 596 raises a notification; clicking it opens the window on that process', async () => {
  test.setTimeout(90_000);
  const holder = await startHolder({ tcpListen: [[loopback(), 596]], extraArgs: ['electron-e2e-marker'] });
  const note = await waitFor(
    async () => (await probe((p) => p.notifications())).find((n) => n.target?.process?.pid === holder.pid),
    30_000,
  );
  expect(note.title).toBe('Something is listening on port 596');
  expect(note.body).toContain(`pid ${holder.pid}`);
  expect(note.body).toContain('SMSD');
  const model = await waitFor(async () => {
    const m = await probe((p) => p.trayModel());
    return m?.state === 'alert' ? m : null;
  });
  expect(model.tooltip).toContain(`pid ${holder.pid}`);
  // Hide the window, then click: the click must show and focus it on the process.
  await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.hide());
  const index = (await probe((p) => p.notifications())).findIndex((n) => n.target?.process?.pid === note.target?.process?.pid);
  await app.evaluate((_e, i) => (globalThis as unknown as { ghostportE2E: Probe }).ghostportE2E.clickNotification(i), index);
  await expect
    .poll(() => app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.isVisible()))
    .toBe(true);
  await expect(page.getByText('electron-e2e-marker').first()).toBeVisible();
  await holder.kill();
});

test('closing the window hides it and the app keeps monitoring', async () => {
  await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.close());
  const after = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.isVisible()));
  expect(after).toEqual([false]);
  expect((await probe((p) => p.state())).status.running).toBe(true);
});

test('a second launch exits and focuses the first instance', async () => {
  if (!binary.ok) return;
  const second = spawnSync(binary.path, [...APP_ARGS], {
    cwd: ROOT,
    env: { ...process.env, ...display.env, GHOSTPORT_DATA_DIR: dataDir },
    timeout: 30_000,
  });
  expect(second.status).toBe(0);
  await expect
    .poll(() => app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.isVisible()))
    .toBe(true);
});

test('quit stops the loop and closes the history cleanly', async () => {
  const exited = new Promise<number | null>((resolve) => app.process().once('exit', (code) => resolve(code)));
  await app.evaluate(({ app: electronApp }) => electronApp.quit());
  expect(await exited).toBe(0);
  // A closed SQLite store leaves no write-ahead log to replay.
  const wal = await stat(join(dataDir, 'history.db-wal')).catch(() => null);
  expect(wal === null || wal.size === 0).toBe(true);
});

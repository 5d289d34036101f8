/**
 * The window of the tray app while `ghostport serve` comes and goes: the real EngineSwitch (the
 * tray's engine) bridged to the built window in Chromium, a real service on a real Unix socket,
 * a real listener on port 596. The status says which engine applies ("full sight" through the
 * service, the local limits otherwise), switching live both ways, and the listener stays one row
 * with one event throughout: no false appear or disappear.
 */
import { test, expect } from '@playwright/test';
import { killAllHolders, startHolder } from '../support/port-holder.ts';
import { serviceDirs, startService, stopAllServices } from '../support/serve-process.ts';
import { startWindowRig, type WindowRig } from '../support/window-rig.ts';
import { openWindow, type WindowPage } from '../support/window-page.ts';

const PORT = 596;
const cannotRun = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root: binds port 596 and runs the service' : null;

test.skip(cannotRun !== null, cannotRun ?? '');

let rig: WindowRig | null = null;
let win: WindowPage | null = null;

test.afterAll(async () => {
  await win?.close();
  await rig?.close();
  await stopAllServices();
  await killAllHolders();
});

test('the status says which engine applies, switching live to the service and back, the listener shown once throughout', async ({ browser }) => {
  test.setTimeout(120_000);
  const { socketPath, stateDir } = serviceDirs();
  rig = await startWindowRig({ intervalMs: 400, serviceSocket: socketPath });
  const address = `127.${10 + Math.floor(Math.random() * 200)}.0.${1 + Math.floor(Math.random() * 250)}`;
  const holder = await startHolder({ tcpListen: [[address, PORT]] });
  win = await openWindow(browser, rig);
  const { page } = win;
  const local = page.locator('[data-banner="local"]');
  const service = page.locator('[data-banner="service"]');
  const row = page.locator(`.socket-table tbody tr[data-pid="${holder.pid}"]`);

  await expect(local).toContainText("Watching with this app's own engine");
  await expect(local).toContainText('join its group');
  await expect(service).toHaveCount(0);
  await expect(row).toHaveCount(1);
  await win.screenshot('switch-local');

  const first = startService({ socketPath, dataDir: stateDir, ports: [PORT] });
  await first.ready;
  await expect(service).toContainText('Watching through the Ghostport service: full sight.', { timeout: 20_000 });
  await expect(local).toHaveCount(0);
  await expect(row).toHaveCount(1);
  await win.screenshot('switch-service');

  first.child.kill('SIGTERM');
  await expect(local).toContainText("Watching with this app's own engine", { timeout: 20_000 });
  await expect(service).toHaveCount(0);
  await expect(row).toHaveCount(1);
  await expect(page.getByTestId('verdict')).not.toContainText('Cannot see');

  const second = startService({ socketPath, dataDir: stateDir, ports: [PORT] });
  await second.ready;
  await expect(service).toContainText('full sight', { timeout: 20_000 });
  await expect(row).toHaveCount(1);

  const events = rig.history.query({ process: String(holder.pid), order: 'asc' }).events.map((e) => e.type);
  expect(events, 'one appearance across three switches, no false disappearance').toEqual(['appeared']);
  await page.getByRole('tab', { name: 'History' }).click();
  await expect(page.locator(`.event-row[data-seq="${rig.history.query({ process: String(holder.pid) }).events[0]!.seq}"]`)).toHaveCount(1);
  expect(win.pageErrors).toEqual([]);
});

/**
 * Where a socket lives, in the window: a listener in another network namespace (`unshare -n`)
 * shows the namespace under its local endpoint in Now, in the row's accessible name and in the
 * details panel, in light and dark, with no serious accessibility violation (axe-core); a host
 * socket shows none. Real processes, the real engine.
 */
import { test, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { killAllHolders, startHolder, waitFor } from '../support/port-holder.ts';
import { expectNoSeriousViolations } from '../support/axe.ts';
import { startWindowRig } from '../support/window-rig.ts';
import type { WindowRig } from '../support/window-rig.ts';
import { openWindow } from '../support/window-page.ts';
import type { WindowPage } from '../support/window-page.ts';

const PORT = 596;
const cannotRun = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root: network namespaces and port 596' : null;
test.skip(cannotRun !== null, cannotRun ?? '');

let rig: WindowRig;
let win: WindowPage | null = null;
const children = new Set<ChildProcess>();

test.beforeAll(async () => {
  rig = await startWindowRig({ intervalMs: 400 });
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
});

/** A python listener on 596 in a network namespace of its own; resolves with its pid and namespace inode once it listens. */
async function listenerElsewhere(): Promise<{ pid: number; inode: number }> {
  // unshare execs python: one pid, in the new namespace.
  const child = spawn('unshare', ['-n', '/usr/bin/python3', '-c', `import socket,time
s=socket.socket(); s.bind(('0.0.0.0',${PORT})); s.listen(); print('ready', flush=True); time.sleep(120)`, 'ghostport-e2e-netns'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the listener exited with ${code}`)));
  });
  const inode = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${child.pid}/ns/net`))?.[1]);
  return { pid: child.pid!, inode };
}

for (const colorScheme of ['light', 'dark'] as const) {
  test(`a socket in another network namespace says where it lives, a host socket does not (${colorScheme})`, async ({ browser }) => {
    win = await openWindow(browser, rig, { colorScheme });
    const { page } = win;
    const elsewhere = await listenerElsewhere();
    const host = await startHolder({ tcpListen: [[colorScheme === 'light' ? '127.0.0.6' : '127.0.0.7', PORT]], extraArgs: ['ghostport-e2e-host'] });
    const label = `pid ${elsewhere.pid} (python3)`;
    await waitFor(() => rig.engine.snapshot?.sockets.find((s) => s.pid === elsewhere.pid), 20_000);
    expect(rig.engine.snapshot?.sockets.find((s) => s.pid === elsewhere.pid)?.netns).toEqual({ inode: elsewhere.inode, host: false, label });

    const row = page.locator(`.socket-table tbody tr[data-pid="${elsewhere.pid}"]`);
    await expect(row).toBeVisible({ timeout: 20_000 });
    await expect(row.getByTestId('socket-netns')).toHaveText(`in ${label}`);
    await expect(row.getByTestId('socket-netns')).toHaveAttribute('title', `In ${label}: network namespace net:[${elsewhere.inode}]`);
    await expect(row).toHaveAttribute('aria-label', new RegExp(`on port ${PORT} in pid ${elsewhere.pid} \\(python3\\), owned by pid ${elsewhere.pid}`));
    const hostRow = page.locator(`.socket-table tbody tr[data-pid="${host.pid}"]`);
    await expect(hostRow).toBeVisible({ timeout: 20_000 });
    await expect(hostRow.getByTestId('socket-netns')).toHaveCount(0);
    await expectNoSeriousViolations(page, `Now (${colorScheme})`);
    await win.screenshot(`netns-now-${colorScheme}`);

    await row.click();
    const panel = page.getByTestId('details-panel');
    await expect(panel).toBeVisible();
    await expect(panel.locator('[data-field="Lives in"] dd')).toHaveText(`${label} (net:[${elsewhere.inode}])`);
    await expectNoSeriousViolations(page, `details (${colorScheme})`);
    await win.screenshot(`netns-details-${colorScheme}`);
    await page.getByRole('button', { name: 'Close details' }).click();

    await hostRow.click();
    await expect(panel.locator('[data-field="Lives in"] dd')).toHaveText(/^the host's network namespace \(net:\[\d+\]\)$/);
  });
}

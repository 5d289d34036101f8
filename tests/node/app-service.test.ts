/**
 * The app service with the real engine, a real SQLite history and a real settings file in a
 * temp directory, against real processes holding real sockets on port 596. Only the native UI
 * (dialogs, file manager, login items) is replaced by recording hooks: that is the seam the
 * Electron main process fills.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { SettingsStore } from '#node/settings-store.ts';
import type { AppState, ProcessRef, Result } from '#common/ipc-contract.ts';
import type { PortEvent, ProcessInfo } from '#common/model.ts';
import { CSV_COLUMNS } from '#common/export-format.ts';
import { killAllHolders, startHolder, waitFor } from '../support/port-holder.ts';
import type { Holder } from '../support/port-holder.ts';
import { RIG_VERSION, startWindowRig, type WindowRig } from '../support/window-rig.ts';

const PORT = 596;
const realSockets = process.platform === 'linux' && process.getuid?.() === 0 ? false : 'needs Linux and root (binds port 596)';

/** A loopback address of its own, so a stray listener on 127.0.0.1:596 elsewhere cannot collide. */
function loopback(): string {
  return `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
}

function makeRig(): Promise<WindowRig> {
  return startWindowRig({ intervalMs: 60_000, start: false, endWaitMs: 5000 });
}

function value<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

function errorCode(result: Result<unknown>): string {
  assert.equal(result.ok, false, 'expected a failure');
  return result.ok ? '' : result.error.code;
}

function refOf(info: ProcessInfo | null | undefined): ProcessRef {
  assert.ok(info, 'the owner should be known (tests run as root)');
  return { pid: info.pid, startedAt: info.startedAt };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('app service: requests without sockets', () => {
  let rig: WindowRig;
  before(async () => {
    rig = await makeRig();
  });
  after(async () => rig.close());

  test('unknown channels, prototype keys and malformed arguments are refused before anything runs', async () => {
    for (const channel of ['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assert.equal(errorCode(await rig.service.invoke(channel, [])), 'invalid-argument', channel);
    }
    const malformed: [string, unknown][] = [
      ['process:end', [{ pid: '4711; rm -rf /', startedAt: null }]],
      ['process:end', [{ pid: 4711, startedAt: null, path: '/bin/sh' }]],
      ['process:end', [{ pid: -1, startedAt: null }]],
      ['process:end', []],
      ['process:end', 'not an array'],
      ['settings:set', [{ intervalMs: 1 }]],
      ['settings:set', [{ ports: [0] }]],
      ['settings:set', [{ evil: true }]],
      ['history:query', [{ limit: 1e9 }]],
      ['history:export', [{ query: {}, format: 'xlsx' }]],
      ['allowlist:add', [{ by: 'name', name: '', port: null }]],
      ['state:get', ['extra']],
    ];
    for (const [channel, args] of malformed) {
      const result = await rig.service.invoke(channel, args);
      assert.equal(errorCode(result), 'invalid-argument', `${channel} ${JSON.stringify(args)}`);
    }
    assert.equal(rig.hooks.confirms.length, 0);
    assert.deepEqual(rig.store.settings, (await SettingsStore.open({ dataDir: rig.dir })).settings);
  });

  test('state:get reports the engine, settings, version and notification support', async () => {
    const state = value(await rig.service.invoke('state:get', [])) as AppState;
    assert.equal(state.version, RIG_VERSION);
    assert.deepEqual(state.settings.ports, [PORT]);
    assert.equal(state.notificationsSupported, true);
    assert.equal(state.status.running, false);
    assert.deepEqual(state.notices, []);
    rig.hooks.notificationsSupported = false;
    const without = rig.service.getState();
    assert.equal(without.notificationsSupported, false);
    assert.deepEqual(without.notices.map((n) => n.code), ['notifications-unavailable']);
    rig.hooks.notificationsSupported = true;
  });

  test('settings:set saves to disk and applies ports and interval to the engine live', async () => {
    const states: AppState[] = [];
    const off = rig.service.onStateChanged((s) => states.push(s));
    const saved = value(await rig.service.invoke('settings:set', [{ ports: [5960, PORT, PORT], intervalMs: 1500 }])) as { ports: number[] };
    assert.deepEqual(saved.ports, [PORT, 5960]);
    assert.deepEqual(rig.engine.status.ports, [PORT, 5960]);
    assert.equal(rig.engine.status.intervalMs, 1500);
    const onDisk = JSON.parse(await readFile(join(rig.dir, 'settings.json'), 'utf8'));
    assert.deepEqual(onDisk.ports, [PORT, 5960]);
    await new Promise((r) => setImmediate(r));
    assert.ok(states.length >= 1, 'the window hears about the change');
    assert.deepEqual(states.at(-1)?.settings.ports, [PORT, 5960]);
    off();
    value(await rig.service.invoke('settings:set', [{ ports: [PORT], intervalMs: 2000 }]));
  });

  test('start at login goes through the hook, and a failing hook saves nothing', async () => {
    value(await rig.service.invoke('settings:set', [{ startAtLogin: true }]));
    assert.deepEqual(rig.hooks.loginItems, [true]);
    rig.hooks.loginItemError = 'the autostart folder is read-only';
    const failed = await rig.service.invoke('settings:set', [{ startAtLogin: false }]);
    assert.equal(errorCode(failed), 'unavailable');
    assert.match(failed.ok ? '' : failed.error.message, /read-only/);
    assert.equal(rig.store.settings.startAtLogin, true, 'unchanged');
    rig.hooks.loginItemError = null;
    value(await rig.service.invoke('settings:set', [{ startAtLogin: false }]));
    assert.deepEqual(rig.hooks.loginItems, [true, false]);
  });

  test('pause and resume answer the engine status', async () => {
    assert.equal((value(await rig.service.invoke('monitor:pause', [])) as { paused: boolean }).paused, true);
    assert.equal((value(await rig.service.invoke('monitor:resume', [])) as { paused: boolean }).paused, false);
  });

  test('allowlist add is idempotent and remove removes it', async () => {
    const entry = { by: 'path' as const, path: '/usr/bin/nc', argsPrefix: [], port: PORT };
    value(await rig.service.invoke('allowlist:add', [entry]));
    const twice = value(await rig.service.invoke('allowlist:add', [entry])) as { allowlist: unknown[] };
    assert.deepEqual(twice.allowlist, [entry]);
    const removed = value(await rig.service.invoke('allowlist:remove', [entry])) as { allowlist: unknown[] };
    assert.deepEqual(removed.allowlist, []);
  });

  test('details of a process nobody has seen are not-found', async () => {
    assert.equal(errorCode(await rig.service.invoke('process:details', [{ pid: 4_000_000, startedAt: null }])), 'not-found');
  });

  test('ending Ghostport itself or pid 1 is refused without asking', async () => {
    assert.equal(errorCode(await rig.service.invoke('process:end', [{ pid: process.pid, startedAt: null }])), 'invalid-argument');
    assert.equal(errorCode(await rig.service.invoke('process:end', [{ pid: 1, startedAt: null }])), 'invalid-argument');
    assert.equal(rig.hooks.confirms.length, 0);
  });
});

describe('app service on real sockets', { skip: realSockets }, () => {
  let rig: WindowRig;
  let holder: Holder;
  let address: string;
  before(async () => {
    rig = await makeRig();
  });
  afterEach(killAllHolders);
  after(async () => {
    await killAllHolders();
    await rig.close();
  });

  async function holdPort(marker: string): Promise<ProcessInfo> {
    address = loopback();
    holder = await startHolder({ tcpListen: [[address, PORT]], extraArgs: [marker] });
    const snapshot = value(await rig.service.invoke('monitor:scan-now', [])) as { sockets: { pid: number | null; process: ProcessInfo | null }[] };
    const socket = snapshot.sockets.find((s) => s.pid === holder.pid);
    assert.ok(socket, 'the holder is in the snapshot');
    return socket.process!;
  }

  test('a real listener: events are pushed after they are persisted, and the state follows', async () => {
    const events: PortEvent[] = [];
    const states: AppState[] = [];
    const offEvents = rig.service.onEvents((batch) => {
      // Delivered only after the history committed them: they must be queryable right now.
      const stored = rig.history.query({ process: String(batch[0]?.socket.pid) });
      assert.ok(stored.events.some((e) => e.seq === batch[0]?.seq));
      events.push(...batch);
    });
    const offState = rig.service.onStateChanged((s) => states.push(s));
    const info = await holdPort('service-events-marker');
    const appeared = events.find((e) => e.type === 'appeared' && e.socket.pid === holder.pid);
    assert.ok(appeared && appeared.seq > 0);
    await new Promise((r) => setImmediate(r));
    assert.ok(states.at(-1)?.snapshot?.sockets.some((s) => s.pid === holder.pid));
    const page = value(await rig.service.invoke('history:query', [{ process: String(info.pid) }])) as { total: number };
    assert.equal(page.total, 1);
    const now = Date.now();
    const buckets = value(
      await rig.service.invoke('history:timeline', [{ since: new Date(now - 60_000).toISOString(), until: new Date(now + 1000).toISOString(), buckets: 4 }]),
    ) as { appeared: number }[];
    assert.equal(buckets.length, 4);
    assert.ok(buckets.reduce((n, b) => n + b.appeared, 0) >= 1);
    offEvents();
    offState();
  });

  test('process details: captured, live, parent chain, sockets, allowlisted', async () => {
    const info = await holdPort('service-details-marker');
    const details = value(await rig.service.invoke('process:details', [refOf(info)])) as {
      captured: ProcessInfo;
      running: boolean;
      live: ProcessInfo | null;
      parents: ProcessInfo[];
      sockets: { localAddress: string }[];
      allowlisted: boolean;
    };
    assert.equal(details.captured.pid, holder.pid);
    assert.match(details.captured.command, /service-details-marker/);
    assert.equal(details.running, true);
    assert.equal(details.live?.pid, holder.pid);
    assert.equal(details.parents[0]?.pid, process.pid, 'the holder was started by this test');
    assert.deepEqual(details.sockets.map((s) => s.localAddress), [address]);
    assert.equal(details.allowlisted, false);
    value(await rig.service.invoke('allowlist:add', [{ by: 'path', path: info.path!, argsPrefix: [], port: PORT }]));
    const again = value(await rig.service.invoke('process:details', [refOf(info)])) as { allowlisted: boolean };
    assert.equal(again.allowlisted, true);
    value(await rig.service.invoke('allowlist:remove', [{ by: 'path', path: info.path!, argsPrefix: [], port: PORT }]));
    // After it exits, the captured details still come from the history.
    await holder.kill();
    await rig.service.invoke('monitor:scan-now', []);
    const gone = value(await rig.service.invoke('process:details', [refOf(info)])) as { running: boolean; captured: ProcessInfo; sockets: unknown[] };
    assert.equal(gone.running, false);
    assert.match(gone.captured.command, /service-details-marker/);
    assert.deepEqual(gone.sockets, []);
  });

  test('reveal shows the executable Ghostport captured', async () => {
    const info = await holdPort('service-reveal-marker');
    const revealed = value(await rig.service.invoke('process:reveal', [refOf(info)])) as { path: string };
    assert.equal(revealed.path, realpathSync(process.execPath));
    assert.deepEqual(rig.hooks.reveals.at(-1), revealed.path);
  });

  test('end process: cancelled in the dialog leaves it running', async () => {
    const info = await holdPort('service-cancel-marker');
    rig.hooks.confirmAnswer = () => false;
    const before = rig.hooks.confirms.length;
    assert.equal(errorCode(await rig.service.invoke('process:end', [refOf(info)])), 'cancelled');
    assert.equal(rig.hooks.confirms.length, before + 1);
    assert.equal(rig.hooks.confirms.at(-1)?.pid, holder.pid, 'the dialog names the process');
    assert.equal(alive(holder.pid), true);
  });

  test('end process: confirmed, it is signalled and gone', async () => {
    const info = await holdPort('service-end-marker');
    rig.hooks.confirmAnswer = () => true;
    const result = value(await rig.service.invoke('process:end', [refOf(info)])) as { ended: boolean };
    assert.equal(result.ended, true);
    await waitFor(() => holder.child.exitCode !== null || holder.child.signalCode !== null);
    assert.equal(holder.child.signalCode, 'SIGTERM');
  });

  test('end process: a wrong start time (pid reused) is refused without asking or signalling', async () => {
    const info = await holdPort('service-reuse-marker');
    const before = rig.hooks.confirms.length;
    const forged = { pid: info.pid, startedAt: '2001-01-01T00:00:00.000Z' };
    assert.equal(errorCode(await rig.service.invoke('process:end', [forged])), 'process-changed');
    assert.equal(errorCode(await rig.service.invoke('process:end', [{ pid: info.pid, startedAt: null }])), 'process-changed');
    assert.equal(rig.hooks.confirms.length, before);
    assert.equal(alive(holder.pid), true);
  });

  test('end process: a process that exits while the dialog is open is not signalled', async () => {
    const info = await holdPort('service-race-marker');
    rig.hooks.confirmAnswer = async () => {
      await holder.kill();
      return true;
    };
    assert.equal(errorCode(await rig.service.invoke('process:end', [refOf(info)])), 'process-changed');
    assert.equal(holder.child.signalCode, 'SIGKILL', 'only the test killed it');
    rig.hooks.confirmAnswer = () => true;
  });

  test('export CSV and JSON of the whole filter, written atomically; cancel writes nothing', async () => {
    const info = await holdPort('service-export-marker');
    const total = rig.history.query({ limit: 1 }).total;
    assert.ok(total >= 1);
    rig.hooks.exportPath = join(rig.dir, 'out.csv');
    const csv = value(await rig.service.invoke('history:export', [{ query: { limit: 1, offset: 0 }, format: 'csv' }])) as { path: string; count: number };
    assert.equal(csv.count, total, 'the export covers the filter, not the page on screen');
    const lines = (await readFile(csv.path, 'utf8')).split('\r\n');
    assert.equal(lines[0], CSV_COLUMNS.join(','));
    assert.equal(lines.length, total + 2, 'header, rows, trailing CRLF');
    rig.hooks.exportPath = join(rig.dir, 'out.json');
    const json = value(await rig.service.invoke('history:export', [{ query: { process: String(info.pid) }, format: 'json' }])) as { path: string; count: number };
    const doc = JSON.parse(await readFile(json.path, 'utf8'));
    assert.equal(doc.count, 1);
    assert.equal(doc.events[0].socket.pid, info.pid);
    assert.deepEqual(doc.query, { process: String(info.pid) });
    rig.hooks.exportPath = null;
    assert.equal(errorCode(await rig.service.invoke('history:export', [{ query: {}, format: 'csv' }])), 'cancelled');
    rig.hooks.exportPath = join(rig.dir, 'missing-dir', 'out.csv');
    assert.equal(errorCode(await rig.service.invoke('history:export', [{ query: {}, format: 'csv' }])), 'unavailable');
    const files = await readdir(rig.dir);
    assert.deepEqual(files.filter((f) => f.includes('.tmp-')), [], 'no partial files left behind');
  });
});

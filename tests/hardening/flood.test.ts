/**
 * Floods on the real port 596, watched by the real `ghostport watch`: 500 sockets appearing at
 * once, and a listener flapping every 50 ms for a full minute. Events stay one per socket per
 * scan, flapping is marked, the desktop notification policy fed with the real event stream
 * stays within its limits, the watcher's memory stays flat, and the history holds exactly
 * what was announced.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '#node/engine.ts';
import { History } from '#node/history.ts';
import { INITIAL_NOTIFIER_STATE, planNotifications, type NotificationSpec } from '#common/notification-policy.ts';
import { DEFAULT_SETTINGS } from '#common/settings.ts';
import type { PortEvent } from '#common/model.ts';
import { killAllChurn, startChurn } from '../support/churn.ts';
import { killAllWatchers, startWatcher, type EventLine, type Watcher } from '../support/watcher.ts';

const realSockets = process.platform === 'linux' && process.getuid?.() === 0 ? false : 'needs Linux and root (binds port 596)';
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ghostport-flood-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const FLOOD = String.raw`
const net = require('node:net');
const dgram = require('node:dgram');
const keep = [];
(async () => {
  for (let i = 0; i < 250; i++) {
    const host = '127.0.1.' + (i + 1);
    const t = net.createServer();
    await new Promise((res, rej) => { t.once('error', rej); t.listen(596, host, res); });
    const u = dgram.createSocket('udp4');
    await new Promise((res, rej) => { u.once('error', rej); u.bind(596, host, res); });
    keep.push(t, u);
  }
  process.stdout.write('ready\n');
})().catch((e) => { process.stdout.write('error ' + e.message + '\n'); process.exit(3); });
process.stdin.on('end', () => process.exit(0)).resume();
`;

/** Starts a child that opens 500 sockets on port 596 (250 TCP listeners, 250 UDP binds). */
async function startFlood(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', FLOOD], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve(String(c).trim()));
    child.once('exit', (code) => reject(new Error(`flood exited with ${code}`)));
  });
  assert.equal(line, 'ready');
  return child;
}

function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Feeds real events to the desktop notification policy, one scan's batch at a time. */
function notificationsFor(events: readonly EventLine[], stored: ReadonlyMap<number, PortEvent>): NotificationSpec[] {
  const batches = new Map<string, PortEvent[]>();
  for (const e of events) {
    const full = stored.get(e.seq);
    assert.ok(full, `event ${e.seq} is stored`);
    batches.set(e.at, [...(batches.get(e.at) ?? []), full]);
  }
  let state = INITIAL_NOTIFIER_STATE;
  const shown: NotificationSpec[] = [];
  for (const [at, batch] of batches) {
    const plan = planNotifications(state, batch, { settings: DEFAULT_SETTINGS, now: Date.parse(at), platform: 'linux' });
    state = plan.state;
    shown.push(...plan.notifications);
  }
  return shown;
}

function storedEvents(dir: string): Map<number, PortEvent> {
  const h = History.open({ dataDir: dir });
  try {
    return new Map([...h.iterate({})].map((e) => [e.seq, e]));
  } finally {
    h.close();
  }
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('floods on port 596', { skip: realSockets }, () => {
  let flood: ChildProcess | null = null;
  afterEach(async () => {
    if (flood && flood.exitCode === null && flood.signalCode === null) {
      flood.kill('SIGKILL');
      await once(flood, 'exit');
    }
    flood = null;
    await killAllWatchers();
    await killAllChurn();
  });

  test('500 sockets at once: one event each, in one or two scans, one notification, all in the history', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const watcher: Watcher = startWatcher(['--interval', '200', '--data-dir', dir]);
    await watcher.ready();
    await new Promise((r) => setTimeout(r, 500));
    flood = await startFlood();
    const pid = flood.pid!;
    // A socket born while a scan read owners can be announced with its owner unknown, then an
    // owner-changed names it: it is the flood's by its latest holder.
    const mine = (type: string) => {
      const holder = new Map<string, number | null>();
      for (const e of watcher.events()) if (e.type === 'appeared' || e.type === 'owner-changed') holder.set(e.socket.id, e.socket.pid);
      return watcher.events().filter((e) => e.type === type && holder.get(e.socket.id) === pid);
    };
    await until('500 appeared', () => mine('appeared').length >= 500, 60_000).catch((error: Error) => {
      const events = watcher.events();
      const counts = ['appeared', 'disappeared', 'owner-changed'].map((t) => `${t} ${events.filter((e) => e.type === t).length}`).join(', ');
      throw new Error(`${error.message}: ${mine('appeared').length} of the flood's; all printed: ${counts}; stderr: ${watcher.stderr().slice(-600)}`);
    });
    // An engine of its own, to time a full scan with 500 owned sockets on the port.
    const snapshot = await new Engine({ ports: [596] }).scanNow();
    assert.equal(snapshot.sockets.filter((s) => s.pid === pid).length, 500);
    assert.ok(snapshot.durationMs < 15_000, `a full scan took ${Math.round(snapshot.durationMs)} ms`);

    const appeared = mine('appeared');
    assert.equal(appeared.length, 500);
    assert.equal(new Set(appeared.map((e) => e.socket.id)).size, 500, 'one event per socket');
    const scans = new Set(appeared.map((e) => e.at));
    assert.ok(scans.size <= 3, `delivered in ${scans.size} scans (a scan may land mid-binding)`);
    assert.ok(appeared.every((e) => !e.flapping), 'different endpoints are not flapping');

    flood.kill('SIGKILL');
    await once(flood, 'exit');
    await until('500 disappeared', () => mine('disappeared').length >= 500, 60_000);
    assert.equal(mine('disappeared').length, 500);
    assert.equal(await watcher.kill('SIGINT'), 0);

    const printed = watcher.events().filter((e) => e.socket.pid === pid);
    const stored = storedEvents(dir);
    assert.equal([...stored.values()].filter((e) => e.socket.pid === pid).length, printed.length, 'history holds exactly what was announced');
    const shown = notificationsFor(appeared, stored);
    assert.ok(shown.length <= scans.size, `${shown.length} notifications for ${scans.size} batches`);
    assert.equal(shown.reduce((n, s) => n + s.eventCount, 0), 500, 'which together stand for all 500 sockets');
  });

  test('a listener flapping every 50 ms for a minute: marked flapping, bounded notifications, flat memory, history intact', { timeout: 150_000 }, async () => {
    const dir = tempDir();
    const churn = await startChurn('127.0.0.13', 50);
    const watcher = startWatcher(['--interval', '100', '--data-dir', dir]);
    await watcher.ready();
    const pid = watcher.child.pid!;
    const rss: number[] = [];
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      await new Promise((r) => setTimeout(r, 5000));
      rss.push(rssBytes(pid));
    }
    assert.equal(await watcher.kill('SIGINT'), 0);
    await churn.kill();

    const events = watcher.events().filter((e) => e.socket.localAddress === '127.0.0.13');
    assert.ok(events.length >= 100, `the minute produced ${events.length} events`);
    const calm = events.filter((e) => !e.flapping);
    assert.ok(calm.length <= 4, `after the first few transitions, every event is marked flapping; not marked: ${calm.map((e) => `${e.seq} ${e.type} ${e.at}`).join('; ')} of ${events.length}`);
    const perScan = new Map<string, number>();
    for (const e of events) perScan.set(e.at, (perScan.get(e.at) ?? 0) + 1);
    assert.ok(Math.max(...perScan.values()) <= 2, 'at most one disappearance and one appearance per scan');

    const stored = storedEvents(dir);
    const storedMine = [...stored.values()].filter((e) => e.socket.localAddress === '127.0.0.13');
    assert.deepEqual(storedMine.map((e) => e.seq), events.map((e) => e.seq), 'history holds exactly what was announced, in order');
    const shown = notificationsFor(events, stored);
    assert.ok(shown.length <= 4, `${shown.length} notifications in a minute of flapping`);
    assert.ok(shown.filter((n) => n.kind === 'flapping').length <= 1, 'one "keeps coming and going"');

    const mb = rss.map((b) => Math.round(b / 1e6));
    assert.ok(Math.max(...rss) < 250e6, `RSS stays bounded: ${mb.join(', ')} MB`);
    assert.ok(rss.at(-1)! - rss[3]! < 25e6, `no growth trend after warm-up: ${mb.join(', ')} MB`);
  });
});

/**
 * The tray app's engine switching live between its own engine and a real `ghostport serve` on
 * a real Unix socket, with real listeners on port 596 (run in its own network and PID
 * namespaces, where both sides see the same sockets). Local first; the service appears and takes
 * over; it goes and a local engine takes over; it comes back. Sockets that appear, go, or come
 * and go during a switch are announced exactly once each, none that stays is announced again,
 * the view is never "clear" while nobody can see, and the app's history holds exactly what was
 * announced.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HealthIssue, PortEvent, PortSocket, Snapshot } from '#common/model.ts';
import { Engine } from '#node/engine.ts';
import { createOsSource } from '#node/os-source.ts';
import type { Scanner } from '#node/scanner.ts';
import { History } from '#node/history.ts';
import { ServiceClient } from '#node/service/client.ts';
import { EngineSwitch } from '#node/service/engine-switch.ts';
import { killAllHolders, startHolder, waitFor, type Holder } from '../../support/port-holder.ts';
import { serviceDirs, startService, stopAllServices } from '../../support/serve-process.ts';
import { realTool } from '../../support/tools.ts';
import { scratchDirs } from '../../support/scratch.ts';

const PORT = 596;
const SETPRIV = realTool('setpriv');
const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root (binds port 596)' : false;

after(async () => {
  await stopAllServices();
  await killAllHolders();
});
// After the hook above (hooks run in order): its processes are gone before their directories.
const historyDir = scratchDirs('ghostport-switch-history-');

/** The types of the events the service recorded about a holder's socket, oldest first. */
async function serviceSaw(client: ServiceClient, holder: Holder): Promise<string[]> {
  const seen: string[] = [];
  for await (const event of client.history({})) if (event.socket.pid === holder.pid) seen.push(event.type);
  return seen;
}

describe('EngineSwitch', { skip }, () => {
  test('switches to the service and back while running, each socket announced once, never clear while blind', { timeout: 120_000 }, async () => {
    const { socketPath, stateDir } = serviceDirs();
    const history = History.open({ dataDir: historyDir() });
    // The local engine looks once a minute (and when asked): what happens between its looks is the service's to tell.
    const engine = new EngineSwitch({
      socketPath,
      history,
      probeMs: 200,
      createLocal: (sink) => new Engine({ ports: [PORT], intervalMs: 60_000, history: sink }),
    });
    const events: PortEvent[] = [];
    const views: { source: string; snapshot: Snapshot }[] = [];
    engine.onScan((snapshot, batch) => {
      views.push({ source: engine.source, snapshot });
      events.push(...batch);
    });
    const typesOf = (holder: Holder) => events.filter((e) => e.socket.pid === holder.pid).map((e) => e.type);
    const sees = () => engine.snapshot !== null && engine.snapshot.health !== 'blind';
    engine.start();
    try {
      const a = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
      await waitFor(() => sees() && engine.source === 'local');
      await engine.scanNow();
      await waitFor(() => typesOf(a).length === 1);
      assert.deepEqual(typesOf(a), ['appeared'], 'the local engine announces it');

      // The service starts where the switch cannot reach it yet; meanwhile sockets come and go.
      const staging = join(dirname(socketPath), 'staging.sock');
      const first = startService({ socketPath: staging, dataDir: stateDir, ports: [PORT] });
      await first.ready;
      const client = await ServiceClient.connect(staging);
      const c = await startHolder({ tcpListen: [['127.0.0.2', PORT]] });
      await waitFor(async () => (await serviceSaw(client, c)).includes('appeared'));
      await c.kill();
      const b = await startHolder({ tcpListen: [['127.0.0.3', PORT]] });
      await a.kill();
      let saw: string[][] = [];
      const settled = async () => {
        saw = await Promise.all([a, b, c].map((holder) => serviceSaw(client, holder)));
        return saw[0]!.includes('disappeared') && saw[1]!.includes('appeared') && saw[2]!.includes('disappeared');
      };
      await waitFor(settled, 30_000).catch(() => assert.fail(`the service saw a, b, c: ${JSON.stringify(saw)}; its log: ${first.log()}`));
      assert.equal(engine.source, 'local');
      assert.deepEqual(typesOf(b), [], 'the local engine has not looked since');

      renameSync(staging, socketPath);
      await waitFor(() => engine.source === 'service', 20_000);
      assert.deepEqual(typesOf(c), ['appeared', 'disappeared'], 'came and went during the switch: from the service\'s history, once');
      assert.deepEqual(typesOf(a), ['appeared', 'disappeared'], 'gone during the switch: once');
      assert.deepEqual(typesOf(b), ['appeared'], 'new during the switch: once');
      assert.ok(engine.snapshot!.sockets.some((s) => s.pid === b.pid));

      // The service goes: blind (never clear) until a local engine sees; what stays is not announced again.
      const before = events.length;
      first.child.kill('SIGTERM');
      await waitFor(() => engine.source === 'local' && sees(), 20_000);
      const gap = views.slice(views.findIndex((v) => v.snapshot.health === 'blind'));
      assert.ok(gap.length > 0 && gap[0]!.snapshot.issues.some((i) => /Lost the Ghostport service/.test(i.message)), 'the loss is shown as blind');
      assert.ok(gap.every((v) => v.snapshot.health !== 'blind' || v.snapshot.sockets.length === 0));
      assert.ok(engine.snapshot!.sockets.some((s) => s.pid === b.pid), 'the local engine sees what the service saw');
      assert.deepEqual(events.slice(before), [], 'no false disappear or appear when falling back');
      const d = await startHolder({ tcpListen: [['127.0.0.4', PORT]] });
      await engine.scanNow();
      assert.deepEqual(typesOf(d), ['appeared'], 'the local engine watches meanwhile');

      // The service comes back: the switch finds it by itself; d and b stay, d then goes.
      const second = startService({ socketPath, dataDir: stateDir, ports: [PORT] });
      await second.ready;
      await waitFor(() => engine.source === 'service', 20_000);
      assert.deepEqual(typesOf(d), ['appeared'], 'still there: not announced again');
      assert.deepEqual(typesOf(b), ['appeared']);
      await d.kill();
      await waitFor(() => typesOf(d).length === 2);
      assert.deepEqual(typesOf(d), ['appeared', 'disappeared'], 'gone under the service: once');

      const stored = history.query({ order: 'asc', limit: 1000 }).events.map((e) => `${e.socket.pid}:${e.type}`);
      assert.deepEqual(stored, events.map((e) => `${e.socket.pid}:${e.type}`), 'the app history holds exactly what was announced');
      assert.equal(new Set(events.map((e) => e.seq)).size, events.length, 'each stored once');
    } finally {
      await engine.stop();
      history.close();
    }
  });

  test('a user outside the socket\'s group watches on its own, and the view says why and what to do', { skip: SETPRIV ? false : 'needs setpriv (util-linux)', timeout: 60_000 }, async () => {
    const { socketPath, stateDir } = serviceDirs();
    const service = startService({ socketPath, dataDir: stateDir, ports: [PORT] });
    await service.ready;
    const source = (file: string) => JSON.stringify(pathToFileURL(resolve('electron/node', file)).href);
    const script = `
      const { EngineSwitch } = await import(${source('service/engine-switch.ts')});
      const { Engine } = await import(${source('engine.ts')});
      const { History } = await import(${source('history.ts')});
      const history = History.open({ dataDir: null });
      const engine = new EngineSwitch({ socketPath: ${JSON.stringify(socketPath)}, history, probeMs: 100, createLocal: (sink) => new Engine({ ports: [${PORT}], intervalMs: 200, history: sink }) });
      engine.start();
      await new Promise((r) => setTimeout(r, 1500));
      process.stdout.write(JSON.stringify({ source: engine.source, issues: engine.snapshot?.issues ?? [] }));
      await engine.stop();
      history.close();`;
    const nobody = spawnSync(SETPRIV!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
    assert.equal(nobody.status, 0, nobody.stderr);
    const seen = JSON.parse(nobody.stdout) as { source: string; issues: HealthIssue[] };
    assert.equal(seen.source, 'local', 'the socket (0660, root) refuses nobody');
    const refused = seen.issues.find((i) => i.code === 'service-refused');
    assert.ok(refused, `the view says why: ${JSON.stringify(seen.issues)}`);
    assert.match(refused.message, new RegExp(`may not read its socket ${socketPath.replaceAll('.', '\\.')}`));
    assert.match(refused.hint ?? '', /usermod -aG/);
  });

  test('an owner the local engine could not see is no disappearance: the socket keeps the identity it was announced with', { timeout: 60_000 }, async () => {
    const { socketPath, stateDir } = serviceDirs();
    const history = History.open({ dataDir: historyDir() });
    // The real scanner with the owners dropped, as an unprivileged user's scan returns other users' sockets: inode, no pid.
    const os = createOsSource();
    const hidden: Scanner = {
      async scan(ports) {
        const raw = await os.scanner.scan(ports);
        return { ...raw, sockets: raw.sockets.map((r) => ({ ...r, pid: null, pids: [] })) };
      },
    };
    const engine = new EngineSwitch({ socketPath, history, probeMs: 200, createLocal: (sink) => new Engine({ ports: [PORT], intervalMs: 250, history: sink, os: createOsSource({ scanner: hidden, elevated: false }) }) });
    const events: PortEvent[] = [];
    engine.onScan((_snapshot, batch) => events.push(...batch));
    engine.start();
    const holder = await startHolder({ tcpListen: [['127.0.0.5', PORT]] });
    const mine = (e: PortEvent | PortSocket) => ('socket' in e ? e.socket : e).localAddress === '127.0.0.5';
    try {
      await waitFor(() => events.some(mine));
      const announced = events.find(mine)!;
      assert.equal(announced.socket.pid, null, 'the local engine cannot name the owner');

      const service = startService({ socketPath, dataDir: stateDir, ports: [PORT] });
      await service.ready;
      await waitFor(() => engine.source === 'service', 20_000);
      const shown = engine.snapshot!.sockets.find(mine)!;
      assert.equal(shown.pid, holder.pid, 'the service names the owner');
      assert.equal(shown.id, announced.socket.id, 'under the identity it was announced with');
      assert.deepEqual(events.filter(mine).map((e) => e.type), ['appeared'], 'no false disappear/appear');

      await holder.kill();
      await waitFor(() => events.filter(mine).length === 2);
      const gone = events.filter(mine)[1]!;
      assert.equal(gone.type, 'disappeared');
      assert.equal(gone.socket.id, announced.socket.id, 'its disappearance closes the very socket that was announced');
      assert.deepEqual(history.query({ order: 'asc' }).events.filter(mine).map((e) => `${e.type}:${e.socket.id === announced.socket.id}`), ['appeared:true', 'disappeared:true']);
    } finally {
      await engine.stop();
      os.dispose();
      history.close();
    }
  });
});

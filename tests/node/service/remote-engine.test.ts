/**
 * The tray app's view of `ghostport serve` (RemoteEngine) against a real service on port 596 (run
 * in its own network namespace: `unshare -n`): events arrive and are recorded in the app's own
 * history; when the service stops the view turns blind, never clear; a listener that closes while
 * it is away is reported gone exactly once when it returns (replayed from the service's history),
 * with no false appear or disappear, and the events are in the app's history once each.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PortEvent, Snapshot } from '#common/model.ts';
import { History } from '#node/history.ts';
import { ServiceClient } from '#node/service/client.ts';
import { RemoteEngine } from '#node/service/remote-engine.ts';
import { killAllHolders, startHolder } from '../../support/port-holder.ts';
import { serviceDirs, startService, stopAllServices } from '../../support/serve-process.ts';

const PORT = 596;
const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root (binds port 596)' : false;

after(async () => {
  await stopAllServices();
  await killAllHolders();
});

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 50))) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
  }
}

describe('RemoteEngine', { skip }, () => {
  test('follows the service, goes blind while it is away, and catches up without false events', async () => {
    const { socketPath, stateDir } = serviceDirs();
    const first = startService({ socketPath, dataDir: stateDir, ports: [PORT] });
    await first.ready;
    const history = History.open({ dataDir: mkdtempSync(join(tmpdir(), 'ghostport-tray-history-')) });
    const engine = new RemoteEngine({ client: await ServiceClient.connect(socketPath), history, maxBackoffMs: 500 });
    const events: PortEvent[] = [];
    const snapshots: Snapshot[] = [];
    engine.onScan((snapshot, batch) => {
      snapshots.push(snapshot);
      events.push(...batch);
    });
    engine.start();
    try {
      await until('the first snapshot', () => engine.snapshot !== null);
      assert.notEqual(engine.snapshot!.health, 'blind', 'the service can see (ok, or degraded with its reasons)');
      const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
      const mine = (e: PortEvent) => e.socket.pid === holder.pid && e.socket.localPort === PORT;
      await until('the appeared event', () => events.some((e) => mine(e) && e.type === 'appeared'));
      assert.ok(engine.snapshot!.sockets.some((s) => s.pid === holder.pid), 'the snapshot follows the events');

      first.child.kill('SIGTERM');
      await until('blind while the service is away', () => engine.snapshot?.health === 'blind');
      assert.match(engine.snapshot!.issues[0]!.message, /Lost the Ghostport service/);
      assert.ok(engine.status.consecutiveFailures > 0);
      await holder.kill();

      const second = startService({ socketPath, dataDir: stateDir, ports: [PORT] });
      await second.ready;
      await until('seeing again', () => engine.snapshot !== null && engine.snapshot.health !== 'blind' && !engine.snapshot.sockets.some((s) => s.pid === holder.pid), 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      const seen = events.filter(mine).map((e) => e.type);
      assert.ok(seen.filter((t) => t === 'appeared').length === 1, `appeared once: ${seen.join(',')}`);
      assert.deepEqual(seen, ['appeared', 'disappeared'], 'gone while away: reported once, from the service\'s history');
      const stored = history.query({ order: 'asc', limit: 100 }).events.filter(mine).map((e) => e.type);
      assert.deepEqual(stored, seen, 'the app history holds exactly what was announced');
    } finally {
      await engine.stop();
      history.close();
    }
  });
});

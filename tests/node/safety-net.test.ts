/**
 * The poll as the safety net (Linux, root, first PID namespace, tracefs and the eBPF helper):
 * while kernel events cover every socket and the port is clear, the real engine scans only every
 * `safetyNetMs`, not every interval, and says so; a listener on the port is still reported at
 * once from its kernel event, and while it is there the engine polls at its interval again (an
 * owner that changes makes no socket event); when it is gone, the safety net again. Kernel events
 * are global: run alone (npm test's kernel step), each assertion about this test's own process.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '#node/engine.ts';
import type { PortEvent, Snapshot } from '#common/model.ts';
import { waitFor } from '../support/port-holder.ts';
import { kernelSkip } from '../support/kernel-skip.ts';

const PORT = 596;
const skip = kernelSkip({ bpf: true, tracefs: true });

describe('the poll while kernel events cover the port', { skip }, () => {
  test('clear: a scan a minute, not every 200 ms; a listener is caught at once, then polled every interval; gone: the safety net again', { timeout: 60_000 }, async () => {
    const engine = new Engine({ ports: [PORT], intervalMs: 200, safetyNetMs: 60_000 });
    const scans: Snapshot[] = [];
    const events: PortEvent[] = [];
    engine.onScan((snapshot, batch) => {
      scans.push(snapshot);
      events.push(...batch);
    });
    let child: ChildProcess | null = null;
    /** How long after the last scan the engine plans the next. */
    const pace = () => Date.parse(engine.status.nextScanAt ?? '') - Date.parse(engine.status.lastScanAt ?? '');
    // What the last scan saw, for a failure's message (another program's socket on 596 anywhere on the host is seen too).
    const saw = () => JSON.stringify({ health: engine.snapshot?.health, issues: engine.snapshot?.issues.map((i) => i.code), sockets: engine.snapshot?.sockets.map((x) => [x.protocol, x.state, x.pid, x.process?.name]), lingering: engine.snapshot?.lingering.length });
    engine.start();
    try {
      const covered = await waitFor(() => (engine.snapshot?.sight?.safetyNetMs === 60_000 ? engine.snapshot : undefined), 10_000);
      assert.equal(covered.health, 'ok');
      assert.match(covered.sight!.note, /the port is clear, so the full scan runs only as a safety net, every 1 min \(every 200 ms while something is on it\)/);
      // Other programs' events on 596 (anywhere on the host) prompt scans too: what counts is
      // when the engine plans the next one itself.
      await sleep(1000);
      assert.ok(pace() >= 48_000, `the next scan ${pace()} ms after the last while clear (a minute, up to 20 % early); the last scan saw ${saw()}`);

      child = spawn('/usr/bin/python3', ['-c', `import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT})); s.listen(); time.sleep(2); s.close()`], { stdio: 'ignore' });
      const pid = child.pid;
      const appeared = await waitFor(() => events.find((e) => e.type === 'appeared' && e.socket.pid === pid), 5000);
      assert.equal(appeared.source, 'kernel');
      await waitFor(() => (engine.snapshot?.sockets.some((s) => s.pid === pid) ? true : undefined), 2000);
      assert.equal(engine.snapshot!.sight!.safetyNetMs, undefined, 'something on the port: no safety-net pace');
      const during = scans.length;
      await sleep(1000);
      assert.ok(scans.length - during >= 3, `${scans.length - during} scans in 1 s with a listener on the port (every 200 ms)`);
      assert.ok(pace() <= 200, `the next scan ${pace()} ms after the last with a listener on the port`);

      await waitFor(() => events.find((e) => e.type === 'disappeared' && e.socket.id === appeared.socket.id), 5000);
      await waitFor(() => (engine.snapshot?.sight?.safetyNetMs === 60_000 ? true : undefined), 5000);
      assert.ok(pace() >= 48_000, `the next scan ${pace()} ms after the last once clear again; the last scan saw ${saw()}`);
    } finally {
      child?.kill('SIGKILL');
      await engine.stop();
    }
  });
});

/**
 * The engine's poll loop and events: real sockets for appear/disappear and pid reuse; a scripted
 * scanner only where the behaviour under test is the loop's own (failures, overlap, blindness).
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Engine } from '#node/engine.ts';
import { createOsSource, type OsSource } from '#node/os-source.ts';
import type { RawScan, Scanner } from '#node/scanner.ts';
import { combineKernelEvents, type KernelEventSource, type KernelEventStatus } from '#node/kernel-events.ts';
import { UDP_MISSES } from '#node/bpf-events.ts';
import type { PortEvent } from '#common/model.ts';
import type { RawSocket } from '#common/socket-parse.ts';
import { killAllHolders, startHolder, waitFor } from '../support/port-holder.ts';

const PORT = 596;
const realSockets = process.platform === 'linux' && process.getuid?.() === 0 ? false : 'needs Linux and root (binds port 596)';

function collect(engine: Engine): PortEvent[] {
  const events: PortEvent[] = [];
  engine.onScan((_, batch) => events.push(...batch));
  return events;
}

describe('engine on real sockets', { skip: realSockets }, () => {
  afterEach(killAllHolders);
  after(killAllHolders);

  test('appeared then disappeared, with the right pid and command', async () => {
    const engine = new Engine({ ports: [PORT], intervalMs: 100 });
    const events = collect(engine);
    engine.start();
    try {
      await waitFor(() => engine.snapshot);
      const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]], extraArgs: ['engine-test-marker'] });
      const appeared = await waitFor(() => events.find((e) => e.type === 'appeared' && e.socket.pid === holder.pid));
      assert.equal(appeared.socket.process?.pid, holder.pid);
      assert.match(appeared.socket.process?.command ?? '', /engine-test-marker/);
      await holder.kill();
      const gone = await waitFor(() => events.find((e) => e.type === 'disappeared' && e.socket.pid === holder.pid));
      assert.equal(gone.socket.id, appeared.socket.id);
      // The disappeared event still carries the details captured at detection: the process is gone now.
      assert.match(gone.socket.process?.command ?? '', /engine-test-marker/);
      assert.equal(events.filter((e) => e.socket.pid === holder.pid).length, 2, 'exactly one event each way');
    } finally {
      await engine.stop();
    }
  });

  test('a reused pid is a new socket identity', { timeout: 60_000 }, async (t) => {
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
    const first = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    const before = (await engine.scanNow()).sockets.find((s) => s.pid === first.pid);
    assert.ok(before);
    await first.kill();
    await engine.scanNow();
    // Ask the kernel for the same pid again (root only: ns_last_pid picks the next pid).
    let second = null;
    for (let attempt = 0; attempt < 20 && !second; attempt++) {
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(first.pid - 1));
      const candidate = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
      if (candidate.pid === first.pid) second = candidate;
      else await candidate.kill();
    }
    if (!second) return t.skip('the kernel would not hand out the same pid again (busy host)');
    const after = (await engine.scanNow()).sockets.find((s) => s.pid === second.pid);
    assert.ok(after);
    assert.equal(after.pid, before.pid);
    assert.notEqual(after.process?.startedAt, before.process?.startedAt);
    assert.notEqual(after.id, before.id);
  });
});

function raw(port: number, extra: Partial<RawSocket> = {}): RawSocket {
  return {
    protocol: 'tcp',
    family: 4,
    localAddress: '127.0.0.1',
    localPort: port,
    remoteAddress: null,
    remotePort: null,
    state: 'LISTEN',
    pid: null,
    pids: [],
    inode: 1000 + port,
    uid: null,
    ...extra,
  };
}

/** A scanner that plays back a script: where the subject is the loop itself, not the kernel. */
function scripted(steps: ((ports: readonly number[]) => Promise<RawScan>)[]): Scanner & { calls: number; concurrent: number; maxConcurrent: number } {
  const s = {
    calls: 0,
    concurrent: 0,
    maxConcurrent: 0,
    async scan(ports: readonly number[]): Promise<RawScan> {
      const step = steps[Math.min(s.calls, steps.length - 1)]!;
      s.calls++;
      s.concurrent++;
      s.maxConcurrent = Math.max(s.maxConcurrent, s.concurrent);
      try {
        return await step(ports);
      } finally {
        s.concurrent--;
      }
    },
  };
  return s;
}

const okScan = (...sockets: RawSocket[]) => async (): Promise<RawScan> => ({ sockets, health: 'ok', issues: [], reused: false });

describe('engine loop', () => {
  test('a failing scan is reported, backs off, and the loop goes on', async () => {
    const scanner = scripted([
      async () => {
        throw new Error('ss exploded');
      },
      async () => {
        throw new Error('ss exploded');
      },
      okScan(raw(596, { pid: process.pid, pids: [process.pid] })), // held: an ownerless socket would make health degraded
    ]);
    const engine = new Engine({ os: createOsSource({ scanner, elevated: true }), intervalMs: 20 });
    const snapshots: string[] = [];
    engine.onScan((s) => snapshots.push(s.health));
    engine.start();
    try {
      await waitFor(() => snapshots.length >= 3, 5000, 5);
      assert.deepEqual(snapshots.slice(0, 3), ['blind', 'blind', 'ok']);
      assert.equal(engine.status.consecutiveFailures, 0);
      assert.equal(engine.status.lastError, null);
    } finally {
      await engine.stop();
    }
  });

  test('backoff grows with consecutive failures and is capped', async () => {
    const scanner = scripted([
      async () => {
        throw new Error('nope');
      },
    ]);
    const engine = new Engine({ os: createOsSource({ scanner, elevated: true }), intervalMs: 10, maxBackoffMs: 40 });
    engine.start();
    try {
      await waitFor(() => scanner.calls >= 4, 5000, 5);
      assert.equal(engine.status.lastError, 'nope');
      assert.ok(engine.status.consecutiveFailures >= 3);
      const next = Date.parse(engine.status.nextScanAt ?? '') - Date.now();
      assert.ok(next <= 40, `next scan within the cap, was ${next} ms`);
    } finally {
      await engine.stop();
    }
  });

  test('scans never overlap, even with scan-now during a slow scan', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const scanner = scripted([
      async () => {
        await gate;
        return { sockets: [], health: 'ok', issues: [], reused: false };
      },
      okScan(),
    ]);
    const engine = new Engine({ os: createOsSource({ scanner, elevated: true }), intervalMs: 5 });
    engine.start();
    await waitFor(() => scanner.calls === 1, 2000, 1);
    const a = engine.scanNow();
    const b = engine.scanNow();
    release();
    await Promise.all([a, b]);
    await engine.stop();
    assert.equal(scanner.maxConcurrent, 1);
  });

  test('a blind spell produces no events, and sight coming back does not replay them', async () => {
    const scanner = scripted([
      okScan(raw(596)),
      async () => ({ sockets: [], health: 'blind', issues: [{ code: 'no-socket-source', message: 'no ss' }], reused: false }),
      okScan(raw(596)),
    ]);
    const engine = new Engine({ os: createOsSource({ scanner, elevated: true }) });
    const events = collect(engine);
    await engine.scanNow();
    const blind = await engine.scanNow();
    assert.equal(blind.health, 'blind');
    assert.equal(blind.sockets.length, 0);
    await engine.scanNow();
    assert.deepEqual(events.map((e) => e.type), ['appeared'], 'one appearance, no disappearance while blind');
  });

  test('pause stops polling, resume scans at once, scan-now works while paused', async () => {
    const scanner = scripted([okScan()]);
    const engine = new Engine({ os: createOsSource({ scanner, elevated: true }), intervalMs: 10 });
    engine.start();
    await waitFor(() => scanner.calls >= 1, 2000, 1);
    engine.pause();
    await new Promise((r) => setTimeout(r, 30));
    const paused = scanner.calls;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(scanner.calls, paused, 'no polls while paused');
    assert.equal(engine.status.paused, true);
    await engine.scanNow();
    assert.equal(scanner.calls, paused + 1);
    engine.resume();
    await waitFor(() => scanner.calls > paused + 1, 2000, 1);
    await engine.stop();
  });

  test('not elevated: hidden owners are reported, not dropped, with the reason', async () => {
    const engine = new Engine({ os: createOsSource({ scanner: scripted([okScan(raw(596))]), elevated: false }) });
    const snapshot = await engine.scanNow();
    assert.equal(snapshot.sockets.length, 1);
    assert.equal(snapshot.sockets[0]!.process, null);
    assert.match(snapshot.sockets[0]!.ownerUnknownReason ?? '', /root/);
    assert.equal(snapshot.health, 'degraded');
    assert.equal(snapshot.issues[0]?.code, 'not-elevated');
  });

  test('TIME_WAIT leftovers are lingering, never sockets, never events', async () => {
    const engine = new Engine({
      os: createOsSource({ scanner: scripted([okScan(raw(40000, { state: 'TIME_WAIT', remoteAddress: '127.0.0.1', remotePort: 596, inode: 0 }))]), elevated: true }),
    });
    const events = collect(engine);
    const snapshot = await engine.scanNow();
    assert.equal(snapshot.sockets.length, 0);
    assert.equal(snapshot.lingering.length, 1);
    assert.equal(events.length, 0);
  });

  test('a socket flapping on every scan is marked flapping after the threshold', async () => {
    const on = okScan(raw(596));
    const off = okScan();
    const scanner = scripted([on, off, on, off, on, off, on, off]);
    const engine = new Engine({ os: createOsSource({ scanner, elevated: true }), flap: { threshold: 4, windowMs: 60_000, maxEndpoints: 100 } });
    const events = collect(engine);
    for (let i = 0; i < 8; i++) await engine.scanNow();
    assert.equal(events.length, 8, 'every transition is still an event (and recorded)');
    assert.deepEqual(events.map((e) => e.flapping), [false, false, false, false, true, true, true, true]);
  });
});

describe('the injected OS source', () => {
  test('the engine takes sockets, owners, privilege and time from the source it is given', async () => {
    const asked: number[] = [];
    const os: OsSource = {
      name: 'test',
      scanner: scripted([okScan(raw(596, { pid: 4242, pids: [4242] }))]),
      owners: {
        readStartTime: async (pid) => (asked.push(pid), '2020-01-01T00:00:00.000Z'),
        readProcessInfo: async (pid) => ({ pid, name: 'fake', path: '/x/fake', command: 'fake --serve', user: 'u', parentPid: 1, startedAt: '2020-01-01T00:00:00.000Z' }),
        isStillRunning: async () => false,
        readParentChain: async () => [],
        warm: () => undefined,
      },
      elevated: false,
      clock: { now: () => Date.parse('2030-05-06T07:08:09.000Z') },
      kernelEvents: null,
      dispose: () => undefined,
    };
    const engine = new Engine({ os });
    const events = collect(engine);
    const snapshot = await engine.scanNow();
    assert.deepEqual(asked, [4242]);
    assert.equal(snapshot.scannedAt, '2030-05-06T07:08:09.000Z');
    assert.equal(snapshot.sockets[0]?.process?.command, 'fake --serve');
    assert.equal(snapshot.sockets[0]?.firstSeenAt, '2030-05-06T07:08:09.000Z');
    assert.equal(events[0]?.at, '2030-05-06T07:08:09.000Z');
    // Owner known, so "not elevated" hides nothing here: no issue.
    assert.equal(snapshot.health, 'ok');
  });

  test('one source per platform, chosen in one place', () => {
    assert.equal(createOsSource({ platform: 'linux' }).name, 'linux');
    for (const platform of ['darwin', 'win32', 'freebsd'] as const) assert.equal(createOsSource({ platform }).name, 'portable');
    assert.equal(createOsSource({ platform: 'win32' }).elevated, true);
  });
});

test('as root, a live socket no process holds makes health degraded and says why', async () => {
  const engine = new Engine({ os: createOsSource({ scanner: scripted([okScan(raw(596))]), elevated: true }) });
  const snapshot = await engine.scanNow();
  assert.equal(snapshot.health, 'degraded');
  assert.ok(snapshot.issues.some((i) => i.code === 'ownerless-socket'));
  assert.match(snapshot.sockets[0]!.ownerUnknownReason ?? '', /No process holds this socket/);
});

test('as root without the capabilities to read every holder, a socket with no holder found is "owner hidden", not "held by no process"', async () => {
  const engine = new Engine({ os: createOsSource({ scanner: scripted([okScan(raw(596, { ownerHidden: true }))]), elevated: true }) });
  const snapshot = await engine.scanNow();
  assert.equal(snapshot.health, 'degraded');
  assert.deepEqual(snapshot.issues.map((i) => i.code), ['not-elevated']);
  assert.match(snapshot.issues[0]!.message, /without the capabilities/);
  assert.match(snapshot.sockets[0]!.ownerUnknownReason ?? '', /^Owner hidden/);
});

describe('kernel sources in health', () => {
  const source = (status: KernelEventStatus): KernelEventSource => ({ start: async () => status, setPorts: () => undefined, stop: async () => undefined });
  const tcp = source({ active: true, covers: 'TCP sockets on the watched ports' });
  const udp = (reason: string, fault: boolean) => source({ active: false, reason, fault, misses: UDP_MISSES, hint: 'Run Ghostport as root.' });
  async function snapshotWith(kernelEvents: KernelEventSource) {
    const engine = new Engine({ intervalMs: 60_000, os: createOsSource({ scanner: scripted([okScan()]), elevated: true, kernelEvents }) });
    engine.start();
    try {
      await waitFor(() => engine.snapshot, 5000);
      return await engine.scanNow();
    } finally {
      await engine.stop();
    }
  }

  test('a source not built here: the sight says what it would have caught, health stays ok', async () => {
    const snapshot = await snapshotWith(combineKernelEvents([tcp, udp('the eBPF helper is not built here', false)]));
    assert.equal(snapshot.sight?.kernelEvents, true);
    assert.match(snapshot.sight?.note ?? '', /^Kernel events report TCP sockets on the watched ports .*; UDP datagrams sent from unconnected sockets.* can be missed \(the eBPF helper is not built here\)\.$/);
    assert.equal(snapshot.health, 'ok');
  });

  test('a source that should run and does not: health is degraded and says what can be missed', async () => {
    const snapshot = await snapshotWith(combineKernelEvents([tcp, udp('cannot load the BPF programs', true)]));
    assert.equal(snapshot.health, 'degraded');
    const issue = snapshot.issues.find((i) => i.code === 'kernel-events-unavailable');
    assert.match(issue?.message ?? '', /partly unavailable \(cannot load the BPF programs\): UDP datagrams sent from unconnected sockets/);
    assert.equal(issue?.hint, 'Run Ghostport as root.');
  });

  test('a source that fails after the first scan: the snapshot says so at once, not a poll interval later', async () => {
    const late: KernelEventSource = { ...udp('cannot load the BPF programs', true), start: () => new Promise((resolve) => setTimeout(resolve, 300, { active: false, reason: 'cannot load the BPF programs', fault: true, misses: UDP_MISSES, hint: '' })) };
    const engine = new Engine({ intervalMs: 60_000, os: createOsSource({ scanner: scripted([okScan()]), elevated: true, kernelEvents: late }) });
    engine.start();
    try {
      const first = await waitFor(() => engine.snapshot, 5000);
      assert.equal(first.health, 'ok', 'the first scan ran before the source answered');
      const told = await waitFor(() => (engine.snapshot?.issues.some((i) => i.code === 'kernel-events-unavailable') ? engine.snapshot : undefined), 3000);
      assert.equal(told.health, 'degraded');
      assert.match(told.sight?.note ?? '', /\(kernel events: cannot load the BPF programs\)/);
    } finally {
      await engine.stop();
    }
  });

  test('no source runs: polling only, with every reason once', async () => {
    const snapshot = await snapshotWith(combineKernelEvents([udp('Ghostport is not running as root', false), udp('Ghostport is not running as root', false)]));
    assert.equal(snapshot.sight?.kernelEvents, false);
    assert.match(snapshot.sight?.note ?? '', /\(kernel events: Ghostport is not running as root\): sockets that live less than one interval can be missed/);
  });
});

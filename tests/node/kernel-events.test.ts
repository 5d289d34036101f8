/**
 * Kernel events between polls (Linux, root, tracefs): sockets on 596 that live a few
 * milliseconds are reported by the real engine with a poll interval of a minute, with their
 * owner; the tracefs instance follows the ports, is removed on stop, and stale instances of dead
 * Ghostports are removed while one still in use is not. Kernel events are global: every
 * assertion is about this test's own processes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, utimesSync, writeFileSync } from 'node:fs';
import { Engine } from '#node/engine.ts';
import { createTracefsEvents, parseLostLine, parseTraceLine } from '#node/kernel-events.ts';
import { createOsSource } from '#node/os-source.ts';
import { createLinuxScanner, type Scanner } from '#node/scanner.ts';
import type { PortEvent } from '#common/model.ts';
import { toEventJson } from '#common/cli-json.ts';
import { waitFor } from '../support/port-holder.ts';

const PORT = 596;
const PY = '/usr/bin/python3';

function tracefs(): string | null {
  for (const m of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) if (existsSync(`${m}/instances`)) return m;
  const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  if (r.status === 0) {
    spawnSync('umount', ['/sys/kernel/tracing']);
    return '/sys/kernel/tracing';
  }
  return null;
}
const INIT_PID_NAMESPACE = process.platform === 'linux' && readlinkSync('/proc/self/ns/pid') === 'pid:[4026531836]';
const skip =
  process.platform !== 'linux' || process.getuid?.() !== 0
    ? 'needs Linux and root (tracefs)'
    : !INIT_PID_NAMESPACE
      ? 'runs in a PID namespace of its own (npm test isolates itself so): kernel events are off there by design; run this file with unshare -n only'
      : tracefs() === null
        ? 'tracefs cannot be mounted here'
        : false;

// Kernel events name processes by their pid in the first PID namespace; inside another one (the
// suite's isolation) only the name can be checked, so each program names itself (comm).
const INIT_PIDNS = readlinkSync('/proc/self/ns/pid') === 'pid:[4026531836]';
const named = (comm: string) => `import ctypes; ctypes.CDLL(None).prctl(15, b'${comm}', 0, 0, 0)\n`;

/** Runs a short Python program to its end; returns its pid. */
function run(program: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(PY, ['-c', program], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`python exited with ${code}`))));
  });
}

function collect(engine: Engine): PortEvent[] {
  const events: PortEvent[] = [];
  engine.onScan((_, batch) => events.push(...batch));
  return events;
}

test('trace lines parse; interrupt context names no process', () => {
  const listen = parseTraceLine(
    '         python3-6298    [000] .....  1581.826323: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=597 dport=0 saddr=127.0.0.1 daddr=0.0.0.0 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:0.0.0.0 oldstate=TCP_CLOSE newstate=TCP_LISTEN',
  );
  assert.deepEqual(listen, { family: 4, localAddress: '127.0.0.1', localPort: 597, remoteAddress: null, remotePort: null, oldState: 'CLOSE', newState: 'LISTEN', pid: 6298, comm: 'python3', stamp: '1581.826323' });
  const soft = parseTraceLine(
    '     my-prog 2-6298    [000] ..s2.  1581.826440: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=597 dport=35986 saddr=127.0.0.1 daddr=127.0.0.1 saddrv6=::1 daddrv6=::1 oldstate=TCP_LISTEN newstate=TCP_NEW_SYN_RECV',
  );
  assert.equal(soft?.pid, null);
  assert.equal(soft?.comm, null);
  assert.equal(soft?.family, 6);
  assert.equal(soft?.remoteAddress, '::1');
  assert.equal(soft?.newState, 'SYN_RECV');
  assert.equal(parseTraceLine('# tracer: nop'), null);
  // The kernel's two forms (kernel/trace/trace.c, print_trace_line).
  assert.equal(parseLostLine('CPU:1 [LOST 5936 EVENTS]'), 5936);
  assert.equal(parseLostLine('CPU:0 [LOST EVENTS]'), 1);
  assert.equal(parseLostLine('         python3-6298    [000] .....  1581.826323: inet_sock_set_state: family=AF_INET'), null);
});

describe('kernel events on real sockets', { skip }, () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  test('a listener that lives 5 ms and a refused connect are reported between polls, with owners and source "kernel"', { timeout: 30_000 }, async () => {
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
    const events = collect(engine);
    engine.start();
    try {
      await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 10_000);
      assert.match(engine.snapshot!.sight!.note, /Kernel events/);
      // Lives 5 ms, then the process stays a little (its /proc entry is read at the event).
      const comm = `gpk-${process.pid}`;
      const listener = await run(`${named(comm)}import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT})); s.listen(); time.sleep(0.005); s.close(); time.sleep(0.3)`);
      const ours = (e: PortEvent) => (INIT_PIDNS ? e.socket.pid === listener : (e.socket.ownerUnknownReason ?? '').includes(`"${comm}"`));
      const appeared = await waitFor(() => events.find((e) => e.type === 'appeared' && ours(e) && e.socket.state === 'LISTEN'), 5000).catch((error: unknown) => {
        throw new Error(`${String(error)}; pid ${listener}; events: ${JSON.stringify(events.map((e) => [e.type, e.source, e.socket.pid, e.socket.state, e.socket.ownerUnknownReason]))}`);
      });
      assert.equal(appeared.source, 'kernel');
      assert.equal(appeared.socket.localPort, PORT);
      if (INIT_PIDNS) {
        assert.equal(appeared.socket.process?.pid, listener);
        assert.match(appeared.socket.process?.command ?? '', /python3 -c/, 'the command line, read at the event');
        assert.equal(appeared.socket.netns?.host, true);
      } else {
        assert.match(appeared.socket.ownerUnknownReason ?? '', /PID namespace/);
      }
      const gone = await waitFor(() => events.find((e) => e.type === 'disappeared' && e.socket.id === appeared.socket.id), 5000);
      assert.equal(gone.source, 'kernel');
      assert.equal((toEventJson(gone) as { source?: string }).source, 'kernel');
      // Nothing listens now: a connect is refused in well under a millisecond, and the process exits at once.
      const comm2 = `gpc-${process.pid}`;
      const connector = await run(`${named(comm2)}import socket
c=socket.socket()
try: c.connect(('127.0.0.1',${PORT}))
except ConnectionRefusedError: pass`);
      const mine = (e: PortEvent) => (INIT_PIDNS ? e.socket.pid === connector : (e.socket.ownerUnknownReason ?? '').includes(`"${comm2}"`));
      const attempt = await waitFor(() => events.find((e) => e.type === 'appeared' && mine(e) && e.socket.remotePort === PORT), 5000);
      assert.equal(attempt.source, 'kernel');
      assert.equal(attempt.socket.side, 'remote');
      assert.equal(attempt.socket.state, 'SYN_SENT');
      if (INIT_PIDNS) assert.equal(attempt.socket.process?.pid, connector);
    } finally {
      await engine.stop();
    }
    const left = existsSync('/sys/kernel/tracing/instances') ? readdirSync('/sys/kernel/tracing/instances').filter((n) => n.startsWith(`ghostport-${process.pid}-`)) : [];
    assert.deepEqual(left, [], 'the instance is removed on stop');
  });

  test('a listener that stays is the poll\'s socket once: no kernel-only pair, one appeared', { timeout: 30_000 }, async () => {
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
    const events = collect(engine);
    engine.start();
    try {
      await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 10_000);
      const child = spawn(PY, ['-c', `import socket,time,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT})); s.listen(); print('ready',flush=True); time.sleep(60)`], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      const started = Date.now();
      const appeared = await waitFor(() => events.find((e) => e.type === 'appeared' && e.socket.pid === child.pid), 5000);
      assert.ok(Date.now() - started < 5000);
      assert.equal(appeared.source, 'kernel', 'the scan the kernel prompted found it');
      assert.equal(typeof appeared.socket.inode, 'number', 'it is the poll\'s socket, with its inode');
      child.kill('SIGKILL');
      await waitFor(() => events.find((e) => e.type === 'disappeared' && e.socket.id === appeared.socket.id), 5000);
      assert.equal(events.filter((e) => e.socket.pid === child.pid).length, 2, 'one appeared, one disappeared');
    } finally {
      await engine.stop();
    }
  });

  /** The real Linux scanner, every scan held back `delayMs` first: kernel events and the early reads are untouched. */
  function slowScanner(delayMs: number): Scanner & { started: number; finished: number; finishedStarts: number[] } {
    const inner = createLinuxScanner(10_000);
    const slow = {
      started: 0,
      finished: 0,
      /** Of each finished scan, its place in the order scans started. */
      finishedStarts: [] as number[],
      async scan(ports: readonly number[]) {
        const place = ++slow.started;
        await new Promise((r) => setTimeout(r, delayMs));
        const raw = await inner.scan(ports);
        slow.finished++;
        slow.finishedStarts.push(place);
        return raw;
      },
      socketOf: inner.socketOf,
      dispose: () => inner.dispose?.(),
    };
    return slow;
  }

  test('a new listener is announced from its kernel event, before any scan sees it, as the scans then find it (host and another namespace)', { timeout: 60_000 }, async () => {
    const scanner = slowScanner(1500);
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000, os: createOsSource({ scanner, kernelEvents: createTracefsEvents() }) });
    const events = collect(engine);
    // For each appeared: the places of the scans that had finished when it was told.
    const finishedWhenTold = new Map<string, number[]>();
    engine.onScan((_, batch) => {
      for (const e of batch) if (e.type === 'appeared') finishedWhenTold.set(e.socket.id, [...scanner.finishedStarts]);
    });
    engine.start();
    try {
      await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 15_000);
      for (const [where, argv] of [
        ['host', [PY]],
        ['another network namespace', ['unshare', '-n', PY]],
      ] as const) {
        // Scans go on meanwhile (kernel events of other programs on 596 prompt them too): what
        // counts is that none started after this point had finished when the appeared was told.
        const startedBefore = scanner.started;
        const child = spawn(argv[0], [...argv.slice(1), '-c', `import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT})); s.listen(); time.sleep(60)`], { stdio: 'ignore' });
        children.push(child);
        // unshare execs python: the same pid.
        const appeared = await waitFor(() => events.find((e) => e.type === 'appeared' && e.socket.pid === child.pid), 10_000);
        assert.deepEqual(finishedWhenTold.get(appeared.socket.id)?.filter((place) => place > startedBefore), [], `${where}: told before any scan started since listen() finished`);
        assert.equal(appeared.source, 'kernel');
        assert.equal(appeared.socket.state, 'LISTEN');
        assert.equal(typeof appeared.socket.inode, 'number', `${where}: the socket as a scan reports it, with its inode`);
        assert.match(appeared.socket.process?.command ?? '', /python3 -c/);
        assert.equal(appeared.socket.netns?.host, where === 'host');
        assert.ok(engine.snapshot?.sockets.some((s) => s.id === appeared.socket.id), 'the snapshot lists it at once');
        // Two full scans later the same socket is still the one announced: no second appeared, no disappeared.
        const after = scanner.finished;
        void engine.scanNow();
        await waitFor(() => scanner.finished >= after + 2, 15_000);
        assert.deepEqual(events.filter((e) => e.socket.pid === child.pid).map((e) => e.type), ['appeared'], `${where}: ${JSON.stringify(events.filter((e) => e.socket.pid === child.pid).map((e) => [e.type, e.socket.id]))}`);
        assert.ok(engine.snapshot?.sockets.some((s) => s.id === appeared.socket.id));
        child.kill('SIGKILL');
        const gone = await waitFor(() => events.find((e) => e.type === 'disappeared' && e.socket.pid === child.pid), 15_000);
        assert.equal(gone.socket.id, appeared.socket.id);
      }
    } finally {
      await engine.stop();
    }
  });

  test('a socket shared with its parent before listen(): announced with the process that listened, then no owner-changed and no second appeared', { timeout: 60_000 }, async () => {
    const scanner = slowScanner(300);
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000, os: createOsSource({ scanner, kernelEvents: createTracefsEvents() }) });
    const events = collect(engine);
    // The parent (lower pid, which ss names first) makes the socket and keeps it; its fork
    // listens. Its own process group, so the fork goes with it.
    let parent: ChildProcess | null = null;
    const killGroup = () => {
      try {
        if (parent?.pid) process.kill(-parent.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    };
    engine.start();
    try {
      await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 15_000);
      parent = spawn(PY, ['-c', `import os,socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT}))
if os.fork() == 0:
    s.listen(); time.sleep(60)
time.sleep(60)`], { stdio: 'ignore', detached: true });
      const parentPid = parent.pid;
      const appeared = await waitFor(() => events.find((e) => e.type === 'appeared' && e.socket.localPort === PORT && e.socket.state === 'LISTEN' && e.socket.process?.parentPid === parentPid), 10_000);
      const done = scanner.finished;
      void engine.scanNow();
      await waitFor(() => scanner.finished >= done + 2, 15_000);
      const about = events.filter((e) => e.socket.inode === appeared.socket.inode);
      assert.deepEqual(about.map((e) => e.type), ['appeared'], JSON.stringify(about.map((e) => [e.type, e.socket.pid, e.socket.id])));
      assert.equal(engine.snapshot?.sockets.find((s) => s.inode === appeared.socket.inode)?.id, appeared.socket.id);
    } finally {
      killGroup();
      await engine.stop();
    }
  });

  test('listeners that live 100 ms, one after another on one endpoint while scans are slow: each appears and disappears once', { timeout: 60_000 }, async () => {
    const scanner = slowScanner(700);
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000, os: createOsSource({ scanner, kernelEvents: createTracefsEvents() }) });
    const events = collect(engine);
    engine.start();
    try {
      await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 15_000);
      const n = 6;
      const pid = await run(`import socket,time
for i in range(${n}):
    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT})); s.listen(); time.sleep(0.1); s.close(); time.sleep(0.15)
time.sleep(0.3)`);
      const mine = () => events.filter((e) => e.socket.pid === pid);
      await waitFor(() => mine().filter((e) => e.type === 'disappeared').length >= n, 15_000).catch(() => undefined);
      const byId = new Map<string, string[]>();
      for (const e of mine()) byId.set(e.socket.id, [...(byId.get(e.socket.id) ?? []), e.type]);
      assert.equal(byId.size, n, `one socket per listener: ${JSON.stringify([...byId])}`);
      for (const [id, types] of byId) assert.deepEqual(types, ['appeared', 'disappeared'], id);
      assert.ok(mine().every((e) => e.source === 'kernel'));
      assert.equal(engine.snapshot?.sight?.coalesced ?? 0, 0, 'none counted instead of reported');
    } finally {
      await engine.stop();
    }
  });

  test('the instance follows the ports; stale instances of dead Ghostports go, one still read stays', { timeout: 30_000 }, async () => {
    const root = '/sys/kernel/tracing';
    // Mounted here for the test's own look at the instances; the source then leaves the mount alone.
    const mountedHere = !existsSync(`${root}/instances`) && spawnSync('mount', ['-t', 'tracefs', 'nodev', root]).status === 0;
    after(() => {
      if (mountedHere) spawnSync('umount', [root]);
    });
    const source = createTracefsEvents({ name: `ghostport-test-${process.pid}` });
    // A dead Ghostport's instance (pid 2^22+1 cannot exist), one whose reader is still alive, one
    // left by a Ghostport in another PID namespace (its pid, 1, is alive here: only its age tells),
    // and one just made by a live Ghostport that has not opened its reader yet.
    const stale = `${root}/instances/ghostport-${2 ** 22 + 1}`;
    const busy = `${root}/instances/ghostport-${2 ** 22 + 2}`;
    const foreign = `${root}/instances/ghostport-1-0badf00d`;
    const starting = `${root}/instances/ghostport-${process.pid}-5ca1ab1e`;
    const status = await source.start([PORT], () => undefined);
    assert.equal(status.active, true);
    let reader: ChildProcess | null = null;
    try {
      await source.stop();
      mkdirSync(stale);
      mkdirSync(busy);
      mkdirSync(foreign);
      mkdirSync(starting);
      // tracefs keeps a directory's mtime as its creation time: make the foreign one two minutes old.
      const twoMinutesAgo = new Date(Date.now() - 120_000);
      utimesSync(foreign, twoMinutesAgo, twoMinutesAgo);
      reader = spawn('cat', [`${busy}/trace_pipe`], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 200));
      await source.start([PORT, 8596], () => undefined);
      assert.equal(existsSync(stale), false, 'the dead one is removed');
      assert.equal(existsSync(busy), true, 'the one still read is not');
      assert.equal(existsSync(foreign), false, 'an old unread one is removed, though its pid is alive here');
      assert.equal(existsSync(starting), true, "a live Ghostport's fresh one is not");
      const filter = `${root}/instances/ghostport-test-${process.pid}/events/sock/inet_sock_set_state/filter`;
      assert.match(readFileSync(filter, 'utf8'), /8596/);
      source.setPorts([597]);
      assert.match(readFileSync(filter, 'utf8'), /sport == 597 \|\| dport == 597/);
      assert.doesNotMatch(readFileSync(filter, 'utf8'), /596/);
    } finally {
      await source.stop();
      reader?.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      for (const dir of [stale, busy, foreign, starting]) if (existsSync(dir)) rmdirSync(dir);
    }
    assert.equal(existsSync(`${root}/instances/ghostport-test-${process.pid}`), false);
  });

  test('events the kernel had no room for are counted, prompt a scan and are said in health', { timeout: 60_000 }, async () => {
    const name = `ghostport-${process.pid}-105e`;
    const instance = `${tracefs()}/instances/${name}`;
    const os = createOsSource({ kernelEvents: createTracefsEvents({ name }) });
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000, os });
    engine.start();
    let reader: number | null = null;
    try {
      await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 10_000);
      const scansBefore = engine.snapshot!.scannedAt;
      // The smallest ring buffer, and its reader held still while a loop of refused connects fills it.
      writeFileSync(`${instance}/buffer_size_kb`, '4');
      reader = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).find((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(`${name}/trace_pipe`);
        } catch {
          return false;
        }
      }) ?? null;
      assert.notEqual(reader, null, 'the reader of the instance runs');
      process.kill(reader!, 'SIGSTOP');
      await run(`import socket
for i in range(3000):
  c=socket.socket()
  try: c.connect(('127.0.0.1',${PORT}))
  except OSError: pass
  c.close()`);
      process.kill(reader!, 'SIGCONT');
      const flood = await waitFor(() => engine.snapshot?.issues.find((i) => i.code === 'kernel-events-flood' && /had no room for \d+ events/.test(i.message)), 10_000);
      assert.ok(Number(/no room for (\d+)/.exec(flood.message)![1]) > 100, flood.message);
      assert.notEqual(engine.snapshot!.scannedAt, scansBefore, 'a scan ran for it');
      assert.notEqual(engine.snapshot!.health, 'ok');
    } finally {
      if (reader !== null) process.kill(reader, 'SIGCONT');
      await engine.stop();
      os.dispose();
    }
    assert.equal(existsSync(instance), false, 'the instance is removed on stop');
  });
});

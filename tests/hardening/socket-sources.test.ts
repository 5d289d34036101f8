/**
 * Never a false "clear": the real engine and CLI with socket tools that are missing, fail, print
 * garbage or hang (stand-in `ss` scripts on PATH, a real listener on port 596 all along), and
 * with every child process the scanner starts bounded and cleaned up. Where the kernel's own
 * interfaces answer (/proc/net, the netlink helper), `ss` is not needed and a broken one changes
 * nothing; where they cannot (a /proc without net/, as systemd's ProcSubset=pid gives, and no
 * helper), a broken or missing `ss` makes the scan blind, never clear.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '#node/engine.ts';
import { createOsSource } from '#node/os-source.ts';
import { createLinuxScanner, type RawScan, type Scanner } from '#node/scanner.ts';
import { buildNative, NATIVE_OUTPUT } from '../../electron/build/build-native.ts';
import type { PortEvent, Snapshot } from '#common/model.ts';
import { killAllHolders, startHolder, waitFor, type Holder } from '../support/port-holder.ts';
import { killMarked, markedProcesses, markedSleep, realTool, toolDir, type ToolDir } from '../support/tools.ts';
import { mountHardenedProc, NO_HELPER, withoutKernelTables } from '../support/hardened-proc.ts';

const PORT = 596;
const BIN = 'electron/node/cli/ghostport.mjs';
const REAL_SS = realTool('ss');
const realSockets =
  process.platform !== 'linux' || process.getuid?.() !== 0
    ? 'needs Linux and root (binds port 596)'
    : REAL_SS === null || realTool('netstat') === null
      ? 'needs ss (iproute2) and netstat (net-tools) to play the working tools'
      : false;
// A /proc without net/ is mounted for these: only in a mount namespace of the test's own.
const hardenedProc = realSockets || (process.env.GHOSTPORT_TEST_ISOLATED ? false : 'mounts a proc: run isolated (npm test does, or GHOSTPORT_TEST_ISOLATED=1 under unshare --mount)');
const ORIGINAL_PATH = process.env.PATH;
const ORIGINAL_DIAG = process.env.GHOSTPORT_DIAG;

/** Runs the engine (PATH as the test set it) and records every snapshot and event; `proc` replaces /proc for the scanner. */
function watchEngine(options: { intervalMs: number; maxBackoffMs?: number; toolTimeoutMs?: number; proc?: string }) {
  const timeoutMs = options.toolTimeoutMs ?? 2000;
  const scanner = options.proc ? createLinuxScanner(timeoutMs, { proc: options.proc, named: '/run/netns' }) : undefined;
  const engine = new Engine({
    ports: [PORT],
    intervalMs: options.intervalMs,
    maxBackoffMs: options.maxBackoffMs ?? 60_000,
    os: createOsSource({ timeoutMs, elevated: true, ...(scanner ? { scanner } : {}) }),
  });
  const snapshots: { at: number; snapshot: Snapshot }[] = [];
  const events: PortEvent[] = [];
  engine.onScan((snapshot, batch) => {
    snapshots.push({ at: Date.now(), snapshot });
    events.push(...batch);
  });
  return { engine, snapshots, events };
}

function sees(snapshot: Snapshot, holder: Holder): boolean {
  return snapshot.sockets.some((s) => s.pid === holder.pid && s.localPort === PORT);
}

/**
 * Runs the CLI as a user would, with its own PATH; `hardened`: under a /proc without net/ and
 * without the netlink helper, where only ss (or netstat) can list sockets.
 */
function cli(args: string[], path: string, hardened = false): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const plain = { file: process.execPath, args: [BIN, ...args], env: { ...process.env, PATH: path } };
  const run = hardened ? withoutKernelTables(plain.file, plain.args, plain.env) : plain;
  return new Promise((resolve) => {
    const child = spawn(run.file, run.args, { env: run.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += String(c)));
    child.stderr.on('data', (c: Buffer) => (stderr += String(c)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Stand-in ss scripts: each leaves a mark that it ran, then misbehaves. */
const BROKEN_SS: readonly [string, string][] = [
  ['fails', `echo 'ss: netlink: Operation not permitted' >&2; exit 1`],
  ['prints garbage', `echo '<<<garbage>>>'; exit 0`],
];

describe('the kernel answers (/proc/net, the netlink helper): no ss is needed, a broken one changes nothing', { skip: realSockets }, () => {
  let dir: ToolDir;
  let holder: Holder;
  before(async () => {
    holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]], extraArgs: ['answers-marker'] });
  });
  afterEach(() => {
    process.env.PATH = ORIGINAL_PATH;
    if (ORIGINAL_DIAG === undefined) delete process.env.GHOSTPORT_DIAG;
    else process.env.GHOSTPORT_DIAG = ORIGINAL_DIAG;
    dir?.remove();
  });
  after(killAllHolders);

  for (const [what, body] of [['missing', null], ...BROKEN_SS, ['hangs', 'sleep 60']] as const) {
    test(`ss ${what}: the engine sees the listener and its owner, health ok, and never runs ss`, async () => {
      dir = toolDir();
      if (body !== null) dir.script('ss', `: > ${dir.path}/ss-ran; ${body}`);
      process.env.PATH = dir.path;
      const { engine } = watchEngine({ intervalMs: 60_000, toolTimeoutMs: 500 });
      const snapshot = await engine.scanNow();
      await engine.stop();
      assert.ok(sees(snapshot, holder), JSON.stringify(snapshot.sockets));
      assert.equal(snapshot.health, 'ok', JSON.stringify(snapshot.issues));
      assert.ok(!existsSync(`${dir.path}/ss-ran`), 'ss was not run');
    });
  }

  test('the CLI with an ss that fails: exit 1 (found), the owner named, health ok', async () => {
    dir = toolDir();
    dir.script('ss', BROKEN_SS[0]![1]);
    const json = await cli(['scan', '--json'], dir.path);
    assert.equal(json.status, 1, json.stderr);
    const doc = JSON.parse(json.stdout) as { health: string; sockets: { pid: number | null; localPort: number }[] };
    assert.equal(doc.health, 'ok');
    assert.ok(doc.sockets.some((s) => s.pid === holder.pid && s.localPort === PORT), json.stdout);
  });

  const helper = realSockets || hardenedProc ? null : buildNative(process.cwd());
  test('no /proc/net but the netlink helper: an ss that fails changes nothing', { skip: hardenedProc || (helper?.ok ? false : `the netlink helper is not built: ${helper?.message}`) }, async () => {
    const proc = mountHardenedProc();
    try {
      dir = toolDir();
      dir.script('ss', `: > ${dir.path}/ss-ran; ${BROKEN_SS[0]![1]}`);
      process.env.PATH = dir.path;
      process.env.GHOSTPORT_DIAG = join(process.cwd(), NATIVE_OUTPUT);
      const { engine } = watchEngine({ intervalMs: 60_000, proc: proc.path });
      const snapshot = await engine.scanNow();
      await engine.stop();
      assert.ok(sees(snapshot, holder), JSON.stringify(snapshot));
      assert.equal(snapshot.health, 'ok', JSON.stringify(snapshot.issues));
      assert.ok(!existsSync(`${dir.path}/ss-ran`), 'ss was not run');
    } finally {
      proc.remove();
    }
  });
});

describe('no /proc/net, no netlink helper, no usable ss: blind with the reason, never clear', { skip: hardenedProc }, () => {
  let dir: ToolDir;
  let holder: Holder;
  let proc: ReturnType<typeof mountHardenedProc>;
  const marker = `ghostport-hung-ss-${process.pid}`;

  before(async () => {
    holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]], extraArgs: ['sources-marker'] });
    proc = mountHardenedProc();
    process.env.GHOSTPORT_DIAG = NO_HELPER;
  });
  afterEach(() => {
    process.env.PATH = ORIGINAL_PATH;
    killMarked(marker);
    dir?.remove();
  });
  after(async () => {
    if (ORIGINAL_DIAG === undefined) delete process.env.GHOSTPORT_DIAG;
    else process.env.GHOSTPORT_DIAG = ORIGINAL_DIAG;
    proc?.remove();
    await killAllHolders();
  });

  test('PATH without ss and netstat: the engine is blind (no events) until ss appears, then sees the listener', async () => {
    dir = toolDir();
    process.env.PATH = dir.path;
    const { engine, snapshots, events } = watchEngine({ intervalMs: 50, proc: proc.path });
    engine.start();
    try {
      await waitFor(() => snapshots.length >= 3, 10_000, 10);
      for (const { snapshot } of snapshots) {
        assert.equal(snapshot.health, 'blind');
        assert.deepEqual(snapshot.sockets, []);
        assert.equal(snapshot.issues[0]?.code, 'no-socket-source');
        assert.match(snapshot.issues[0]?.message ?? '', /neither ss nor netstat/);
      }
      assert.equal(events.length, 0, 'cannot see is not "gone": no events while blind');
      assert.equal(engine.status.running, true);
      dir.link('ss');
      const back = await waitFor(() => snapshots.find((s) => sees(s.snapshot, holder)), 10_000, 10);
      assert.equal(back.snapshot.health, 'ok');
      assert.equal(events.filter((e) => e.socket.pid === holder.pid && e.type === 'appeared').length, 1);
    } finally {
      await engine.stop();
    }
  });

  test('an ss that fails: reported with its message, retried with growing backoff, recovered when ss works', async () => {
    dir = toolDir();
    dir.script('ss', `echo 'Cannot open netlink socket: Permission denied' >&2; exit 1`);
    process.env.PATH = dir.path;
    const { engine, snapshots, events } = watchEngine({ intervalMs: 40, maxBackoffMs: 400, proc: proc.path });
    engine.start();
    try {
      await waitFor(() => snapshots.length >= 5, 15_000, 10);
      const failed = snapshots.slice(0, 5);
      for (const { snapshot } of failed) {
        assert.equal(snapshot.health, 'blind');
        assert.equal(snapshot.issues[0]?.code, 'scan-failed');
        assert.match(snapshot.issues[0]?.message ?? '', /Cannot open netlink socket/);
      }
      assert.ok(engine.status.consecutiveFailures >= 5);
      const gaps = failed.slice(1).map((s, i) => s.at - failed[i]!.at);
      // 40 ms doubling: 80, 160, 320, 400 (capped); allow for timer slack but demand growth.
      assert.ok(gaps[3]! > gaps[0]! * 2, `backoff grows: gaps ${gaps.join(', ')} ms`);
      assert.ok(gaps[3]! <= 400 + 300, `backoff is capped: gaps ${gaps.join(', ')} ms`);
      assert.equal(events.length, 0);
      dir.script('ss', `exec ${REAL_SS} "$@"`);
      const back = await waitFor(() => snapshots.find((s) => sees(s.snapshot, holder)), 10_000, 10);
      assert.equal(back.snapshot.health, 'ok');
      assert.equal(engine.status.consecutiveFailures, 0);
      assert.equal(engine.status.lastError, null);
    } finally {
      await engine.stop();
    }
  });

  test('an ss that prints garbage: never an empty green result', async () => {
    dir = toolDir();
    dir.script('ss', `printf 'Segmentation fault\\n\\x1b[2J%s\\n' "$(printf 'x%.0s' {1..300})"; exit 0`);
    process.env.PATH = dir.path;
    const { engine } = watchEngine({ intervalMs: 60_000, proc: proc.path });
    try {
      const garbage = await engine.scanNow();
      assert.equal(garbage.health, 'blind');
      assert.deepEqual(garbage.sockets, []);
      assert.equal(garbage.issues[0]?.code, 'scan-failed');
      assert.match(garbage.issues[0]?.message ?? '', /cannot read/);
      assert.doesNotMatch(garbage.issues[0]?.message ?? '', /\x1b/, 'tool output is quoted escaped');
      // Readable rows plus an unreadable line: what can be read is shown, flagged as partial.
      dir.script('ss', `${REAL_SS} "$@"; echo 'tcp LISTEN 0 0 garbage'`);
      const partial = await engine.scanNow();
      assert.ok(sees(partial, holder));
      assert.equal(partial.health, 'degraded');
      assert.ok(partial.issues.some((i) => i.code === 'partial-socket-source' && /cannot read/.test(i.message)));
    } finally {
      await engine.stop();
    }
  });

  test('an ss that hangs (run from the scanner\'s long-lived shell): every run is killed with its children at the timeout, none pile up, the loop recovers', { timeout: 60_000 }, async () => {
    dir = toolDir();
    dir.script('ss', markedSleep(marker, 60));
    process.env.PATH = dir.path;
    const { engine, snapshots } = watchEngine({ intervalMs: 20, maxBackoffMs: 100, toolTimeoutMs: 500, proc: proc.path });
    engine.start();
    try {
      await waitFor(() => snapshots.length >= 6, 30_000, 10);
      for (const { snapshot } of snapshots.slice(0, 6)) {
        assert.equal(snapshot.health, 'blind');
        assert.match(snapshot.issues[0]?.message ?? '', /ss did not answer within 500 ms/);
      }
      // Six hung runs, each a script with a sleeping child: at most the one in flight remains.
      assert.ok(markedProcesses(marker).length <= 1, `hung children left behind: ${markedProcesses(marker).length}`);
      dir.script('ss', `exec ${REAL_SS} "$@"`);
      // On a loaded machine the first scans back may still be slow (degraded); it settles to ok.
      await waitFor(() => snapshots.find((s) => sees(s.snapshot, holder) && s.snapshot.health === 'ok'), 20_000, 10);
    } finally {
      await engine.stop();
    }
    await waitFor(() => markedProcesses(marker).length === 0, 2000, 20);
  });

  test("systeminformation's own query hangs (no ss, netstat stuck): at most one in flight, reported, and it recovers", { timeout: 60_000 }, async () => {
    // systeminformation runs `netstat | grep` through a shell with no timeout of its own.
    dir = toolDir();
    dir.script('netstat', `if [ "$1" = "--version" ]; then echo 'net-tools 2.10'; exit 0; fi\n${markedSleep(marker, 60)}`);
    process.env.PATH = dir.path;
    const { engine, snapshots } = watchEngine({ intervalMs: 30, maxBackoffMs: 200, toolTimeoutMs: 1000, proc: proc.path });
    engine.start();
    try {
      await waitFor(() => snapshots.length >= 6, 20_000, 10);
      for (const { snapshot } of snapshots.slice(0, 6)) {
        assert.equal(snapshot.health, 'blind', 'netstat is the only source and it does not answer');
        assert.match(snapshot.issues[0]?.message ?? '', /systeminformation (did not answer within 1 s|is still busy)/);
      }
      assert.equal(markedProcesses(marker).length, 1, 'exactly one hung query, however many scans');
      dir.script('netstat', `exec ${realTool('netstat') ?? 'false'} "$@"`);
      // The stuck query is the machine's (systeminformation cannot be told to stop); once it ends, sight returns.
      killMarked(marker);
      const back = await waitFor(() => snapshots.find((s) => sees(s.snapshot, holder)), 15_000, 10);
      assert.equal(back.snapshot.health, 'degraded', 'without ss, netstat alone is partial');
      assert.ok(back.snapshot.issues.some((i) => i.code === 'partial-socket-source'));
    } finally {
      await engine.stop();
    }
  });
});

describe('the CLI without /proc/net or the netlink helper, and a broken ss: exit 2, never "clear"', { skip: hardenedProc }, () => {
  let dir: ToolDir;
  const marker = `ghostport-cli-hung-ss-${process.pid}`;
  before(async () => {
    await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
  });
  afterEach(() => {
    killMarked(marker);
    dir?.remove();
  });
  after(killAllHolders);

  for (const [what, body, reason] of BROKEN_SS.map(([w, b], i) => [w, b, [/netlink: Operation not permitted/, /cannot read/][i]!] as const)) {
    test(`ss ${what}: scan --json says blind with the reason, and the table says unknown`, async () => {
      dir = toolDir();
      dir.link('netstat');
      dir.script('ss', body);
      const json = await cli(['scan', '--json'], dir.path, true);
      assert.equal(json.status, 2, json.stderr);
      const doc = JSON.parse(json.stdout) as { health: string; sockets: unknown[]; issues: { code: string; message: string }[] };
      assert.equal(doc.health, 'blind');
      assert.deepEqual(doc.sockets, []);
      assert.equal(doc.issues[0]?.code, 'scan-failed');
      assert.match(doc.issues[0]?.message ?? '', reason);
      const table = await cli(['scan'], dir.path, true);
      assert.equal(table.status, 2);
      assert.doesNotMatch(table.stdout, /: clear\./);
      assert.match(table.stdout, /Cannot see sockets on port 596: the result is unknown, not clear/);
    });
  }

  test('ss hangs: scan gives up at the tool timeout with exit 2 and leaves no process behind', { timeout: 60_000 }, async () => {
    dir = toolDir();
    dir.link('netstat');
    dir.script('ss', markedSleep(marker, 60));
    const r = await cli(['scan', '--json'], dir.path, true);
    assert.equal(r.status, 2, r.stderr);
    assert.ok(r.ms < 30_000, `bounded: took ${r.ms} ms`);
    assert.match(JSON.parse(r.stdout).issues[0].message, /ss did not answer within 10 s/);
    // Killed with the probe's shell (its process group) as the scan gave up: gone, not left running.
    await waitFor(() => markedProcesses(marker).length === 0, 2000, 20);
  });
});

describe('engine loop, where the subject is the loop itself (scripted scanner)', () => {
  const raw = (inode: number | null): RawScan['sockets'][number] => ({
    protocol: 'tcp',
    family: 4,
    localAddress: '127.0.0.5',
    localPort: 596,
    remoteAddress: null,
    remotePort: null,
    state: 'LISTEN',
    pid: null,
    pids: [],
    inode,
    uid: null,
  });
  const playing = (...steps: (number | null)[][]): Scanner => {
    let i = 0;
    return {
      async scan() {
        const inodes = steps[Math.min(i++, steps.length - 1)]!;
        return { sockets: inodes.map(raw), health: 'ok', issues: [], reused: false };
      },
    };
  };

  test('polls are not on an exact beat: their spacing spreads below the interval, never above it (no aliasing, latency bound kept)', { timeout: 30_000 }, async () => {
    // A listener flapping every 50 ms against polls every 100 ms on the beat was seen in 0 of 50
    // polls: fixed-rate polling can lock onto the phase where it is down.
    // The loop's own plan is checked (when each poll is due, on the engine's clock), not the
    // timer's lateness, which on a loaded 2-core machine says more about the machine than the loop.
    const starts: number[] = [];
    const planned: number[] = [];
    const scanner: Scanner = {
      async scan() {
        starts.push(Date.now());
        return { sockets: [], health: 'ok', issues: [], reused: false };
      },
    };
    const engine = new Engine({ os: createOsSource({ scanner, elevated: true }), intervalMs: 100 });
    engine.onStatus((status) => {
      if (status.nextScanAt !== null && planned.length < starts.length) planned.push(Date.parse(status.nextScanAt));
    });
    engine.start();
    try {
      await waitFor(() => planned.length >= 40, 20_000, 5);
    } finally {
      await engine.stop();
    }
    // Each poll is planned relative to the start of the poll before it (fixed rate).
    const gaps = planned.map((due, i) => due - starts[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(mean > 80 && mean < 100, `the mean planned spacing is a little under the interval: ${mean.toFixed(1)} ms`);
    assert.ok(Math.max(...gaps) - Math.min(...gaps) > 10, `spacing spreads: ${Math.min(...gaps).toFixed(1)}..${Math.max(...gaps).toFixed(1)} ms`);
    // Date's millisecond resolution is the only slack: the plan never goes past one interval.
    assert.ok(Math.max(...gaps) <= 101, `no planned gap exceeds the interval: ${Math.max(...gaps).toFixed(1)} ms`);
  });

  test('a row the socket table lists twice is one socket and one event', async () => {
    const engine = new Engine({ os: createOsSource({ scanner: playing([7, 7]), elevated: true }) });
    const events: PortEvent[] = [];
    engine.onScan((_, batch) => events.push(...batch));
    const snapshot = await engine.scanNow();
    assert.equal(snapshot.sockets.length, 1);
    assert.equal(events.length, 1);
  });

  test('closed and reopened between scans (a new inode): gone and new, as before', async () => {
    const engine = new Engine({ os: createOsSource({ scanner: playing([100], [101]), elevated: true }) });
    const events: PortEvent[] = [];
    engine.onScan((_, batch) => events.push(...batch));
    await engine.scanNow();
    await engine.scanNow();
    assert.deepEqual(events.map((e) => e.type), ['appeared', 'disappeared', 'appeared']);
  });

  test('watchdog: a scan that never settles is failed at the bound; the loop goes on and recovers', async () => {
    let calls = 0;
    const scanner: Scanner = {
      scan(): Promise<RawScan> {
        calls++;
        if (calls <= 2) return new Promise(() => undefined);
        return Promise.resolve({ sockets: [], health: 'ok', issues: [], reused: false });
      },
    };
    const engine = new Engine({ os: createOsSource({ scanner, elevated: true }), intervalMs: 10, scanTimeoutMs: 100 });
    const health: string[] = [];
    engine.onScan((s) => health.push(`${s.health}${s.issues[0] ? `: ${s.issues[0].message}` : ''}`));
    engine.start();
    try {
      await waitFor(() => health.length >= 3, 5000, 5);
      assert.match(health[0]!, /^blind: The last scan failed: the scan did not finish within 100 ms/);
      assert.match(health[1]!, /^blind/);
      assert.equal(health[2], 'ok');
      assert.equal(engine.status.consecutiveFailures, 0);
    } finally {
      await engine.stop();
    }
  });
});

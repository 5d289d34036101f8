/**
 * One history, many processes (issue 15), with real processes, sockets and files: two `watch`es
 * and a tray engine on one data dir store each event once; `history` on a read-only store, as
 * root and as `nobody`, changes nothing and never says "corrupt"; linked and foreign-owned
 * stores are refused with exit 2; a restart closes what went while nobody watched, does not
 * announce again what stayed, and the gap in coverage shows in `history`.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '#node/engine.ts';
import { History, HISTORY_FILE } from '#node/history.ts';
import type { PortEvent } from '#common/model.ts';
import { killAllChurn, startChurn } from '../support/churn.ts';
import { killAllHolders, startHolder } from '../support/port-holder.ts';
import { scratchDirs, until } from '../support/scratch.ts';
import { BIN, killAllWatchers, startWatcher, type EventLine } from '../support/watcher.ts';

const linuxRoot = process.platform === 'linux' && process.getuid?.() === 0;
const realSockets = linuxRoot ? false : 'needs Linux and root (binds port 596, changes owners)';

const tempDir = scratchDirs('ghostport-shared-');

function stored(dir: string): PortEvent[] {
  const h = History.openReader({ dataDir: dir });
  try {
    return [...h.iterate({})];
  } finally {
    h.close();
  }
}

/** Runs the CLI (optionally as another user) and returns its exit status and output. */
function cli(args: readonly string[], asUser?: number): { status: number | null; stdout: string; stderr: string } {
  const argv = asUser === undefined ? [process.execPath, BIN, ...args] : ['setpriv', `--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', process.execPath, BIN, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Names, sizes, modes and mtimes of everything in the directory: "nothing touched" means this is unchanged. */
function listing(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return `${f} ${s.size} ${(s.mode & 0o7777).toString(8)} ${s.mtimeMs}`;
    });
}

describe('two watchers and a tray engine on one data dir', { skip: realSockets }, () => {
  afterEach(async () => {
    await killAllWatchers();
    await killAllChurn();
  });

  test('every event is stored once, whoever saw it; both watchers show the same stored event', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const a = startWatcher(['--interval', '60', '--data-dir', dir]);
    const b = startWatcher(['--interval', '90', '--data-dir', dir]);
    await Promise.all([a.ready(), b.ready()]);
    const trayHistory = History.open({ dataDir: dir, label: 'tray' });
    const tray = new Engine({ ports: [596], intervalMs: 75, history: trayHistory });
    const trayEvents: PortEvent[] = [];
    tray.onScan((_s, events) => trayEvents.push(...events));
    tray.start();
    try {
      await startChurn('127.0.0.21', 150);
      await startChurn('127.0.0.22', 230, 'udp');
      await new Promise((r) => setTimeout(r, 6000));
      await killAllChurn();
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      await tray.stop();
      trayHistory.close();
    }
    assert.equal(await a.kill('SIGINT'), 0);
    assert.equal(await b.kill('SIGINT'), 0);

    const mine = (e: { socket: { localAddress: string } }) => e.socket.localAddress.startsWith('127.0.0.2');
    const all = stored(dir).filter(mine);
    assert.ok(all.length >= 20, `enough churn to mean something (${all.length} events stored)`);
    const perSocket = new Map<string, string[]>();
    for (const e of all) perSocket.set(e.socket.id, [...(perSocket.get(e.socket.id) ?? []), e.type]);
    for (const [id, types] of perSocket) {
      // A socket whose owner one scan missed (born while owners were read) may get an
      // owner-changed when its holder is found; its appearance and disappearance are still one each.
      const lifecycle = types.filter((t) => t !== 'owner-changed');
      assert.deepEqual(lifecycle, ['appeared', 'disappeared'].slice(0, lifecycle.length), `socket ${id}: each event stored once (${types.join(', ')})`);
    }
    // Every event any of the three showed is in the store, with the same seq.
    const bySeq = new Map(all.map((e) => [e.seq, e]));
    const shown: (EventLine | PortEvent)[] = [...a.events(), ...b.events(), ...trayEvents].filter(mine);
    for (const e of shown) {
      assert.ok(e.seq > 0, 'stored before it was shown');
      assert.equal(bySeq.get(e.seq)?.socket.id, e.socket.id, `shown seq ${e.seq} is that event in the store`);
      assert.equal(bySeq.get(e.seq)?.type, e.type);
    }
    const seqsA = new Set(a.events().map((e) => e.seq));
    const both = b.events().filter((e) => seqsA.has(e.seq));
    assert.ok(both.length >= 5, `the watchers followed each other's stored events (${both.length} shown by both with one seq)`);
  });
});

// A listener whose opener forks on "fork\n" and exits, leaving the fork holding it.
const FORKER = `import socket,os,sys,time
l=socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('127.0.0.31',596)); l.listen()
print('ready', flush=True)
sys.stdin.readline()
if os.fork()==0:
    print('forked', os.getpid(), flush=True)
    time.sleep(600)
    os._exit(0)
time.sleep(0.2)
os._exit(0)`;

describe('an owner that changes, seen by two watchers on one data dir', { skip: realSockets }, () => {
  afterEach(async () => {
    await killAllWatchers();
  });

  test('the opener exits and its fork keeps the listener: one owner-changed stored, shown by both with its one seq', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const a = startWatcher(['--interval', '60', '--data-dir', dir]);
    const b = startWatcher(['--interval', '90', '--data-dir', dir]);
    await Promise.all([a.ready(), b.ready()]);
    const opener = spawn('/usr/bin/python3', ['-c', FORKER], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    opener.stdout!.on('data', (c: Buffer) => (out += String(c)));
    let fork = 0;
    try {
      await until('the listener', () => out.includes('ready'));
      const ours = (w: typeof a) => w.events().filter((e) => e.socket.localAddress === '127.0.0.31');
      await until('both watchers to see it', () => ours(a).length > 0 && ours(b).length > 0, 10_000);
      opener.stdin!.write('fork\n');
      await until('the fork', () => /forked (\d+)/.test(out));
      fork = Number(/forked (\d+)/.exec(out)![1]);
      const changed = (w: typeof a) => ours(w).filter((e) => e.type === 'owner-changed');
      await until('both watchers to show the new owner', () => changed(a).length > 0 && changed(b).length > 0, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      const types = stored(dir).filter((e) => e.socket.localAddress === '127.0.0.31').map((e) => e.type);
      assert.deepEqual(types, ['appeared', 'owner-changed'], 'one appeared and one owner-changed stored');
      assert.deepEqual(changed(a).map((e) => e.seq), changed(b).map((e) => e.seq), 'both show the one stored owner-changed');
      assert.equal(changed(a).length, 1);
      assert.equal(changed(a)[0]!.socket.pid, fork);
    } finally {
      opener.kill('SIGKILL');
      if (fork) process.kill(fork, 'SIGKILL');
    }
  });
});

describe('watchers that see owners differently, on one data dir', { skip: realSockets }, () => {
  afterEach(async () => {
    await killAllWatchers();
    await killAllHolders();
  });

  test('a watcher with every capability and one with none (root without capabilities: it sees the socket, not the owner): each event stored once, with the owner', { skip: existsSync('/usr/bin/setpriv') ? false : 'needs setpriv (util-linux)', timeout: 60_000 }, async () => {
    const dir = tempDir();
    const full = startWatcher(['--interval', '60', '--data-dir', dir]);
    // uid 0 with an empty bounding set: its execve grants no capability, so other users' /proc/PID/fd are closed to it.
    const blind = startWatcher(['--interval', '90', '--data-dir', dir], ['/usr/bin/setpriv', '--bounding-set=-all', '--inh-caps=-all', '--']);
    await Promise.all([full.ready(), blind.ready()]);
    const holder = await startHolder({ tcpListen: [['127.0.0.32', 596]], dropTo: 'nobody' });
    const ours = (w: typeof full) => w.events().filter((e) => e.socket.localAddress === '127.0.0.32');
    await until('both watchers to show it', () => ours(full).length > 0 && ours(blind).length > 0, 15_000);
    await holder.kill();
    await until('both watchers to show it gone', () => [full, blind].every((w) => ours(w).some((e) => e.type === 'disappeared')), 15_000);
    assert.match(blind.stderr(), /owners are hidden/, 'the capability-less watcher did not see the owner, and says it is hidden');
    assert.doesNotMatch(blind.stderr(), /held by no process/, 'never "held by no process" for an owner it may not read');
    const rows = stored(dir).filter((e) => e.socket.localAddress === '127.0.0.32');
    assert.deepEqual(rows.map((e) => e.type), ['appeared', 'disappeared'], 'each stored once');
    assert.equal(rows[0]!.socket.pid, holder.pid, 'the stored appearance names the owner (the watcher that saw it)');
    for (const type of ['appeared', 'disappeared']) {
      const seqs = [full, blind].map((w) => ours(w).find((e) => e.type === type)?.seq);
      assert.equal(seqs[0], seqs[1], `both show the one stored ${type}`);
    }
  });
});

describe('reading a store that is not ours to write', { skip: realSockets }, () => {
  test('read-only: as nobody and as root on a read-only mount, history reads and creates, moves, repairs nothing', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const h = History.open({ dataDir: dir, label: 'service' });
    h.record([0, 1, 2].map((i) => ({ type: 'appeared' as const, at: new Date(Date.UTC(2026, 10, 27, 10, i)).toISOString(), flapping: false, socket: socketFor(i) })));
    h.close();
    chmodSync(dir, 0o755);
    chmodSync(join(dir, HISTORY_FILE), 0o644);
    const before = listing(dir);

    const asNobody = cli(['history', '--json', '--data-dir', dir], 65534);
    assert.equal(asNobody.status, 0, asNobody.stderr);
    assert.equal(asNobody.stdout.trim().split('\n').length, 3, 'all three events read by nobody');
    assert.deepEqual(listing(dir), before, 'nothing created, moved or changed');

    const ro = tempDir();
    assert.equal(spawnSync('mount', ['--bind', dir, ro]).status, 0);
    try {
      assert.equal(spawnSync('mount', ['-o', 'remount,ro,bind', ro]).status, 0);
      const asRoot = cli(['history', '--json', '--data-dir', ro]);
      assert.equal(asRoot.status, 0, asRoot.stderr);
      assert.equal(asRoot.stdout.trim().split('\n').length, 3);
      assert.doesNotMatch(asRoot.stderr, /corrupt|damaged|moved/i);
    } finally {
      spawnSync('umount', [ro]);
    }
    assert.deepEqual(listing(dir), before, 'nothing created on the read-only mount either');

    // Unreadable for nobody: a permission message and exit 2, never "corrupt", nothing moved.
    chmodSync(join(dir, HISTORY_FILE), 0o600);
    const denied = cli(['history', '--data-dir', dir], 65534);
    assert.equal(denied.status, 2);
    assert.match(denied.stderr, /Not allowed to read the history/);
    assert.doesNotMatch(denied.stderr, /corrupt|damaged/i);
    assert.deepEqual(readdirSync(dir).sort(), [HISTORY_FILE]);
  });

  test('a store that really is corrupt: history says so (SQLite said it), exit 2, and moves nothing', () => {
    const dir = tempDir();
    const garbage = Buffer.from('SQLite format 3\0'.padEnd(4096, 'x'));
    writeFileSync(join(dir, HISTORY_FILE), garbage);
    const r = cli(['history', '--data-dir', dir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /SQLite reports the history .* damaged .*Nothing was changed/);
    assert.deepEqual(readdirSync(dir), [HISTORY_FILE]);
    assert.deepEqual(readFileSync(join(dir, HISTORY_FILE)), garbage);
  });
});

describe('links and other users', { skip: realSockets }, () => {
  test('history.db as a symlink (to a file, to nothing): watch and history refuse with exit 2; the target is untouched, nothing created', () => {
    const victim = join(tempDir(), 'victim');
    writeFileSync(victim, 'precious');
    const missing = join(tempDir(), 'would-be-created');
    for (const target of [victim, missing]) {
      const dir = tempDir();
      symlinkSync(target, join(dir, HISTORY_FILE));
      for (const args of [['watch'], ['history']]) {
        const r = cli([...args, '--data-dir', dir]);
        assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /is a symbolic link, and Ghostport never follows links/);
      }
      assert.deepEqual(readdirSync(dir), [HISTORY_FILE]);
    }
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.equal(existsSync(missing), false);
  });

  test('as root: a data dir of another user, one others can write, or a store file of another user is refused', () => {
    const foreign = tempDir();
    chownSync(foreign, 65534, 65534);
    const open = tempDir();
    chmodSync(open, 0o777);
    const foreignFile = tempDir();
    writeFileSync(join(foreignFile, HISTORY_FILE), '');
    chownSync(join(foreignFile, HISTORY_FILE), 65534, 65534);
    for (const [dir, says] of [
      [foreign, /belongs to uid 65534/],
      [open, /others can write to it/],
      [foreignFile, /belongs to uid 65534/],
    ] as const) {
      const r = cli(['watch', '--data-dir', dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, says);
    }
    assert.deepEqual(readdirSync(foreign), [], 'nothing created in the refused directory');
  });
});

describe('restarts that tell the truth', { skip: realSockets }, () => {
  after(killAllHolders);
  afterEach(killAllWatchers);

  test('what went while nobody watched gets a disappeared with its last-seen time; what stayed is not announced again; the gap shows', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const stays = await startHolder({ tcpListen: [['127.0.0.31', 596]] });
    const goes = await startHolder({ udpBind: [['127.0.0.32', 596]] });
    const first = startWatcher(['--interval', '80', '--data-dir', dir]);
    await first.ready();
    await until('both seen', () => [stays.pid, goes.pid].every((pid) => first.events().some((e) => e.socket.pid === pid)));
    assert.equal(await first.kill('SIGINT'), 0);
    const stoppedAt = Date.now();

    await goes.kill();
    const comes = await startHolder({ tcpListen: [['127.0.0.33', 596]] });
    await new Promise((r) => setTimeout(r, 300));

    const second = startWatcher(['--interval', '80', '--data-dir', dir]);
    await second.ready();
    await until('the newcomer', () => second.events().some((e) => e.socket.pid === comes.pid));
    await new Promise((r) => setTimeout(r, 500));
    const events = second.events() as (EventLine & { unwatched?: { lastSeenAt: string } })[];
    assert.deepEqual(events.filter((e) => e.socket.pid === stays.pid), [], 'the listener present across the restart is not announced again');
    const gone = events.filter((e) => e.socket.pid === goes.pid);
    assert.deepEqual(gone.map((e) => e.type), ['disappeared']);
    const lastSeen = Date.parse(gone[0]!.unwatched?.lastSeenAt ?? '');
    assert.ok(Math.abs(lastSeen - stoppedAt) < 2000, `last seen when the first watcher stopped (${gone[0]!.unwatched?.lastSeenAt})`);
    assert.deepEqual(events.filter((e) => e.socket.pid === comes.pid).map((e) => e.type), ['appeared']);
    // Killed, not stopped: the coverage line says so.
    await second.kill('SIGKILL');

    const listed = cli(['history', '--data-dir', dir]);
    assert.equal(listed.status, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n');
    const marks = lines.filter((l) => l.includes(' = watching'));
    assert.deepEqual(marks.map((l) => l.replace(/^\S+\s+= /, '').replace(/ \(.*?\)/, '')), ['watching started', 'watching stopped', 'watching started']);
    assert.ok(lines.some((l) => l.includes('went while Ghostport was not watching; last seen')));
    const third = startWatcher(['--interval', '80', '--data-dir', dir]);
    await third.ready();
    await third.kill('SIGINT');
    const again = cli(['history', '--data-dir', dir]).stdout;
    assert.match(again, /watching stopped \(watch pid \d+\): not cleanly, this is its last sign of life/, 'the killed watcher shows as an unclean stop');
    await stays.kill();
    await comes.kill();
  });
});

function socketFor(i: number): PortEvent['socket'] {
  return {
    id: `ro-${i}`,
    protocol: 'tcp',
    family: 4,
    localAddress: `127.0.0.${40 + i}`,
    localPort: 596,
    remoteAddress: null,
    remotePort: null,
    state: 'LISTEN',
    pid: 5000 + i,
    process: null,
    watchedPort: 596,
    side: 'local',
    firstSeenAt: '2026-11-27T10:00:00.000Z',
  };
}

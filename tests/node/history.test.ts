/**
 * The SQLite history on real files: persistence across restarts, queries, retention, a corrupt
 * store moved aside, a full disk degrading to memory, and no announced event lost to SIGKILL.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { History, HISTORY_FILE } from '#node/history.ts';
import type { PortEvent, PortSocket } from '#common/model.ts';
import { killAllHolders, startHolder } from '../support/port-holder.ts';
import { makeProcess, makeSocket } from '../common/desktop-fixtures.ts';
import { LATE_REASON, type LateEvidence } from '#common/late-evidence.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ghostport-history-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function socket(n: number, extra: Partial<PortSocket> = {}): PortSocket {
  const owner = makeProcess({ pid: n, name: n % 2 ? 'nc' : 'python3', path: n % 2 ? '/usr/bin/nc' : '/usr/bin/python3', command: `cmd-${n} --flag`, user: 'root', parentPid: 1, startedAt: '2026-11-27T10:00:00.000Z' });
  return makeSocket({ id: `tcp|4|127.0.0.1|596|*|*|${n}|t|${n}`, localAddress: '127.0.0.1', pid: n, process: owner, inode: n, firstSeenAt: '2026-11-27T10:00:00.000Z', ...extra });
}

function event(n: number, at: string, type: PortEvent['type'] = 'appeared', extra: Partial<PortSocket> = {}): Omit<PortEvent, 'seq'> {
  return { type, at, socket: socket(n, extra), flapping: false };
}

describe('history', () => {
  test('events survive a restart, with the process details captured at detection', () => {
    const dir = tempDir();
    const h1 = History.open({ dataDir: dir });
    const recorded = h1.record([event(1, '2026-11-27T10:00:00.000Z'), event(1, '2026-11-27T10:00:05.000Z', 'disappeared')]);
    assert.deepEqual(recorded.map((e) => e.seq), [1, 2]);
    h1.close();
    const h2 = History.open({ dataDir: dir });
    const page = h2.query({ order: 'asc' });
    assert.equal(page.total, 2);
    assert.deepEqual(page.events.map((e) => e.type), ['appeared', 'disappeared']);
    assert.equal(page.events[0]!.socket.process?.command, 'cmd-1 --flag');
    assert.equal(h2.issues.length, 0);
    h2.close();
  });

  test('queries by time range, port, protocol, type, process and text; pages and totals', () => {
    const h = History.open({ dataDir: null });
    h.record([
      event(1, '2026-11-27T10:00:00.000Z'),
      event(2, '2026-11-27T11:00:00.000Z'),
      event(3, '2026-11-27T12:00:00.000Z', 'appeared', { protocol: 'udp', state: 'UNCONN' }),
      event(4, '2026-11-27T13:00:00.000Z', 'appeared', { watchedPort: 8080, localPort: 8080 }),
      event(1, '2026-11-27T14:00:00.000Z', 'disappeared'),
    ]);
    assert.equal(h.query({ since: '2026-11-27T11:00:00Z', until: '2026-11-27T13:00:00Z' }).total, 2);
    assert.equal(h.query({ ports: [8080] }).total, 1);
    assert.equal(h.query({ protocols: ['udp'] }).total, 1);
    assert.equal(h.query({ types: ['disappeared'] }).total, 1);
    assert.equal(h.query({ process: 'nc' }).total, 3);
    assert.equal(h.query({ process: '/usr/bin/python3' }).total, 2);
    assert.equal(h.query({ process: '3' }).total, 1);
    assert.equal(h.query({ text: 'CMD-2' }).total, 1);
    assert.equal(h.query({ text: '100%_' }).total, 0, 'LIKE wildcards in the search text are literal');
    const page = h.query({ limit: 2, offset: 1 });
    assert.equal(page.total, 5);
    assert.deepEqual(page.events.map((e) => e.seq), [4, 3], 'newest first by default');
    assert.deepEqual([...h.iterate({ since: '2026-11-27T12:00:00Z' })].map((e) => e.seq), [3, 4, 5]);
    const buckets = h.timeline({ since: '2026-11-27T10:00:00Z', until: '2026-11-27T15:00:00Z', buckets: 5 });
    assert.deepEqual(buckets.map((b) => [b.appeared, b.disappeared]), [[1, 0], [1, 0], [1, 0], [1, 0], [0, 1]]);
    h.close();
  });

  test('retention by age and by count, sparing events a recent query returned', () => {
    const h = History.open({ dataDir: null });
    const now = Date.parse('2026-11-27T12:00:00Z');
    h.record([
      event(1, '2026-01-01T00:00:00.000Z'),
      ...Array.from({ length: 9 }, (_, i) => event(i + 2, new Date(now - (9 - i) * 1000).toISOString())),
    ]);
    assert.equal(h.prune({ maxAgeDays: 30, maxEvents: 1000 }, now), 1, 'the January event is past 30 days');
    assert.equal(h.prune({ maxAgeDays: 30, maxEvents: 5 }, now), 4);
    assert.equal(h.query({ limit: 1 }).total, 5);
    // The user is looking at the oldest remaining event: retention leaves it alone.
    const shown = h.query({ order: 'asc', limit: 1 });
    assert.equal(shown.events[0]!.seq, 6);
    h.record([event(20, new Date(now).toISOString())]);
    assert.equal(h.prune({ maxAgeDays: 30, maxEvents: 2 }, now), 0);
    assert.equal(h.query({ limit: 1 }).total, 6);
    h.close();
  });

  test('a corrupt store is moved aside (not deleted), reported, and a fresh one started', () => {
    const dir = tempDir();
    const garbage = Buffer.from('this is not a database '.repeat(200));
    writeFileSync(join(dir, HISTORY_FILE), garbage);
    const h = History.open({ dataDir: dir });
    assert.equal(h.issues.length, 1);
    assert.equal(h.issues[0]!.code, 'history-recovered');
    assert.match(h.issues[0]!.message, /moved to .*history\.db\.corrupt-/);
    const aside = readdirSync(dir).find((f) => f.startsWith(`${HISTORY_FILE}.corrupt-`));
    assert.ok(aside);
    assert.deepEqual(readFileSync(join(dir, aside)), garbage, 'the old file is kept byte for byte');
    assert.equal(h.record([event(1, '2026-11-27T10:00:00.000Z')]).length, 1);
    assert.ok(h.path?.endsWith(HISTORY_FILE));
    h.close();
  });

  test('a truncated store is recovered the same way', () => {
    const dir = tempDir();
    const h1 = History.open({ dataDir: dir });
    h1.record(Array.from({ length: 500 }, (_, i) => event(i, '2026-11-27T10:00:00.000Z')));
    h1.close();
    const file = join(dir, HISTORY_FILE);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 3)));
    const h2 = History.open({ dataDir: dir });
    assert.equal(h2.issues[0]?.code, 'history-recovered');
    h2.close();
  });

  test('a full disk keeps events waiting in memory, says so, and writes them once there is room again', { skip: process.getuid?.() === 0 ? false : 'needs root to mount a tmpfs' }, (t) => {
    const mountPoint = tempDir();
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
    if (mount.status !== 0) return t.skip(`cannot mount a tmpfs here: ${String(mount.stderr).trim()}`);
    try {
      const dir = join(mountPoint, 'data');
      const h = History.open({ dataDir: dir });
      assert.equal(h.issues.length, 0);
      const big = 'x'.repeat(20_000);
      const bigEvent = (i: number) => event(i, '2026-11-27T10:00:00.000Z', 'appeared', { id: `big-${i}`, process: { pid: i, name: 'big', path: null, command: big, user: null, parentPid: null, startedAt: null } });
      let last: PortEvent[] = [];
      for (let i = 0; i < 40; i++) last = h.record([bigEvent(i)]);
      assert.equal(last.length, 1, 'the write that hit the full disk still returned its event');
      assert.equal(last[0]!.seq, 0, 'not stored yet');
      const issue = h.issues.at(-1);
      assert.equal(issue?.code, 'history-unavailable');
      assert.match(issue?.message ?? '', /disk holding the history .* is full/);
      assert.ok(h.pendingCount > 0);
      assert.equal(issue?.pending, h.pendingCount, 'the count is a field, not in the text');
      assert.ok(h.path?.endsWith(HISTORY_FILE), 'still the file, no switch to a memory store');
      assert.equal(spawnSync('mount', ['-o', 'remount,size=4m', mountPoint]).status, 0);
      assert.equal(h.flush(), true, 'writable again');
      assert.deepEqual(h.issues, [], 'the warning ends by itself');
      assert.equal(h.query({ limit: 1 }).total, 40, 'every event stored, none lost');
      assert.match(h.takeLog().join('\n'), /writable again: \d+ waiting events were stored/);
      h.close();
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  });
});

describe('history shared by several writers (issue 15)', () => {
  test('an event is stored once, whoever records it; a writer started later gets it back only if it was stored during its watch', () => {
    const dir = tempDir();
    const a = History.open({ dataDir: dir, label: 'a' });
    const before = a.record([event(1, '2026-11-27T10:00:00.000Z')]);
    const b = History.open({ dataDir: dir, label: 'b' });
    assert.deepEqual(b.record([event(1, '2026-11-27T10:00:00.100Z')]), [], 'stored before b started: old news, not announced again');
    const appeared = b.record([event(2, '2026-11-27T10:00:01.000Z')]);
    assert.deepEqual(a.record([event(2, '2026-11-27T10:00:01.050Z')]).map((e) => e.seq), appeared.map((e) => e.seq), 'a follows b: same stored event');
    const gone = a.record([event(2, '2026-11-27T10:00:02.000Z', 'disappeared')]);
    assert.deepEqual(b.record([event(2, '2026-11-27T10:00:02.100Z', 'disappeared')]).map((e) => e.seq), gone.map((e) => e.seq));
    assert.deepEqual(b.record([event(2, '2026-11-27T10:00:02.200Z')]), [], 'a late sighting of a closed kernel socket is not a new appearance');
    assert.equal(a.query({ limit: 1 }).total, 3);
    assert.equal(before[0]!.seq, 1);
    a.close();
    b.close();
  });

  test('one socket seen differently (without its owner, by its new owner after a change) is one socket: stored once, the owner added, one owner-changed, still open', () => {
    const dir = tempDir();
    const a = History.open({ dataDir: dir, label: 'a' });
    const b = History.open({ dataDir: dir, label: 'b' });
    const owner = socket(7);
    const hidden = socket(7, { id: 'tcp|4|127.0.0.1|596|*|*|-|-|7', pid: null, process: null });
    const [first] = b.record([{ type: 'appeared', at: '2026-11-27T10:00:00.000Z', socket: hidden, flapping: false }]);
    const [again] = a.record([{ type: 'appeared', at: '2026-11-27T10:00:00.050Z', socket: owner, flapping: false }]);
    assert.equal(again!.seq, first!.seq, 'one appearance');
    assert.equal(again!.socket.pid, 7, 'with the owner the better-placed watcher saw');
    assert.equal(b.query().events[0]!.socket.process?.command, 'cmd-7 --flag', 'stored with it');
    const fork = { ...owner.process!, pid: 8, startedAt: '2026-11-27T10:00:01.000Z' };
    const change = (s: PortSocket) => ({ type: 'owner-changed' as const, at: '2026-11-27T10:00:02.000Z', socket: { ...s, pid: 8, process: fork }, previous: owner.process, flapping: false });
    const [changedA] = a.record([change(owner)]);
    assert.deepEqual(b.record([change(hidden)]).map((e) => e.seq), [changedA!.seq], 'one owner-changed, whoever saw it');
    a.close();
    b.close();
    const c = History.open({ dataDir: dir, label: 'c' });
    const now = socket(7, { id: 'tcp|4|127.0.0.1|596|*|*|8|t|7', pid: 8, process: fork });
    assert.deepEqual(c.record([{ type: 'appeared', at: '2026-11-27T10:00:05.000Z', socket: now, flapping: false }]), [], 'named by its new owner after a restart: still the same open socket, not announced again');
    assert.deepEqual(c.reconcile([now], [596]), [], 'and not closed by the restart');
    assert.deepEqual([...c.iterate()].map((e) => e.type), ['appeared', 'owner-changed']);
    c.close();
  });

  test('a store keyed by the full identity is keyed again by the kernel socket: one socket open under two keys is open once', () => {
    const dir = tempDir();
    const h = History.open({ dataDir: dir });
    h.record([event(9, '2026-11-27T10:00:00.000Z')]);
    h.close();
    // As an older version left it: a second watcher without privileges stored the same socket under its own identity.
    const db = new DatabaseSync(join(dir, HISTORY_FILE));
    const hidden = { type: 'appeared', at: '2026-11-27T10:00:00.100Z', socket: socket(9, { id: 'tcp|4|127.0.0.1|596|*|*|-|-|9', pid: null, process: null }), flapping: false };
    db.prepare("INSERT INTO events (at_ms, type, watched_port, protocol, flapping, search, event_json, socket_id) VALUES (0, 'appeared', 596, 'tcp', 0, '', ?, ?)").run(JSON.stringify(hidden), hidden.socket.id);
    db.prepare('INSERT INTO open_sockets (socket_id, seq, event_json) VALUES (?, 2, ?)').run(hidden.socket.id, JSON.stringify(hidden));
    db.exec("UPDATE events SET socket_id = json_extract(event_json, '$.socket.id'); UPDATE open_sockets SET socket_id = json_extract(event_json, '$.socket.id'); DELETE FROM meta WHERE key = 'history_key'");
    db.close();
    const again = History.open({ dataDir: dir });
    const gone = again.record([event(9, '2026-11-27T10:00:03.000Z', 'disappeared')]);
    assert.equal(gone.length, 1);
    assert.deepEqual(again.record([{ ...hidden, type: 'disappeared', at: '2026-11-27T10:00:03.100Z' } as Omit<PortEvent, 'seq'>]).map((e) => e.seq), [gone[0]!.seq], 'closed once, by either name');
    assert.deepEqual(again.reconcile([], [596]), [], 'nothing left open');
    again.close();
  });

  test('events waiting on a lock: bounded (the oldest dropped, counted in a field, the text of the warning unchanged), listed by the queries of this writer with seq 0, written in order', () => {
    const dir = tempDir();
    const h = History.open({ dataDir: dir, busyTimeoutMs: 20, maxPending: 3 });
    const other = new DatabaseSync(join(dir, HISTORY_FILE), { timeout: 1000 });
    try {
      h.record([event(1, '2026-11-27T10:00:00.000Z')]);
      other.exec('BEGIN EXCLUSIVE');
      const text = () => h.issues.map((i) => `${i.message} ${i.hint}`).join('\n');
      h.record([event(2, '2026-11-27T10:00:01.000Z')]);
      const first = text();
      for (let i = 3; i <= 7; i++) assert.equal(h.record([event(i, `2026-11-27T10:00:0${i}.000Z`)])[0]!.seq, 0);
      assert.equal(h.pendingCount, 3);
      assert.equal(h.issues[0]?.code, 'history-busy');
      assert.equal(text(), first, 'the warning reads the same while events pile up (a terminal prints it once)');
      assert.doesNotMatch(first, /\d+ events?/, 'no count in the text');
      assert.deepEqual([h.issues[0]?.pending, h.issues[0]?.dropped], [3, 3], 'the counts are fields');
      // Waiting events are in this writer's own queries, as the newest, with seq 0.
      const page = h.query({ limit: 3 });
      assert.equal(page.total, 4, '1 stored + 3 waiting');
      assert.equal(page.waiting, 3);
      assert.deepEqual(page.events.map((e) => [e.seq, e.socket.pid]), [[0, 7], [0, 6], [0, 5]]);
      assert.deepEqual(h.query({ limit: 3, offset: 2 }).events.map((e) => [e.seq, e.socket.pid]), [[0, 5], [1, 1]], 'a page straddling both');
      assert.deepEqual(h.query({ order: 'asc' }).events.map((e) => e.seq), [1, 0, 0, 0]);
      assert.deepEqual([...h.iterate()].map((e) => e.socket.pid), [1, 5, 6, 7]);
      assert.deepEqual(h.query({ process: '6' }).events.map((e) => e.socket.pid), [6], 'filters apply to waiting events too');
      const bucket = h.timeline({ since: '2026-11-27T10:00:00.000Z', until: '2026-11-27T10:00:10.000Z', buckets: 1 })[0]!;
      assert.equal(bucket.appeared, 4);
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    assert.equal(h.flush(), true);
    assert.deepEqual([...h.iterate()].map((e) => [e.seq, e.socket.pid]), [[1, 1], [2, 5], [3, 6], [4, 7]]);
    assert.match(h.takeLog().join('\n'), /3 waiting events were stored \(3 were dropped while waiting\)/);
    h.close();
  });

  test('reconcile: the first writer closes what the history holds open but the first scan lacks, with the last-seen time; a second writer does not', async () => {
    const dir = tempDir();
    const first = History.open({ dataDir: dir });
    first.record([event(1, '2026-11-27T10:00:00.000Z'), event(2, '2026-11-27T10:00:00.000Z'), event(3, '2026-11-27T10:00:00.000Z', 'appeared', { watchedPort: 8080, localPort: 8080 })]);
    first.close();
    const closedAt = Date.now();
    await new Promise((r) => setTimeout(r, 200));
    const restarted = History.open({ dataDir: dir });
    const other = History.open({ dataDir: dir });
    assert.deepEqual(other.reconcile([], [596]), [], 'another writer alive: it has been watching, nothing to reconcile');
    const closed = restarted.reconcile([socket(1)], [596]);
    assert.deepEqual(closed.map((e) => [e.type, e.socket.id]), [['disappeared', socket(2).id]], 'only the gone one, only on watched ports');
    assert.ok(Math.abs(Date.parse(closed[0]!.unwatched!.lastSeenAt) - closedAt) < 100, 'last seen when the previous writer stopped');
    assert.deepEqual(restarted.reconcile([], [596]), [], 'once');
    assert.deepEqual(restarted.record([event(1, '2026-11-27T10:05:00.000Z')]), [], 'still present: not announced again');
    other.close();
    restarted.close();
  });

  test('coverage: watching started and stopped are listed with the events, and the gap shows in the timeline', async () => {
    const dir = tempDir();
    const start = new Date(Date.now() - 1000).toISOString();
    const a = History.open({ dataDir: dir, label: 'tray' });
    a.close();
    await new Promise((r) => setTimeout(r, 400));
    const b = History.open({ dataDir: dir, label: 'watch' });
    b.record([event(1, new Date().toISOString())]);
    const kinds = [...b.entries({})].map((e) => (e.kind === 'event' ? e.event.type : `${e.mark.type} ${e.mark.label}`));
    assert.deepEqual(kinds, ['watching-started tray', 'watching-stopped tray', 'watching-started watch', 'appeared']);
    const buckets = b.timeline({ since: start, until: new Date(Date.now() + 1000).toISOString(), buckets: 1 });
    assert.ok(buckets[0]!.unwatchedMs! >= 350 && buckets[0]!.unwatchedMs! < 1500, `the gap between the two sessions (${buckets[0]!.unwatchedMs} ms)`);
    b.close();
  });
});

describe('history under SIGKILL', { skip: process.platform === 'linux' && process.getuid?.() === 0 ? false : 'needs Linux and root (binds port 596)' }, () => {
  after(killAllHolders);

  test('an event announced by `ghostport watch` survives SIGKILL of the watcher right after', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const watcher = spawn(process.execPath, ['electron/node/cli/ghostport.mjs', 'watch', '--json', '--interval', '250', '--data-dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        watcher.stderr!.on('data', (c: Buffer) => (String(c).includes('watching') ? resolve() : undefined));
        watcher.once('exit', () => reject(new Error('watch exited early')));
      });
      const holder = await startHolder({ tcpListen: [['127.0.0.1', 596]], extraArgs: ['sigkill-marker'] });
      const line = await new Promise<string>((resolve) => {
        watcher.stdout!.on('data', (c: Buffer) => {
          out += String(c);
          const hit = out.split('\n').find((l) => l.includes(`"pid":${holder.pid}`));
          if (hit) resolve(hit);
        });
      });
      // Announced: kill both the watcher and the process it saw, at once.
      watcher.kill('SIGKILL');
      await holder.kill();
      const announced = JSON.parse(line) as { seq: number; type: string };
      const h = History.open({ dataDir: dir });
      const stored = h.query({ order: 'asc' }).events.find((e) => e.seq === announced.seq);
      assert.ok(stored, 'the announced event is in the history');
      assert.equal(stored.type, 'appeared');
      assert.match(stored.socket.process?.command ?? '', /sigkill-marker/);
      h.close();
    } finally {
      watcher.kill('SIGKILL');
    }
  });
});

test('late evidence completes the recorded events in place, the stored ones and those waiting on a lock, and the open copy that answers other writers', () => {
  const dir = tempDir();
  const h = History.open({ dataDir: dir, busyTimeoutMs: 20 });
  const second = History.open({ dataDir: dir, label: 'second' });
  const other = new DatabaseSync(join(dir, HISTORY_FILE), { timeout: 1000 });
  const computing = `${LATE_REASON} (over 30 ms); the history fills it in when it finishes`;
  const lateSocket = (n: number) => {
    const s = socket(n);
    return { ...s, process: { ...s.process!, exeSha256: null, reasons: { exeSha256: computing } } };
  };
  const late = (pid: number): LateEvidence => ({ pid, startedAt: '2026-11-27T10:00:00.000Z', at: '2026-11-27T10:00:02.000Z', values: { exeSha256: 'ab'.repeat(32) }, reasons: {} });
  try {
    const [stored] = h.record([{ type: 'appeared', at: '2026-11-27T10:00:00.000Z', socket: lateSocket(1), flapping: false }]);
    other.exec('BEGIN EXCLUSIVE');
    assert.equal(h.record([{ type: 'appeared', at: '2026-11-27T10:00:01.000Z', socket: lateSocket(2), flapping: false }])[0]!.seq, 0, 'waiting on the lock');
    assert.deepEqual(h.completeEvidence(late(2)).map((e) => [e.seq, e.socket.process?.exeSha256]), [[0, 'ab'.repeat(32)]], 'the waiting one, seq 0');
    assert.equal(h.completeEvidence(late(1)).length, 0, 'the stored one is locked: kept for when the store takes writes again');
    other.exec('COMMIT');
    assert.ok(h.flush());
    assert.equal(h.completeEvidence(late(1)).length, 0, 'completed by the flush, once');
    assert.equal(h.completeEvidence({ ...late(1), startedAt: '2026-11-27T11:00:00.000Z' }).length, 0, 'not another process with the same pid');
    const events = h.query({ order: 'asc' }).events;
    assert.deepEqual(events.map((e) => [e.socket.pid, e.socket.process?.exeSha256, e.socket.process?.reasons?.exeSha256]), [[1, 'ab'.repeat(32), undefined], [2, 'ab'.repeat(32), undefined]]);
    assert.equal(events[0]!.seq, stored!.seq, 'same seq');
    // Another writer repeating the appearance gets the completed event back, and stores nothing new.
    const [repeat] = second.record([{ type: 'appeared', at: '2026-11-27T10:00:03.000Z', socket: lateSocket(1), flapping: false }]);
    assert.equal(repeat?.seq, stored!.seq);
    assert.equal(repeat?.socket.process?.exeSha256, 'ab'.repeat(32));
    assert.equal(second.query({}).total, 2);
  } finally {
    other.close();
    second.close();
    h.close();
  }
});

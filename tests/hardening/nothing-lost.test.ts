/**
 * Nothing lost: `ghostport watch` killed with SIGKILL at random moments while real events flow;
 * a history locked by another process; a full disk (tiny tmpfs) and a file-size limit; and a
 * slow reader of the CLI's output. Every event that was announced is in the history, the watch
 * loop survives every storage fault, and sequence numbers are never reused.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { History, HISTORY_FILE } from '#node/history.ts';
import type { PortEvent } from '#common/model.ts';
import { killAllChurn, startChurn } from '../support/churn.ts';
import { scratchDirs, until } from '../support/scratch.ts';
import { BIN, killAllWatchers, startWatcher, type EventLine, type Watcher } from '../support/watcher.ts';

const linuxRoot = process.platform === 'linux' && process.getuid?.() === 0;
const realSockets = linuxRoot ? false : 'needs Linux and root (binds port 596)';

const tempDir = scratchDirs('ghostport-lost-');

/** A small deterministic generator, so a failing round can be replayed from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Every printed event, found in the stored history: by seq, or (printed while the store could
 * not take writes, seq 0) by type, time and socket.
 */
function assertAllStored(dir: string, printed: readonly EventLine[]): void {
  const h = History.open({ dataDir: dir });
  try {
    assert.deepEqual(h.issues, [], 'the store survived intact (no recovery needed)');
    const all = [...h.iterate({})];
    const stored = new Map<number, PortEvent>(all.map((e) => [e.seq, e]));
    const byContent = new Set(all.map((e) => `${e.type}|${e.at}|${e.socket.id}`));
    for (const e of printed) {
      if (e.seq === 0) {
        assert.ok(byContent.has(`${e.type}|${e.at}|${e.socket.id}`), `event printed while waiting (${e.type} ${e.socket.id}) was stored later`);
        continue;
      }
      const s = stored.get(e.seq);
      assert.ok(s, `announced event seq ${e.seq} is in the history`);
      assert.equal(s.type, e.type);
      assert.equal(s.at, e.at);
      assert.equal(s.socket.id, e.socket.id);
    }
  } finally {
    h.close();
  }
}

describe('SIGKILL of ghostport watch while events flow', { skip: realSockets }, () => {
  afterEach(async () => {
    await killAllWatchers();
    await killAllChurn();
  });

  test('six kills at random moments: every announced event is in the history', { timeout: 180_000 }, async () => {
    const seed = Number(process.env.GHOSTPORT_KILL_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    const dir = tempDir();
    await startChurn('127.0.0.8', 40);
    await startChurn('127.0.0.9', 70, 'udp');
    let total = 0;
    const allSeqs: number[] = [];
    for (let round = 0; round < 6; round++) {
      const watcher = startWatcher(['--interval', '30', '--data-dir', dir]);
      await watcher.ready();
      await until('first event', () => watcher.events().length > 0);
      await new Promise((r) => setTimeout(r, 100 + Math.floor(rand() * 1400)));
      await watcher.kill('SIGKILL');
      const printed = watcher.events();
      total += printed.length;
      allSeqs.push(...printed.map((e) => e.seq));
      assertAllStored(dir, printed);
    }
    // A restart does not announce again what is still on the port (issue 15), so fewer lines than a re-announcing watcher.
    assert.ok(total >= 20, `enough events flowed to mean something (${total}, seed ${seed})`);
    assert.equal(new Set(allSeqs).size, allSeqs.length, 'no sequence number was ever handed out twice');
  });
});

/** A child holding history.db's write lock (BEGIN EXCLUSIVE, waiting for a writer mid-transaction) until killed. */
async function holdLock(file: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-e', `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(${JSON.stringify(file)}, { timeout: 10000 }); db.exec('BEGIN EXCLUSIVE'); process.stdout.write('locked\\n'); setInterval(() => {}, 1 << 30);`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

async function release(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

function seedHistory(dir: string, n: number): void {
  const h = History.open({ dataDir: dir });
  h.record(
    Array.from({ length: n }, (_, i) => ({
      type: 'appeared' as const,
      at: new Date(Date.UTC(2026, 10, 27, 10, 0, i)).toISOString(),
      flapping: false,
      socket: {
        id: `seed-${i}`,
        protocol: 'tcp' as const,
        family: 4 as const,
        localAddress: '127.0.0.1',
        localPort: 596,
        remoteAddress: null,
        remotePort: null,
        state: 'LISTEN',
        pid: 1000 + i,
        process: null,
        watchedPort: 596,
        side: 'local' as const,
        firstSeenAt: '2026-11-27T10:00:00.000Z',
      },
    })),
  );
  h.close();
}

describe('a history locked by another process', () => {
  const holders: ChildProcess[] = [];
  afterEach(async () => {
    await killAllWatchers();
    await killAllChurn();
    await Promise.all(holders.map(release));
  });

  test('at open, beyond the busy timeout: nothing is moved, events wait in memory and are written when the lock clears', async () => {
    const dir = tempDir();
    seedHistory(dir, 3);
    holders.push(await holdLock(join(dir, HISTORY_FILE)));
    const h = History.open({ dataDir: dir, busyTimeoutMs: 300 });
    try {
      assert.equal(h.issues[0]?.code, 'history-busy');
      assert.match(h.issues[0]?.message ?? '', /locked by another process \(database is locked\)/);
      assert.equal(h.issues[0]?.pending, 0);
      assert.deepEqual(h.record([{ ...sampleEvent(), at: new Date().toISOString() }]).map((e) => e.seq), [0], 'shown, not yet stored');
      assert.equal(h.issues[0]?.pending, 1);
      assert.equal(h.flush(), false, 'still locked');
      await release(holders.pop()!);
      assert.equal(h.flush(), true);
      assert.deepEqual(h.issues, []);
      assert.equal(h.query({ limit: 1 }).total, 4, 'the 3 old events and the one that waited');
    } finally {
      h.close();
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('corrupt')), [], 'a locked store is not corrupt: nothing moved aside');
  });

  test('while running: the events wait in memory (counted), then are written in order; seq is never reused', async () => {
    const dir = tempDir();
    seedHistory(dir, 5);
    const h = History.open({ dataDir: dir, busyTimeoutMs: 300 });
    try {
      const first = h.record([sampleEvent()]);
      assert.equal(first[0]!.seq, 6);
      holders.push(await holdLock(join(dir, HISTORY_FILE)));
      const waiting = [sampleEvent(), sampleEvent()];
      assert.deepEqual(h.record(waiting).map((e) => e.seq), [0, 0]);
      assert.equal(h.pendingCount, 2);
      assert.equal(h.issues.at(-1)?.code, 'history-busy');
      assert.equal(h.issues.at(-1)?.pending, 2);
      assert.ok(h.path?.endsWith(HISTORY_FILE), 'no switch to a memory store');
      await release(holders.pop()!);
      await until('the retry to write them', () => h.pendingCount === 0, 10_000);
      assert.deepEqual(h.query({ order: 'asc' }).events.slice(-2).map((e) => [e.seq, e.socket.id]), waiting.map((e, i) => [7 + i, e.socket.id]));
      assert.deepEqual(h.issues, [], 'the warning ended by itself');
    } finally {
      h.close();
    }
  });

  test('ghostport watch on a store locked for 5 s while sockets come and go: all shown, all stored once the lock clears', { skip: realSockets, timeout: 60_000 }, async () => {
    const dir = tempDir();
    seedHistory(dir, 2);
    const watcher = startWatcher(['--interval', '40', '--data-dir', dir]);
    await watcher.ready();
    holders.push(await holdLock(join(dir, HISTORY_FILE)));
    await startChurn('127.0.0.10', 60);
    await until('the lock to be noticed', () => /locked by another process/.test(watcher.stderr()));
    await new Promise((r) => setTimeout(r, 5000));
    const duringLock = watcher.events().filter((e) => e.seq === 0).length;
    assert.ok(duringLock >= 4, `events were shown while locked (${duringLock})`);
    // Warned once while the events piled up: the count is a field of the health line, not in the text.
    assert.equal(watcher.stderr().match(/locked by another process/g)?.length, 1, `one warning:\n${watcher.stderr()}`);
    assert.equal(comesUp(watcher, 'history-busy'), 1, 'the lock came up once in the health lines');
    assert.equal(typeof watcher.health().at(-1)!.issues.find((i) => i.code === 'history-busy')?.pending, 'number', 'with the count as a field');
    await release(holders.pop()!);
    await until('the store to take them', () => /writable again: \d+ waiting events were stored/.test(watcher.stderr()), 10_000);
    await killAllChurn();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await watcher.kill('SIGINT'), 0);
    assert.doesNotMatch(watcher.stderr(), /free disk|corrupt|moved to/i, 'a lock is not a full disk, nor corruption');
    assertAllStored(dir, watcher.events());
  });
});

/** How many times an issue came up in the watcher's health lines (absent in one, present in the next). */
function comesUp(watcher: Watcher, code: string): number {
  const present = watcher.health().map((h) => h.issues.some((i) => i.code === code));
  return present.filter((p, i) => p && !present[i - 1]).length;
}

function sampleEvent(): Omit<PortEvent, 'seq'> {
  return {
    type: 'appeared',
    at: new Date().toISOString(),
    flapping: false,
    socket: {
      id: `s-${Math.random()}`,
      protocol: 'udp',
      family: 4,
      localAddress: '0.0.0.0',
      localPort: 596,
      remoteAddress: null,
      remotePort: null,
      state: 'UNCONN',
      pid: 4242,
      process: null,
      watchedPort: 596,
      side: 'local',
      firstSeenAt: new Date().toISOString(),
    },
  };
}

/** Fills the file system holding `dir` until it is full; returns the filler's path. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  // Crumbs: the last partial chunk.
  try {
    const small = openSync(join(dir, 'crumbs'), 'w');
    try {
      for (;;) writeSync(small, Buffer.alloc(512, 1));
    } catch {
      // Full.
    } finally {
      closeSync(small);
    }
  } catch {
    // Not even an inode left.
  }
  return filler;
}

async function expectWatchSurvivesStorageFault(watcher: Watcher, fault: () => void, says: RegExp): Promise<void> {
  await watcher.ready();
  await until('events before the fault', () => watcher.events().length >= 4);
  const before = watcher.events();
  fault();
  await until('the warning', () => says.test(watcher.stderr()));
  const atWarning = watcher.events().length;
  await until('events after the warning', () => watcher.events().length >= atWarning + 6);
  assert.equal(watcher.child.exitCode, null, 'still running');
  assert.match(watcher.stderr(), /new events wait in memory until it can be written/);
  assert.doesNotMatch(watcher.stderr(), /locked|corrupt/);
  const seqs = watcher.events().map((e) => e.seq).filter((s) => s > 0);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `stored sequence numbers keep increasing: ${seqs.join(',')}`);
  assert.ok(watcher.events().some((e) => e.seq === 0), 'some events were shown while waiting to be stored');
  assert.ok(before.length >= 4);
}

describe('a full disk and a file-size limit', { skip: realSockets }, () => {
  afterEach(async () => {
    await killAllWatchers();
    await killAllChurn();
  });

  test('tmpfs full: watch goes on printing, warns once, and what it stored before is intact', { timeout: 90_000 }, async (t) => {
    const dir = tempDir();
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
    if (mount.status !== 0) return t.skip(`cannot mount a tmpfs here: ${mount.stderr.trim()}`);
    try {
      await startChurn('127.0.0.11', 40);
      const data = join(dir, 'data');
      const watcher = startWatcher(['--interval', '30', '--data-dir', data]);
      let storedBefore: EventLine[] = [];
      await expectWatchSurvivesStorageFault(
        watcher,
        () => {
          storedBefore = watcher.events();
          fillDisk(dir);
        },
        /disk holding the history .* is full/,
      );
      assert.equal(watcher.stderr().match(/is full/g)?.length, 1, `one warning, not one per event:\n${watcher.stderr()}`);
      assert.doesNotMatch(watcher.stderr(), /\d+ events? (is|are) waiting/, 'no count in the warning: it would change while the events pile up');
      assert.equal(comesUp(watcher, 'history-unavailable'), 1, 'the full disk came up once in the health lines');
      rmSync(join(dir, 'filler'), { force: true });
      rmSync(join(dir, 'crumbs'), { force: true });
      await until('memory mode to end by itself', () => /writable again/.test(watcher.stderr()), 40_000);
      await killAllChurn();
      assert.equal(await watcher.kill('SIGINT'), 0, 'and it still exits cleanly');
      assert.ok(storedBefore.length > 0);
      assertAllStored(data, watcher.events());
    } finally {
      spawnSync('umount', ['-l', dir]);
    }
  });

  test('ulimit -f: the same, on a file-size limit (SIGXFSZ is ignored, writes fail with EFBIG)', { timeout: 90_000 }, async () => {
    const dir = tempDir();
    await startChurn('127.0.0.12', 40);
    // 512-byte blocks: 192 KB lets the store open and take some events, then the WAL hits the limit.
    const watcher = startWatcher(['--interval', '30', '--data-dir', dir], ['bash', '-c', 'ulimit -f 384 && exec "$@"', 'ghostport-ulimit']);
    await expectWatchSurvivesStorageFault(watcher, () => undefined, /reached this process's file-size limit \(ulimit -f\)/);
    assert.equal(await watcher.kill('SIGINT'), 0, 'and it still exits cleanly');
  });
});

describe('a slow reader of the CLI', () => {
  test('history --json through a pipe read late is complete (200 KB events are not cut at 64 KB)', async () => {
    const dir = tempDir();
    const h = History.open({ dataDir: dir });
    const big = 'x'.repeat(200_000);
    h.record([0, 1, 2].map(() => ({ ...sampleEvent(), socket: { ...sampleEvent().socket, process: { pid: 4242, name: 'big', path: null, command: big, user: null, parentPid: null, startedAt: null } } })));
    h.close();
    const r = spawnSync('bash', ['-c', `"$0" ${BIN} history --json --data-dir "$1" | (sleep 1; cat)`, process.execPath, dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 3);
    for (const line of lines) assert.equal((JSON.parse(line) as { socket: { process: { command: string } } }).socket.process.command.length, 200_000);
  });

  test('a reader that goes away early (| head) ends the CLI quietly', () => {
    const dir = tempDir();
    seedHistory(dir, 2000);
    const r = spawnSync('bash', ['-c', `"$0" ${BIN} history --json --data-dir "$1" | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`, process.execPath, dir], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '0');
    assert.doesNotMatch(r.stderr, /Error|at .*\.ts:\d+/);
  });
});


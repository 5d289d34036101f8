/** `ghostport history`: --limit keeps the newest events in order, --follow prints what others record, --since accepts an age. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { History } from '#node/history.ts';
import type { PortEvent } from '#common/model.ts';
import { BIN, useFreshCliBundle } from '../support/cli-bundle.ts';

useFreshCliBundle();
const dir = mkdtempSync(join(tmpdir(), 'ghostport-cli-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function record(history: History, pid: number, at = new Date()): void {
  const event: Omit<PortEvent, 'seq'> = {
    type: 'appeared',
    at: at.toISOString(),
    flapping: false,
    socket: {
      id: `tcp|4|127.0.0.1|596|*|*|${pid}|t|${pid}`, protocol: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: 596, remoteAddress: null, remotePort: null, state: 'LISTEN',
      pid, process: { pid, name: 'nc', path: '/usr/bin/nc', command: 'nc -l 596', user: 'root', parentPid: 1, startedAt: null },
      watchedPort: 596, side: 'local', inode: pid, firstSeenAt: at.toISOString(),
    },
  };
  history.record([event]);
}

const pids = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { socket: { pid: number } }).socket.pid);

test('--limit keeps the newest N, oldest first; --since with an age filters by time', () => {
  const history = History.open({ dataDir: dir });
  record(history, 1, new Date(Date.now() - 3 * 3_600_000));
  record(history, 2);
  record(history, 3);
  history.close();
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'history', '--json', '--data-dir', dir, ...args], { encoding: 'utf8' });
  assert.deepEqual(pids(run().stdout), [1, 2, 3]);
  assert.deepEqual(pids(run('--limit', '2').stdout), [2, 3]);
  assert.deepEqual(pids(run('--since', '1h').stdout), [2, 3]);
  assert.deepEqual(pids(run('--since', '1h', '--limit', '1').stdout), [3]);
});

test('--follow prints events another process records, once each, and stops on SIGINT with 0', { timeout: 60_000 }, async () => {
  const follower = spawn(process.execPath, [BIN, 'history', '--json', '--follow', '--since', '1h', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  follower.stdout!.on('data', (c: Buffer) => (out += String(c)));
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(check(), out);
  };
  await until(() => pids(out).length === 2);
  const writer = History.open({ dataDir: dir });
  record(writer, 4);
  await until(() => pids(out).includes(4));
  record(writer, 5);
  await until(() => pids(out).includes(5));
  writer.close();
  follower.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => follower.once('exit', (c) => resolve(c)));
  assert.equal(code, 0);
  assert.deepEqual(pids(out), [2, 3, 4, 5]);
});

test('a running watcher that cannot write (its store locked): history from another process lists what is stored and says events wait in that watcher', () => {
  const locked = mkdtempSync(join(tmpdir(), 'ghostport-cli-history-stalled-'));
  const writer = History.open({ dataDir: locked, label: 'watch', busyTimeoutMs: 20 });
  const other = new DatabaseSync(join(locked, 'history.db'), { timeout: 2000 });
  try {
    record(writer, 1);
    // Its heartbeat stops while the store is locked; a minute of silence, as if the lock had lasted that long.
    other.exec("UPDATE sessions SET alive_ms = alive_ms - 60000 WHERE label = 'watch'");
    other.exec('BEGIN EXCLUSIVE');
    record(writer, 2);
    assert.equal(writer.pendingCount, 1);
    const run = spawnSync(process.execPath, [BIN, 'history', '--json', '--data-dir', locked], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(pids(run.stdout), [1], 'the stored event; the waiting one is in the watcher only');
    assert.match(run.stderr, new RegExp(`watch \\(pid ${process.pid}\\) has not been able to write the history since .*wait in its memory and are not listed here`));
    assert.deepEqual(writer.query({ order: 'asc' }).events.map((e) => [e.seq, e.socket.pid]), [[1, 1], [0, 2]], 'the watcher itself lists both');
  } finally {
    other.exec('COMMIT');
    other.close();
    writer.close();
    rmSync(locked, { recursive: true, force: true });
  }
  const quiet = spawnSync(process.execPath, [BIN, 'history', '--data-dir', dir], { encoding: 'utf8' });
  assert.doesNotMatch(quiet.stderr, /not been able to write/, 'no warning when every watcher writes');
});

/**
 * One configuration, in the places Linux users expect: settings in $XDG_CONFIG_HOME/Ghostport,
 * history in $XDG_STATE_HOME/Ghostport, moved there once from the old place without losing an
 * event, never while another Ghostport has it open; private modes; the CLI end to end.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateHistory, resolveDataDirs } from '#node/data-dir.ts';
import { resolveServiceDirs } from '#node/service/paths.ts';
import { History } from '#node/history.ts';
import type { PortEvent } from '#common/model.ts';
import { BIN, useFreshCliBundle } from '../support/cli-bundle.ts';

useFreshCliBundle();
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
function home(): string {
  const r = mkdtempSync(join(tmpdir(), 'ghostport-xdg-'));
  roots.push(r);
  return r;
}

function recordOne(dir: string, pid: number): void {
  const history = History.open({ dataDir: dir });
  const event: Omit<PortEvent, 'seq'> = {
    type: 'appeared',
    at: new Date().toISOString(),
    flapping: false,
    socket: {
      id: `tcp|4|127.0.0.1|596|*|*|${pid}|t|1`, protocol: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: 596, remoteAddress: null, remotePort: null, state: 'LISTEN',
      pid, process: { pid, name: 'nc', path: '/usr/bin/nc', command: 'nc -l 596', user: 'root', parentPid: 1, startedAt: null },
      watchedPort: 596, side: 'local', inode: 1, firstSeenAt: new Date().toISOString(),
    },
  };
  history.record([event]);
  history.close();
}

const pidsIn = (dir: string) => {
  const reader = History.openReader({ dataDir: dir });
  try {
    return [...reader.iterate()].map((e) => e.socket.pid);
  } finally {
    reader.close();
  }
};

describe('XDG base directories', () => {
  test('Linux: configuration and state folders; XDG variables honoured; one folder elsewhere or when chosen', () => {
    assert.deepEqual(resolveDataDirs(null, { HOME: '/h' }, 'linux'), { config: '/h/.config/Ghostport', state: '/h/.local/state/Ghostport' });
    assert.deepEqual(resolveDataDirs(null, { HOME: '/h', XDG_CONFIG_HOME: '/c', XDG_STATE_HOME: '/s' }, 'linux'), { config: '/c/Ghostport', state: '/s/Ghostport' });
    assert.deepEqual(resolveDataDirs('/d', { HOME: '/h' }, 'linux'), { config: '/d', state: '/d' });
    assert.deepEqual(resolveDataDirs(null, { HOME: '/h', GHOSTPORT_DATA_DIR: '/e' }, 'linux'), { config: '/e', state: '/e' });
    assert.deepEqual(resolveDataDirs(null, { HOME: '/h' }, 'darwin'), { config: '/h/Library/Application Support/Ghostport', state: '/h/Library/Application Support/Ghostport' });
  });

  test('the old history moves once, every event with it; readers read it where it is without moving it', () => {
    const h = home();
    const dirs = { config: join(h, 'config'), state: join(h, 'state') };
    mkdirSync(dirs.config, { mode: 0o700 });
    recordOne(dirs.config, 4711);
    assert.deepEqual(locateHistory(dirs, false), { dir: dirs.config, note: null }, 'a reader leaves it in place');
    assert.equal(existsSync(join(dirs.state, 'history.db')), false);
    const moved = locateHistory(dirs, true);
    assert.equal(moved.dir, dirs.state);
    assert.match(moved.note ?? '', /Moved the history/);
    assert.deepEqual(pidsIn(dirs.state), [4711]);
    assert.equal(existsSync(join(dirs.config, 'history.db')), false);
    assert.deepEqual(locateHistory(dirs, true), { dir: dirs.state, note: null }, 'once');
    assert.equal(statSync(dirs.state).mode & 0o777, 0o700);
    assert.equal(statSync(join(dirs.state, 'history.db')).mode & 0o777, 0o600);
  });

  test('never moved while another Ghostport has it open, and never over a newer history', () => {
    const h = home();
    const dirs = { config: join(h, 'config'), state: join(h, 'state') };
    mkdirSync(dirs.config, { mode: 0o700 });
    recordOne(dirs.config, 1);
    writeFileSync(join(dirs.config, 'history.db-wal'), '');
    const busy = locateHistory(dirs, true);
    assert.equal(busy.dir, dirs.config);
    assert.match(busy.note ?? '', /another Ghostport has it open/);
    rmSync(join(dirs.config, 'history.db-wal'));
    mkdirSync(dirs.state, { mode: 0o700 });
    recordOne(dirs.state, 2);
    assert.deepEqual(locateHistory(dirs, true), { dir: dirs.state, note: null });
    assert.deepEqual(pidsIn(dirs.config), [1], 'the old one is left as it was');
  });

  test('the CLI: history reads the old place, watch moves it, history then reads the new place; settings files stay in the config folder', { timeout: 60_000 }, async () => {
    const h = home();
    const env = { ...process.env, HOME: h, XDG_CONFIG_HOME: '', XDG_STATE_HOME: '', GHOSTPORT_DATA_DIR: '' };
    const legacy = join(h, '.config', 'Ghostport');
    mkdirSync(legacy, { recursive: true, mode: 0o700 });
    recordOne(legacy, 4242);
    const pids = () => spawnSync(process.execPath, [BIN, 'history', '--json'], { env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { socket: { pid: number } }).socket.pid);
    assert.deepEqual(pids(), [4242]);
    assert.equal(existsSync(join(h, '.local', 'state', 'Ghostport')), false, 'reading moved nothing');
    const watcher = spawn(process.execPath, [BIN, 'watch', '--port', '59996'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    watcher.stderr!.on('data', (c: Buffer) => (err += String(c)));
    for (let i = 0; i < 300 && !err.includes('watching'); i++) await new Promise((r) => setTimeout(r, 50));
    watcher.kill('SIGINT');
    await new Promise((r) => watcher.once('exit', r));
    assert.match(err, /Moved the history from .*\.config\/Ghostport\/history\.db to .*\.local\/state\/Ghostport\/history\.db/);
    assert.deepEqual(pids(), [4242]);
    assert.equal(existsSync(join(legacy, 'history.db')), false);
  });

  test('serve: one folder when chosen, under systemd or as root; as a user, the settings where the CLI reads them and the history where `ghostport history` reads it', () => {
    assert.deepEqual(resolveServiceDirs('/srv/gp', {}, 1000), { settings: '/srv/gp', history: '/srv/gp', note: null });
    assert.deepEqual(resolveServiceDirs(null, { STATE_DIRECTORY: '/var/lib/ghostport:/var/lib/other' }, 0), { settings: '/var/lib/ghostport', history: '/var/lib/ghostport', note: null });
    assert.deepEqual(resolveServiceDirs(null, {}, 0), { settings: '/var/lib/ghostport', history: '/var/lib/ghostport', note: null });
    const h = home();
    const env = { HOME: h, XDG_CONFIG_HOME: '', XDG_STATE_HOME: '' };
    // A history left in the data directory by an older serve moves, as the CLI's writers move it.
    mkdirSync(join(h, '.config', 'Ghostport'), { recursive: true, mode: 0o700 });
    recordOne(join(h, '.config', 'Ghostport'), 4343);
    const dirs = resolveServiceDirs(null, env, 1000);
    assert.equal(dirs.settings, join(h, '.config', 'Ghostport'));
    assert.equal(dirs.history, join(h, '.local', 'state', 'Ghostport'));
    assert.match(dirs.note ?? '', /Moved the history/);
    const readsFrom = locateHistory(resolveDataDirs(null, env, 'linux'), false).dir;
    assert.equal(dirs.history, readsFrom, 'the history command reads where serve writes');
    assert.deepEqual(pidsIn(readsFrom), [4343], 'nothing lost');
    assert.deepEqual(resolveServiceDirs(null, env, 1000), { ...dirs, note: null }, 'and stays there');
  });
});

/**
 * Hostile and weird process names on the real port 596: line breaks, terminal escapes, bidi
 * overrides, 100 KB of arguments, invalid UTF-8, and names that try to claim another pid. The
 * CLI table shows each on one escaped line, the JSON round-trips it (invalid UTF-8 arrives as
 * U+FFFD, the one lossy step, made where /proc is read), and the history stores it faithfully.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { History } from '#node/history.ts';
import { chooseName } from '#node/process-info.ts';
import { decode, killAllHostile, PYTHON, startHostile, type Hostile, type HostileSpec } from '../support/hostile-bytes.ts';

const BIN = 'electron/node/cli/ghostport.mjs';
const skip =
  process.platform !== 'linux' || process.getuid?.() !== 0
    ? 'needs Linux and root (binds port 596)'
    : spawnSync(PYTHON, ['-c', 'import ctypes']).status !== 0
      ? `needs ${PYTHON} with ctypes to shape argv and comm`
      : false;

const KB = 1024;
const specs: Record<string, HostileSpec> = {
  'line breaks and terminal escapes': {
    argv0: 'evil\nroot 1 0 /sbin/init',
    comm: 'ev\nil\x1b[31mX',
    args: ['--title=\x1b]0;pwned\x07', 'carriage\rreturn', '<img src=x onerror=alert(1)>'],
    host: '127.0.0.2',
    port: 596,
  },
  'bidi overrides and invisibles': {
    argv0: 'invoice\u202egpj.exe',
    comm: '\u202eexe.txt',
    args: ['\u2066hidden\u2069', 'zero\u200bwidth', 'line\u2028sep'],
    host: '127.0.0.3',
    port: 596,
  },
  '100 KB of arguments': {
    argv0: 'bigargs',
    args: [...Array.from({ length: 10 }, (_, i) => String.fromCharCode(65 + i).repeat(10 * KB)), 'END'],
    host: '127.0.0.4',
    port: 596,
  },
  'invalid UTF-8': {
    argv0: Uint8Array.from([0xff, 0xfe, 0x62, 0x61, 0x64]),
    comm: Uint8Array.from([0x62, 0xff, 0x64, 0xc3]),
    args: [Uint8Array.from([0xc3, 0x28]), Uint8Array.from([0x6f, 0x6b, 0x80])],
    host: '127.0.0.5',
    port: 596,
  },
  'a name claiming pid 1': {
    argv0: 'pid=1',
    comm: 'x",pid=1,fd=9',
    args: ['users:(("init",pid=1,fd=3))'],
    host: '127.0.0.6',
    port: 596,
    protocol: 'udp',
  },
};

interface SocketJson {
  protocol: string;
  localAddress: string;
  localPort: number;
  pid: number | null;
  process: { pid: number; name: string; command: string; path: string | null } | null;
}

const expectedArgv = (h: Hostile) => h.argvBytes.map((b) => decode(b));
const expectedCommand = (h: Hostile) => expectedArgv(h).join(' ');
function expectedName(spec: HostileSpec, h: Hostile): string {
  const comm = spec.comm === undefined ? null : Buffer.from(typeof spec.comm === 'string' ? Buffer.from(spec.comm) : spec.comm).subarray(0, 15);
  const argv0 = expectedArgv(h)[0]!;
  // Without a comm of its own, the kernel names the process after the executable.
  return chooseName(comm ? decode(comm) : 'python3', argv0, realpathSync(PYTHON));
}

function announces(text: string, h: Hostile): boolean {
  return text.includes(`(pid ${h.pid},`) || text.includes(`(pid ${h.pid})`);
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Everything but the line breaks that end lines: C0/C1 controls, DEL, bidi and invisible formatting.
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

describe('hostile process names on port 596', { skip }, () => {
  const hostiles = new Map<string, Hostile>();
  const dirs: string[] = [];
  before(async () => {
    for (const [label, spec] of Object.entries(specs)) hostiles.set(label, await startHostile(spec));
  });
  after(async () => {
    await killAllHostile();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('scan --json: each owner by its real pid, name and command faithful, and the document round-trips', () => {
    const r = cli(['scan', '--json']);
    assert.equal(r.status, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { sockets: SocketJson[] };
    assert.equal(JSON.stringify(JSON.parse(JSON.stringify(doc))), JSON.stringify(doc));
    for (const [label, h] of hostiles) {
      const spec = specs[label]!;
      const mine = doc.sockets.filter((s) => s.localAddress === spec.host && s.localPort === 596);
      assert.equal(mine.length, 1, `${label}: one socket`);
      const s = mine[0]!;
      assert.equal(s.pid, h.pid, `${label}: attributed to the real owner`);
      assert.equal(s.process?.pid, h.pid);
      assert.equal(s.process?.command, expectedCommand(h), `${label}: command`);
      assert.equal(s.process?.name, expectedName(spec, h), `${label}: name`);
      assert.equal(s.process?.path, realpathSync(PYTHON));
    }
    assert.ok(!doc.sockets.some((s) => s.localAddress === '127.0.0.6' && s.pid === 1), 'no socket is handed to pid 1 by a name');
    const huge = doc.sockets.find((s) => s.pid === hostiles.get('100 KB of arguments')!.pid)!;
    assert.ok(huge.process!.command.length > 100 * KB, 'the whole command line, not a prefix');
    assert.ok(hostiles.get('invalid UTF-8') && doc.sockets.some((s) => s.process?.command.includes('\ufffd')), 'invalid UTF-8 arrives as U+FFFD');
  });

  test('scan table: one escaped line per socket, nothing raw reaches the terminal', () => {
    const r = cli(['scan']);
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(r.stdout, RAW_UNSAFE, 'no control, escape or bidi character in the output');
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.match(lines[0]!, /^Port 596: \d+ sockets?$/);
    assert.match(lines[1]!, /^PROTO\s+LOCAL/);
    for (const line of lines.slice(2)) {
      assert.match(line, /^((TCP|UDP)\s|\(\d+ closed)/, `every line is a row: ${JSON.stringify(line.slice(0, 80))}`);
      assert.ok(line.length < 400, 'long command lines are shortened');
    }
    for (const [label, h] of hostiles) {
      const rows = lines.filter((l) => new RegExp(`\\s${h.pid}\\s`).test(l));
      assert.equal(rows.length, 1, `${label}: exactly one row`);
      assert.ok(rows[0]!.includes(specs[label]!.host));
    }
    const row = (label: string) => lines.find((l) => l.includes(` ${hostiles.get(label)!.pid} `))!;
    assert.ok(row('line breaks and terminal escapes').includes('evil\\nroot 1 0 /sbin/init'));
    assert.ok(row('line breaks and terminal escapes').includes('--title=\\x1b]'));
    assert.ok(row('bidi overrides and invisibles').includes('invoice\\u202egpj.exe'));
    assert.ok(row('100 KB of arguments').endsWith('…'));
  });

  test('watch announces them escaped, and the history keeps every argument as the process had it', { timeout: 120_000 }, async () => {
    await killAllHostile();
    hostiles.clear();
    const dir = mkdtempSync(join(tmpdir(), 'ghostport-hostile-history-'));
    dirs.push(dir);
    const watcher = spawn(process.execPath, [BIN, 'watch', '--interval', '150', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GHOSTPORT_TEST_FAST_POLL: '1' } });
    try {
      let out = '';
      watcher.stdout.on('data', (c: Buffer) => (out += String(c)));
      await new Promise<void>((resolve, reject) => {
        watcher.stderr.on('data', (c: Buffer) => (String(c).includes('watching') ? resolve() : undefined));
        watcher.once('exit', () => reject(new Error('watch exited early')));
      });
      for (const [label, spec] of Object.entries(specs)) hostiles.set(label, await startHostile(spec));
      const deadline = Date.now() + 30_000;
      while ([...hostiles.values()].some((h) => !announces(out, h)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      watcher.kill('SIGINT');
      await new Promise((resolve) => watcher.once('exit', resolve));
      assert.doesNotMatch(out, RAW_UNSAFE);
      for (const [label, h] of hostiles) {
        const lines = out.split('\n').filter((l) => announces(l, h));
        assert.equal(lines.length, 1, `${label}: announced once, on one line:\n${lines.join('\n')}`);
        assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\S+ {2}\+ appeared/);
      }
    } finally {
      watcher.kill('SIGKILL');
    }
    const history = History.open({ dataDir: dir });
    try {
      const events = [...history.iterate({})];
      for (const [label, h] of hostiles) {
        const e = events.find((ev) => ev.type === 'appeared' && ev.socket.pid === h.pid);
        assert.ok(e, `${label}: recorded`);
        assert.deepEqual(e.socket.process?.argv, expectedArgv(h), `${label}: every argument, separately`);
        assert.equal(e.socket.process?.name, expectedName(specs[label]!, h));
      }
    } finally {
      history.close();
    }
    const replay = cli(['history', '--json', '--data-dir', dir]);
    assert.equal(replay.status, 0);
    const docs = replay.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { socket: SocketJson });
    for (const h of hostiles.values()) {
      assert.equal(docs.find((d) => d.socket.pid === h.pid)?.socket.process?.command, expectedCommand(h));
    }
  });
});

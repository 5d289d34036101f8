/**
 * The `ghostport` CLI as users run it (a child process through the bin shim): every exit status,
 * its JSON, bad arguments, a blind scan, watch's prompt exit, and history.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { DEFAULT_SETTINGS } from '#common/settings.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllHolders, startHolder } from '../support/port-holder.ts';
import { BIN, useFreshCliBundle } from '../support/cli-bundle.ts';
import { hardenedSkip, withoutKernelTables } from '../support/hardened-proc.ts';

useFreshCliBundle();
const realSockets = process.platform === 'linux' && process.getuid?.() === 0 ? false : 'needs Linux and root (binds port 596)';
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ghostport-cli-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI where the kernel's socket tables cannot be read (tests/support/hardened-proc.ts): only ss or netstat can list sockets. */
function cliWithoutKernelTables(args: string[], env: NodeJS.ProcessEnv, options: { timeout?: number; killSignal?: NodeJS.Signals } = {}) {
  const run = withoutKernelTables(process.execPath, [BIN, ...args], env);
  const r = spawnSync(run.file, run.args, { encoding: 'utf8', env: run.env, timeout: 60_000, ...options });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ghostport arguments', () => {
  const bad: [string[], RegExp][] = [
    [['scan', '--port', '0'], /--port must be a whole number from 1 to 65535/],
    [['scan', '--port', '65536'], /--port must be/],
    [['scan', '--port', 'ssh'], /--port must be/],
    [['scan', '--port'], /--port needs a value/],
    [['watch', '--interval', '-5'], /--interval must be a number of milliseconds/],
    [['watch', '--interval', 'soon'], /--interval must be a number of milliseconds/],
    [['watch', '--interval', '0.5'], /--interval must be at least 250 ms/],
    [['watch', '--interval', '249'], /--interval must be at least 250 ms/],
    [['history', '--since', 'yesterday'], /--since must be a real date/],
    [['history', '--since', '2026-02-30'], /--since must be a real date/],
    [['history', '--limit', '0'], /--limit must be a whole number/],
    [['scan', '--state', 'open'], /--state must be one of listen, connected/],
    [['scan', '--no-json'], /unknown option "--no-json"/],
    [['help', 'frobnicate'], /unknown command "frobnicate"/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['scan', '--bogus'], /unknown option "--bogus"/],
    [['scan', '--since', '2026-01-01'], /does not apply to "scan"/],
  ];
  for (const [args, reason] of bad) {
    test(`exit 2 for: ghostport ${args.join(' ')}`, () => {
      const r = cli(args);
      assert.equal(r.status, 2);
      assert.match(r.stderr, reason);
      assert.match(r.stderr, /ghostport help/);
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
      assert.equal(r.stderr.trim().split('\n').length, 2, 'one-line reason plus the usage hint');
    });
  }

  test('help and version exit 0', () => {
    assert.match(cli(['help']).stdout, /scan +look once/);
    assert.match(cli(['--version']).stdout, /^ghostport \d+\.\d+\.\d+/);
    assert.equal(cli(['version']).stdout, cli(['--version']).stdout);
  });
});

describe('ghostport scan', { skip: realSockets }, () => {
  afterEach(killAllHolders);

  test('exit 1 and the documented JSON when something is on the port', async () => {
    const holder = await startHolder({ tcpListen: [['127.0.0.1', 596]], udpBind: [['::', 596, true]] });
    const r = cli(['scan', '--json']);
    assert.equal(r.status, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { schema: number; scannedAt: string; ports: number[]; sockets: Record<string, unknown>[] };
    assert.equal(doc.schema, 2);
    assert.ok(!Number.isNaN(Date.parse(doc.scannedAt)));
    assert.deepEqual(doc.ports, [596]);
    const mine = doc.sockets.filter((s) => s.pid === holder.pid);
    assert.equal(mine.length, 2);
    for (const s of mine) {
      for (const key of ['protocol', 'family', 'localAddress', 'localPort', 'remoteAddress', 'remotePort', 'state', 'pid', 'process']) {
        assert.ok(key in s, `socket has ${key}`);
      }
      const p = s.process as Record<string, unknown>;
      for (const key of ['pid', 'name', 'path', 'command', 'user', 'parentPid', 'startedAt']) assert.ok(key in p, `process has ${key}`);
      assert.equal(p.pid, holder.pid);
      // Schema 2: the evidence captured at detection (a one-shot scan waits for the hash).
      assert.match(String(p.exeSha256), /^[0-9a-f]{64}$/);
      assert.equal(p.uid, 0);
      assert.equal(p.exeDeleted, false);
      assert.ok(Array.isArray(p.argv) && Array.isArray(p.ancestry) && typeof p.cwd === 'string' && typeof p.uptimeSeconds === 'number');
      assert.equal((p.ancestry as { pid: number }[])[0]?.pid, process.pid);
    }
    assert.deepEqual(mine.map((s) => `${s.protocol}${s.family} ${s.state}`).sort(), ['tcp4 LISTEN', 'udp6 UNCONN']);
    const table = cli(['scan']);
    assert.equal(table.status, 1);
    assert.match(table.stdout, new RegExp(`LISTEN\\s+${holder.pid}\\s+root`));
  });

  test('scan --details (-v): a block per socket with the evidence, grouped, escaped', async () => {
    const holder = await startHolder({ tcpListen: [['127.0.0.1', 596]], extraArgs: ['--marker=\u202Edetails'] });
    for (const flag of ['--details', '-v']) {
      const r = cli(['scan', flag]);
      assert.equal(r.status, 1, r.stderr);
      const block = r.stdout.slice(r.stdout.indexOf('#1 '));
      assert.match(block, new RegExp(`^#1 TCP 127\\.0\\.0\\.1:596 listening\n  \\S+ \\(pid ${holder.pid}, user root\\)`));
      for (const heading of ['Who', 'What', 'How it started', 'Talking to']) assert.match(block, new RegExp(`^  ${heading}$`, 'm'));
      assert.match(block, /SHA-256: [0-9a-f]{64}\n/);
      assert.match(block, /Started by:\n {6}\d+ /);
      assert.match(block, /--marker=\\u202edetails/, 'arguments escaped');
      assert.doesNotMatch(r.stdout, /\u202E/);
    }
  });

  test('settings.json in the data directory: its ports and allowlist apply, flags override them', async () => {
    const dir = tempDir();
    const holder = await startHolder({ tcpListen: [['127.0.0.1', 59990]] });
    const settings = (extra: object) => writeFileSync(join(dir, 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ports: [59990], intervalMs: 5000, ...extra }));
    settings({});
    const found = cli(['scan', '--json', '--data-dir', dir]);
    assert.equal(found.status, 1, found.stderr);
    assert.deepEqual((JSON.parse(found.stdout) as { ports: number[] }).ports, [59990], 'the settings\' ports');
    assert.equal(cli(['scan', '--quiet', '--port', '59989', '--data-dir', dir]).status, 0, 'a flag overrides them');
    settings({ allowlist: [{ by: 'user', user: 'root', port: 59990 }] });
    const allowed = cli(['scan', '--data-dir', dir]);
    assert.equal(allowed.status, 0, 'an allowlisted program is not "something on the port"');
    assert.match(allowed.stdout, new RegExp(`${holder.pid}.*\\(allowlisted\\)`));
    // An entry by hash is decided with the hash, however long hashing a large binary takes (node: 120 MB).
    const sha256 = createHash('sha256').update(readFileSync(`/proc/${holder.pid}/exe`)).digest('hex');
    settings({ allowlist: [{ by: 'hash', sha256, port: 59990 }] });
    assert.equal(cli(['scan', '--quiet', '--data-dir', dir]).status, 0, 'allowlisted by its executable\'s hash');
    writeFileSync(join(dir, 'settings.json'), '{ not json');
    const bad = cli(['scan', '--quiet', '--data-dir', dir]);
    assert.equal(bad.status, 0, 'an invalid file is ignored (defaults: port 596)');
    assert.match(bad.stderr, /ignoring .*settings\.json .*not JSON/);
    assert.equal(readFileSync(join(dir, 'settings.json'), 'utf8'), '{ not json', 'the CLI never rewrites or moves it');
  });

  test('exit 0 when clear (on a port nothing uses)', () => {
    const r = cli(['scan', '--port', '59999', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).sockets, []);
    assert.match(cli(['scan', '--port', '59999']).stdout, /clear/);
  });

  test('exit 2, never "clear", when no socket source exists (no /proc/net, no netlink helper, PATH without ss and netstat)', { skip: hardenedSkip }, () => {
    const bin = tempDir();
    // A PATH with the basics the scan needs but no ss and no netstat.
    for (const tool of ['sh', 'grep', 'getconf', 'cat']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found) symlinkSync(found, join(bin, tool));
    }
    const r = cliWithoutKernelTables(['scan', '--json'], { ...process.env, PATH: bin });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as { health: string; sockets: unknown[]; issues: { code: string }[] };
    assert.equal(doc.health, 'blind');
    assert.equal(doc.issues[0]?.code, 'no-socket-source');
    assert.match(r.stderr, /Cannot see sockets/);
    const table = cliWithoutKernelTables(['scan'], { ...process.env, PATH: bin });
    assert.equal(table.status, 2);
    assert.doesNotMatch(table.stdout, /: clear/);
    assert.match(table.stdout, /Cannot see sockets on port 596/);
    // Where the kernel's tables can be read, ss and netstat are not needed: clear is clear.
    assert.equal(cli(['scan', '--port', '59997', '--quiet'], { ...process.env, PATH: bin }).status, 0);
    // watch --json says so on stdout too, first thing: a JSON reader can tell blind from clear.
    const watcher = cliWithoutKernelTables(['watch', '--json', '--no-history'], { ...process.env, PATH: bin }, { timeout: 4000, killSignal: 'SIGINT' });
    const first = JSON.parse(watcher.stdout.split('\n')[0]!) as { schema: number; type: string; health: string; issues: { code: string }[] };
    assert.deepEqual([first.type, first.health, first.issues[0]?.code], ['health', 'blind', 'no-socket-source']);
  });
  test('exit 2, never "clear", when nothing is seen but some socket tables could not be read (no /proc/net, no netlink helper, netstat without ss)', { skip: hardenedSkip }, () => {
    const bin = tempDir();
    // netstat without ss: unconnected UDP sockets are invisible, so an empty list proves nothing.
    for (const tool of ['sh', 'grep', 'getconf', 'cat', 'netstat']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found) symlinkSync(found, join(bin, tool));
    }
    const env = { ...process.env, PATH: bin };
    const r = cliWithoutKernelTables(['scan', '--port', '59998', '--json'], env);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as { health: string; sockets: unknown[]; issues: { code: string }[] };
    assert.deepEqual([doc.health, doc.sockets.length], ['degraded', 0]);
    assert.ok(doc.issues.some((i) => i.code === 'partial-socket-source'), JSON.stringify(doc.issues));
    assert.match(r.stderr, /ss is not installed/);
    assert.match(r.stderr, /this is not a clear/);
    const table = cliWithoutKernelTables(['scan', '--port', '59998'], env);
    assert.equal(table.status, 2);
    assert.doesNotMatch(table.stdout, /: clear/);
    assert.match(table.stdout, /Port 59998: nothing seen, but not a clear/);
    assert.equal(cliWithoutKernelTables(['scan', '--port', '59998', '--quiet'], env).status, 2, 'the exit status alone says it too');
  });
});

describe('ghostport watch and history', { skip: realSockets }, () => {
  afterEach(killAllHolders);

  test('watch prints JSON events, records them, and exits 0 promptly on SIGINT; history replays them', { timeout: 120_000 }, async (t) => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const watcher = spawn(process.execPath, [BIN, 'watch', '--json', '--interval', '250', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => watcher.kill('SIGKILL'));
    let out = '';
    watcher.stdout!.on('data', (c: Buffer) => (out += String(c)));
    await new Promise<void>((resolve) => watcher.stderr!.on('data', (c: Buffer) => (String(c).includes('watching') ? resolve() : undefined)));
    const holder = await startHolder({ tcpListen: [['127.0.0.1', 596]] });
    const all = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { schema: number; type: string; at: string; socket: { pid: number }; health?: string });
    const lines = () => all().filter((e) => e.type !== 'health');
    const until = async (pred: () => boolean) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(pred());
    };
    await until(() => lines().some((e) => e.type === 'appeared' && e.socket.pid === holder.pid));
    await holder.kill();
    await until(() => lines().some((e) => e.type === 'disappeared' && e.socket.pid === holder.pid));
    const started = Date.now();
    watcher.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => watcher.once('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 3000, 'exits promptly');
    const mine = lines().filter((e) => e.socket.pid === holder.pid);
    assert.deepEqual(mine.map((e) => e.type), ['appeared', 'disappeared']);
    assert.equal(all()[0]?.type, 'health', 'the stream starts with its health');
    assert.equal(all()[0]?.health, 'ok');
    assert.ok(all().every((e) => e.schema === 2), 'every line carries the schema');

    const h = cli(['history', '--json', '--data-dir', dir, '--since', mine[0]!.at]);
    assert.equal(h.status, 0);
    const replay = h.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; socket: { pid: number } });
    assert.deepEqual(replay.filter((e) => e.socket.pid === holder.pid).map((e) => e.type), ['appeared', 'disappeared']);
    const none = cli(['history', '--json', '--data-dir', dir, '--port', '8080']);
    assert.equal(none.stdout, '');
  });
});

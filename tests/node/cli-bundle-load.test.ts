/**
 * The bundled CLI loads only what a command needs: a scan on Linux never loads zod,
 * systeminformation, SQLite or React (they cost a one-shot scan more than the scan itself).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { BIN, useFreshCliBundle } from '../support/cli-bundle.ts';

useFreshCliBundle();

/** The packages and built-ins a command loads, recorded by a hook on the CommonJS loader. */
function loadedBy(argv: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    const seen = new Set();
    Module._load = function (request, ...rest) { if (!/^[./]/.test(request)) seen.add(request); return load.call(this, request, ...rest); };
    const io = { out() {}, err() {}, env: process.env, now: Date.now, stopped: new Promise(() => {}) };
    require(process.cwd() + '/dist/cli/ghostport.cjs').runCli(${JSON.stringify(argv)}, io).then(() => {
      // Built-ins loaded any other way (process.getBuiltinModule) are in the load list.
      for (const m of process.moduleLoadList) if (m.startsWith('NativeModule ') && !m.includes('internal/')) seen.add('node:' + m.slice(13));
      process.stdout.write([...seen].join('\\n')); process.exit(0);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, env });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('scan (Linux) loads neither zod, systeminformation, SQLite nor React', { skip: process.platform === 'linux' ? false : 'the Linux scan path' }, () => {
  const loaded = loadedBy(['scan', '--port', '59994', '--quiet']);
  assert.ok(loaded.includes('node:fs'), `the hook saw the loads: ${loaded.join(' ')}`);
  for (const heavy of ['zod', 'systeminformation', 'node:sqlite', 'react', 'react-dom', 'prom-client']) assert.ok(!loaded.includes(heavy), `scan loaded ${heavy}`);
});

test('a scan that finds the ports clear starts no process and loads no HTTP client: no child_process, http or crypto', { skip: process.platform === 'linux' ? false : 'the Linux scan path' }, () => {
  // No service socket here: the default one is looked for without loading the client.
  const loaded = loadedBy(['scan', '--port', '59994', '--quiet'], { ...process.env, GHOSTPORT_SOCKET: '/nonexistent/ghostport.sock' });
  assert.ok(loaded.includes('node:fs'), `the load list was read: ${loaded.join(' ')}`);
  for (const heavy of ['node:child_process', 'node:http', 'node:net', 'node:crypto']) assert.ok(!loaded.includes(heavy), `a clear scan loaded ${heavy}: ${loaded.join(' ')}`);
});

test('a plain scan that finds something names its owner without starting a process (no child_process) and captures no evidence (no hash: no crypto); --json does', { skip: process.platform === 'linux' ? false : 'the Linux scan path' }, async () => {
  const server = createServer().listen(59993, '127.0.0.1');
  await once(server, 'listening');
  try {
    const env = { ...process.env, GHOSTPORT_SOCKET: '/nonexistent/ghostport.sock' };
    const plain = loadedBy(['scan', '--port', '59993', '--quiet'], env);
    // The owner comes from /proc in this process, not from ss -p.
    assert.ok(!plain.includes('node:child_process'), `a plain scan started a process: ${plain.join(' ')}`);
    assert.ok(!plain.includes('node:crypto'), `a plain scan hashed the owner's executable: ${plain.join(' ')}`);
    assert.ok(loadedBy(['scan', '--port', '59993', '--json'], env).includes('node:crypto'), '--json captures the evidence, hash included');
  } finally {
    server.close();
  }
});

test('help loads nothing but the parser\'s needs', () => {
  const loaded = loadedBy(['help']);
  for (const heavy of ['zod', 'systeminformation', 'node:sqlite', 'node:child_process', 'node:http']) assert.ok(!loaded.includes(heavy), `help loaded ${heavy}`);
});

test('the compile cache is kept only where no other user can write (cached code runs as whoever runs ghostport)', (t) => {
  const run = (cacheHome: string) => {
    const r = spawnSync(process.execPath, [BIN, 'help'], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
    assert.equal(r.status, 0, r.stderr);
    return readdirSync(cacheHome);
  };
  const dirs: string[] = [];
  t.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const fresh = (mode: number) => {
    const d = mkdtempSync(join(tmpdir(), 'ghostport-cache-'));
    chmodSync(d, mode);
    dirs.push(d);
    return d;
  };
  const own = fresh(0o700);
  assert.deepEqual(run(own), ['ghostport']);
  assert.ok(readdirSync(join(own, 'ghostport', 'compile-cache')).length > 0, 'the cache was written');
  assert.deepEqual(run(fresh(0o777)), [], 'a folder anyone may write to gets nothing');
  if (process.getuid?.() === 0) {
    const others = fresh(0o755);
    chownSync(others, 65534, 65534);
    assert.deepEqual(run(others), [], "root writes nothing into another user's folder (sudo keeping HOME)");
  }
});

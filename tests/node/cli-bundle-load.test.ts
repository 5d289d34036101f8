/**
 * The bundled CLI loads only what a command needs: a scan on Linux never loads zod,
 * systeminformation, SQLite or React (they cost a one-shot scan more than the scan itself).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { useFreshCliBundle } from '../support/cli-bundle.ts';

useFreshCliBundle();

/** The packages and built-ins a command loads, recorded by a hook on the CommonJS loader. */
function loadedBy(argv: string[]): string[] {
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    const seen = new Set();
    Module._load = function (request, ...rest) { if (!/^[./]/.test(request)) seen.add(request); return load.call(this, request, ...rest); };
    const io = { out() {}, err() {}, env: process.env, now: Date.now, stopped: new Promise(() => {}) };
    require(process.cwd() + '/dist/cli/ghostport.cjs').runCli(${JSON.stringify(argv)}, io).then(() => { process.stdout.write([...seen].join('\\n')); process.exit(0); });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('scan (Linux) loads neither zod, systeminformation, SQLite nor React', { skip: process.platform === 'linux' ? false : 'the Linux scan path' }, () => {
  const loaded = loadedBy(['scan', '--port', '59994', '--quiet']);
  assert.ok(loaded.includes('node:fs'), `the hook saw the loads: ${loaded.join(' ')}`);
  for (const heavy of ['zod', 'systeminformation', 'node:sqlite', 'react', 'react-dom', 'prom-client']) assert.ok(!loaded.includes(heavy), `scan loaded ${heavy}`);
});

test('help loads nothing but the parser\'s needs', () => {
  const loaded = loadedBy(['help']);
  for (const heavy of ['zod', 'systeminformation', 'node:sqlite', 'node:child_process', 'node:http']) assert.ok(!loaded.includes(heavy), `help loaded ${heavy}`);
});

/**
 * Exit statuses scripts can trust: every error path exits 2 (never 0 or 1) with one line saying
 * what to do and no stack trace, unless GHOSTPORT_DEBUG=1. Read-only commands never create the
 * data directory.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '#node/cli/main.ts';
import type { CliIo } from '#node/cli/io.ts';
import { BIN, useFreshCliBundle } from '../support/cli-bundle.ts';

useFreshCliBundle();
const root = mkdtempSync(join(tmpdir(), 'ghostport-cli-errors-'));
after(() => rmSync(root, { recursive: true, force: true }));
const aFile = join(root, 'a-file');
writeFileSync(aFile, 'not a directory');
const missing = join(root, 'typo');

function cli(args: string[], env: NodeJS.ProcessEnv = {}, stdout: 'pipe' | number = 'pipe') {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, GHOSTPORT_DEBUG: '', ...env }, timeout: 60_000, stdio: ['ignore', stdout, 'pipe'] });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr };
}

describe('every error exits 2 with one line and no stack trace', () => {
  const table: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ['data dir is a file (scan)', ['scan', '--data-dir', aFile], {}, /is not a directory. Choose another with --data-dir/],
    ['data dir is a file (watch)', ['watch', '--data-dir', aFile], {}, /is not a directory/],
    ['data dir is a file (history)', ['history', '--data-dir', aFile], {}, /is not a directory/],
    ['data dir is a file (environment)', ['history'], { GHOSTPORT_DATA_DIR: aFile }, /is not a directory/],
    ['data dir cannot be created (watch)', ['watch', '--data-dir', join(aFile, 'sub')], {}, /cannot create or use the data directory .*ENOTDIR/],
    ['named data dir missing (history)', ['history', '--data-dir', missing], {}, /does not exist: check the path given with --data-dir/],
    ['named data dir missing (scan)', ['scan', '--data-dir', missing], {}, /does not exist/],
    ['named data dir missing (environment)', ['history'], { GHOSTPORT_DATA_DIR: missing }, /given with GHOSTPORT_DATA_DIR/],
    ['bad argument', ['scan', '--port', '0'], {}, /--port must be/],
  ];
  for (const [name, args, env, reason] of table) {
    test(name, () => {
      const r = cli(args, env);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, reason);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(existsSync(missing), false, 'a command that failed created nothing');
    });
  }

  test('an internal error (a failing write) exits 2 and calls itself a bug; GHOSTPORT_DEBUG=1 adds the stack', async () => {
    const run = async (env: NodeJS.ProcessEnv) => {
      let err = '';
      const io: CliIo = {
        out: () => {
          throw new TypeError('injected failure');
        },
        err: (t) => (err += t),
        env,
        now: Date.now,
        stopped: new Promise(() => undefined),
      };
      return { code: await runCli(['help'], io), err };
    };
    const quiet = await run({});
    assert.equal(quiet.code, 2);
    assert.equal(quiet.err, 'ghostport: internal error: injected failure. This is a bug in Ghostport; please report it (GHOSTPORT_DEBUG=1 shows the details).\n');
    const debug = await run({ GHOSTPORT_DEBUG: '1' });
    assert.equal(debug.code, 2);
    assert.match(debug.err, /TypeError: injected failure\n\s+at /);
  });

  test('an internal error in the real process (stdout not writable) exits 2, not 1', () => {
    const fd = openSync(aFile, 'r');
    try {
      const r = cli(['help'], {}, fd);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^ghostport: internal error: .*GHOSTPORT_DEBUG=1 shows the details/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    } finally {
      closeSync(fd);
    }
  });
});

describe('read-only commands never create the data directory', () => {
  test('history and scan with the default directory missing: nothing created, exit 0', () => {
    const home = join(root, 'home');
    const env = { HOME: home, XDG_CONFIG_HOME: '', XDG_STATE_HOME: '', GHOSTPORT_DATA_DIR: '' };
    const h = cli(['history'], env);
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stderr, /nothing recorded yet/);
    assert.equal(cli(['scan', '--port', '59998', '--quiet'], env).status, 0);
    for (const dir of ['.config/Ghostport', '.local/state/Ghostport']) assert.equal(existsSync(join(home, dir)), false, dir);
  });
});

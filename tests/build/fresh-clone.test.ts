/**
 * The first five minutes, as a new user lives them: clone the repository into an empty folder,
 * `npm ci`, and run the CLI through npx, from the bundle that `npm ci` built (no `npm run build`).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSON_SCHEMA } from '#common/cli-json.ts';

const dir = mkdtempSync(join(tmpdir(), 'ghostport-clone-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(command: string, args: string[], cwd = dir, timeout = 120_000) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, GHOSTPORT_DATA_DIR: '', npm_config_yes: 'true' } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

test('git clone, npm ci, npx ghostport: works without npm run build', { timeout: 900_000 }, () => {
  const clone = run('git', ['clone', '--quiet', '--no-hardlinks', process.cwd(), join(dir, 'ghostport')], process.cwd());
  assert.equal(clone.status, 0, clone.stderr);
  const repo = join(dir, 'ghostport');
  const install = run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], repo, 600_000);
  assert.equal(install.status, 0, `${install.stderr}\n${install.error ?? ''}`);
  assert.ok(existsSync(join(repo, 'dist', 'cli', 'ghostport.cjs')), 'npm ci built the CLI bundle (the prepare script)');

  const version = run('npx', ['ghostport', '--version'], repo);
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^ghostport \d+\.\d+\.\d+\n$/);
  const help = run('npx', ['ghostport', 'help', 'scan'], repo);
  assert.match(help.stdout, /^Usage: ghostport scan /);
  const scan = run('npx', ['ghostport', 'scan', '--port', '59995', '--json'], repo);
  assert.ok(scan.status === 0 || scan.status === 1, scan.stderr);
  assert.equal((JSON.parse(scan.stdout) as { schema: number }).schema, JSON_SCHEMA);
  const typo = run('npx', ['ghostport', 'history', '--data-dir', join(dir, 'typo')], repo);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /^ghostport: the data directory .* does not exist/);
  assert.equal(existsSync(join(dir, 'typo')), false);
});

/**
 * The systemd unit: `systemd-analyze verify` accepts it without a single warning; the hardening
 * the issue asks for is there; every capability kept is explained; the exposure score (offline
 * `systemd-analyze security`) stays at or under 4.0; and ProtectHome=yes does not blind the engine:
 * with /home hidden by a tmpfs, as the unit's mount namespace has it, an owner running from /home
 * still gets its path, cwd and executable hash.
 * Starting the unit, its sandbox at run time and `systemctl reload` need systemd as PID 1, which
 * these machines do not have (they are skipped, with that reason).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { realTool } from '../support/tools.ts';

const UNIT = resolve('deploy/systemd/ghostport.service');
const ANALYZE = realTool('systemd-analyze');
const noAnalyze = ANALYZE ? false : 'needs systemd-analyze (Debian package systemd)';
const text = readFileSync(UNIT, 'utf8');

/** The unit with ExecStart pointed at a stand-in (verify checks that the program exists; the package installs the real one). */
function verifiableCopy(): { dir: string; unit: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ghostport-unit-'));
  writeFileSync(join(dir, 'ghostport'), '#!/bin/sh\n');
  chmodSync(join(dir, 'ghostport'), 0o755);
  assert.equal(text.match(/\/usr\/bin\/ghostport/g)?.length, 1, 'one ExecStart runs /usr/bin/ghostport');
  writeFileSync(join(dir, 'ghostport.service'), text.replace('/usr/bin/ghostport', join(dir, 'ghostport')));
  return { dir, unit: join(dir, 'ghostport.service') };
}

function directives(): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) found.set(match[1]!, match[2]!);
  }
  return found;
}

test('systemd-analyze verify accepts the unit without a warning', { skip: noAnalyze }, () => {
  const { dir, unit } = verifiableCopy();
  const result = spawnSync(ANALYZE!, ['verify', unit], { encoding: 'utf8' });
  rmSync(dir, { recursive: true });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(`${result.stdout}${result.stderr}`.trim(), '', 'no warning (verify exits 0 even for unknown keys: its output is the check)');
});

test('the checker catches a typo and a bad value', { skip: noAnalyze }, () => {
  const { dir, unit } = verifiableCopy();
  writeFileSync(unit, readFileSync(unit, 'utf8').replace('ProtectSystem=strict', 'ProtectSytem=strict').replace('ProtectHome=yes', 'ProtectHome=maybe'));
  const result = spawnSync(ANALYZE!, ['verify', unit], { encoding: 'utf8' });
  rmSync(dir, { recursive: true });
  assert.match(result.stderr, /Unknown key 'ProtectSytem'/);
  assert.match(result.stderr, /protect home value/);
});

test('the unit carries the hardening and runs the service with the socket group', () => {
  const unit = directives();
  const expected: Record<string, string | RegExp> = {
    ExecStart: /^\/usr\/bin\/ghostport serve .*--socket-group ghostport/,
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    StateDirectory: 'ghostport',
    RuntimeDirectory: 'ghostport',
    RestrictAddressFamilies: 'AF_UNIX AF_NETLINK AF_INET AF_INET6',
    SystemCallFilter: /^@system-service bpf perf_event_open/,
    Restart: 'on-failure',
    ExecReload: '/bin/kill -HUP $MAINPID',
    CapabilityBoundingSet: /^(CAP_[A-Z_]+ ?)+$/,
  };
  for (const [key, value] of Object.entries(expected)) {
    const actual = unit.get(key);
    assert.ok(actual !== undefined, `${key}= is set`);
    if (typeof value === 'string') assert.equal(actual, value, key);
    else assert.match(actual, value, key);
  }
  assert.equal(unit.has('WantedBy'), true);
});

test('every capability the unit keeps is named in a comment with its reason', () => {
  const caps = directives().get('CapabilityBoundingSet')!.split(' ');
  assert.ok(caps.length > 0 && !caps.includes('CAP_NET_ADMIN') && !caps.includes('CAP_SYS_MODULE'));
  for (const cap of caps) assert.match(text, new RegExp(`^#\\s+${cap}\\s+\\S.{10,}$`, 'm'), `${cap} explained`);
});

test('offline systemd-analyze security rates the exposure at or under 4.0', { skip: noAnalyze }, () => {
  const { dir, unit } = verifiableCopy();
  const result = spawnSync(ANALYZE!, ['security', '--offline=yes', '--no-pager', unit], { encoding: 'utf8' });
  rmSync(dir, { recursive: true });
  const score = /Overall exposure level for ghostport\.service: (\d+\.\d)/.exec(result.stdout);
  assert.ok(score, result.stdout + result.stderr);
  assert.ok(Number(score[1]) <= 4.0, `exposure ${score[1]} (README says 3.6)`);
});

test('the unit running under systemd (start, sandbox at run time, reload)', { skip: 'needs systemd as PID 1 to start units; these machines run without it' }, () => {});

const unshare = realTool('unshare');
test('ProtectHome=yes: with /home hidden, an owner running from /home keeps its path, cwd and hash', { skip: process.platform !== 'linux' || process.getuid?.() !== 0 || !unshare ? 'needs Linux, root and unshare' : false }, async () => {
  const home = join('/home', `ghostport-unit-test-${process.pid}`);
  mkdirSync(home, { recursive: true });
  const exe = join(home, 'sleeper');
  copyFileSync('/bin/sleep', exe);
  const owner = spawn(exe, ['60'], { cwd: home, stdio: 'ignore' });
  try {
    const script = `import('${resolve('electron/node/os-source.ts')}').then(async (m) => { const i = await m.createOwnerReader().readProcessInfo(${owner.pid}); console.log(JSON.stringify({ path: i.path, cwd: i.cwd, exeSha256: i.exeSha256 })); })`;
    const hidden = spawnSync(unshare!, ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs tmpfs /home && test ! -e ${exe} && exec "$0" -e "$1"`, process.execPath, script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(hidden.status, 0, hidden.stderr);
    const seen = JSON.parse(hidden.stdout) as { path: string; cwd: string; exeSha256: string };
    const expectedHash = spawnSync('sha256sum', [exe], { encoding: 'utf8' }).stdout.split(' ')[0];
    assert.deepEqual(seen, { path: exe, cwd: home, exeSha256: expectedHash });
  } finally {
    owner.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
});

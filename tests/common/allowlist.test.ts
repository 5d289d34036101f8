/** The one allowlist decision, its precise entries, and settings migration from version 1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addAllowlistEntry,
  allowChoices,
  allowingEntries,
  describeEntry,
  entryMatches,
  entryNeedsEvidence,
  isAllowed,
  isSocketAllowed,
  removeAllowlistEntry,
} from '#common/allowlist.ts';
import type { AllowlistEntry } from '#common/settings.ts';
import { DEFAULT_SETTINGS, SETTINGS_VERSION, migrateSettings, parseSettings } from '#common/settings.ts';
import { makeProcess, makeSocket } from './desktop-fixtures.ts';

const SHA = 'ab'.repeat(32);
const python = makeProcess({
  name: 'python3',
  path: '/usr/bin/python3.11',
  argv: ['python3', '-m', 'http.server', '596'],
  user: 'bob',
  exeSha256: SHA,
  exeDeleted: false,
  package: { manager: 'dpkg', name: 'python3.11-minimal', version: '3.11.2-6', modified: false },
  unit: 'cron.service',
});

test('each kind of entry matches what it names, and only that', () => {
  const cases: ReadonlyArray<readonly [AllowlistEntry, boolean]> = [
    [{ by: 'hash', sha256: SHA, port: null }, true],
    [{ by: 'hash', sha256: 'cd'.repeat(32), port: null }, false],
    [{ by: 'package', manager: 'dpkg', name: 'python3.11-minimal', port: null }, true],
    [{ by: 'package', manager: 'rpm', name: 'python3.11-minimal', port: null }, false],
    [{ by: 'path', path: '/usr/bin/python3.11', argsPrefix: [], port: null }, true],
    [{ by: 'path', path: '/usr/bin/python3.11', argsPrefix: ['-m', 'http.server'], port: null }, true],
    [{ by: 'path', path: '/usr/bin/python3.11', argsPrefix: ['-m', 'evil'], port: null }, false],
    [{ by: 'path', path: '/tmp/python3.11', argsPrefix: [], port: null }, false],
    [{ by: 'user', user: 'bob', port: null }, true],
    [{ by: 'user', user: 'alice', port: null }, false],
    [{ by: 'unit', unit: 'cron.service', port: null }, true],
    [{ by: 'unit', unit: 'ssh.service', port: null }, false],
    [{ by: 'name', name: 'python3', port: null }, true],
    [{ by: 'name', name: 'Python3', port: null }, false],
  ];
  for (const [entry, expected] of cases) assert.equal(entryMatches(entry, python, 596, 'linux'), expected, JSON.stringify(entry));
});

test('an entry needs the evidence exactly when a change to the evidence alone changes its decision', () => {
  const entries: AllowlistEntry[] = [
    { by: 'hash', sha256: SHA, port: null },
    { by: 'package', manager: 'dpkg', name: 'python3.11-minimal', port: null },
    { by: 'path', path: '/usr/bin/python3.11', argsPrefix: [], port: null },
    { by: 'unit', unit: 'cron.service', port: null },
    { by: 'user', user: 'bob', port: null },
    { by: 'name', name: 'python3', port: null },
  ];
  // Changes to the evidence alone (what a one-shot scan without --details or --json does not capture).
  const variants = [{ ...python, exeDeleted: true }, { ...python, exeSha256: 'cd'.repeat(32) }, { ...python, package: null }, { ...python, unit: null }];
  for (const entry of entries) {
    assert.equal(entryMatches(entry, python, 596, 'linux'), true, JSON.stringify(entry));
    const decidedByEvidence = variants.some((v) => !entryMatches(entry, v, 596, 'linux'));
    assert.equal(decidedByEvidence, entryNeedsEvidence(entry), JSON.stringify(entry));
  }
});

test('allowing python3 from one path and arguments does not silence every Python program', () => {
  const entry: AllowlistEntry = { by: 'path', path: '/usr/bin/python3.11', argsPrefix: ['-m', 'http.server'], port: 596 };
  const other = { ...python, argv: ['python3', '/tmp/x.py'] };
  assert.equal(isAllowed([entry], python, 596, 'linux'), true);
  assert.equal(isAllowed([entry], other, 596, 'linux'), false);
});

test('a deleted executable or a modified packaged file is never covered by its path or package', () => {
  const deleted = { ...python, exeDeleted: true };
  const modified = { ...python, package: { ...python.package!, modified: true } };
  assert.equal(isAllowed([{ by: 'path', path: '/usr/bin/python3.11', argsPrefix: [], port: null }], deleted, 596, 'linux'), false);
  assert.equal(isAllowed([{ by: 'package', manager: 'dpkg', name: 'python3.11-minimal', port: null }], deleted, 596, 'linux'), false);
  assert.equal(isAllowed([{ by: 'package', manager: 'dpkg', name: 'python3.11-minimal', port: null }], modified, 596, 'linux'), false);
  assert.equal(isAllowed([{ by: 'hash', sha256: SHA, port: null }], { ...python, exeSha256: null }, 596, 'linux'), false, 'unknown hash');
});

test('the path case rule is the platform\u2019s: case-insensitive on Windows and macOS only', () => {
  const entry: AllowlistEntry = { by: 'path', path: 'C:\\Tools\\NC.EXE', argsPrefix: [], port: null };
  const proc = makeProcess({ name: 'nc.exe', path: 'c:\\tools\\nc.exe' });
  assert.equal(isAllowed([entry], proc, 596, 'linux'), false);
  assert.equal(isAllowed([entry], proc, 596, 'win32'), true);
  assert.equal(isAllowed([entry], proc, 596, 'darwin'), true);
});

test('port scope, unknown owners, and the socket form use the watched port', () => {
  const entry: AllowlistEntry = { by: 'name', name: 'nc', port: 8080 };
  assert.equal(isAllowed([entry], makeProcess(), 596, 'linux'), false);
  assert.equal(isAllowed([entry], null, 8080, 'linux'), false);
  assert.equal(isSocketAllowed([entry], makeSocket({ watchedPort: 8080, localPort: 8080 }), 'linux'), true);
  assert.deepEqual(allowingEntries([entry], makeProcess(), [596, 8080], 'linux'), [entry]);
  assert.deepEqual(allowingEntries([entry], makeProcess(), [596], 'linux'), []);
});

test('the precise choices go from narrowest to broadest, each one matching the process it came from', () => {
  const choices = allowChoices(python, 596);
  assert.deepEqual(
    choices.map((c) => c.entry.by),
    ['hash', 'path', 'path', 'package', 'unit', 'user'],
  );
  for (const c of choices) assert.equal(isAllowed([c.entry], python, 596, 'linux'), true, c.label);
  for (const c of choices) assert.equal(isAllowed([c.entry], python, 8080, 'linux'), false, `${c.label} is per port`);
  assert.deepEqual(allowChoices(makeProcess({ path: null, user: null }), null).map((c) => c.entry), [{ by: 'name', name: 'nc', port: null }]);
  assert.equal(allowChoices({ ...python, exeDeleted: true }, 596).some((c) => c.entry.by === 'path' || c.entry.by === 'package'), false);
  assert.equal(describeEntry(choices[0]!.entry), `binary with SHA-256 ${SHA.slice(0, 16)}…, port 596`);
});

test('adding is idempotent and removing removes only the same rule', () => {
  const a: AllowlistEntry = { by: 'name', name: 'nc', port: 596 };
  const b: AllowlistEntry = { by: 'path', path: '/usr/bin/nc', argsPrefix: ['-l'], port: null };
  const both = addAllowlistEntry(addAllowlistEntry([], a), b);
  assert.deepEqual(addAllowlistEntry(both, { port: 596, name: 'nc', by: 'name' }), [a, b]);
  assert.deepEqual(removeAllowlistEntry(both, { ...b, argsPrefix: ['-l'] }), [a]);
  assert.deepEqual(removeAllowlistEntry(both, { ...b, argsPrefix: [] }), [a, b]);
});

test('version-1 settings migrate: path entries keep matching by path, names by name', () => {
  const { version: _v, ...v1 } = DEFAULT_SETTINGS;
  const old = { ...v1, allowlist: [{ program: '/usr/sbin/sshd', port: null }, { program: 'nc', port: 596 }] };
  const parsed = parseSettings(JSON.parse(JSON.stringify(old)));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  assert.equal(parsed.settings.version, SETTINGS_VERSION);
  assert.deepEqual(parsed.settings.allowlist, [
    { by: 'path', path: '/usr/sbin/sshd', argsPrefix: [], port: null },
    { by: 'name', name: 'nc', port: 596 },
  ]);
  const sshd = makeProcess({ name: 'sshd', path: '/usr/sbin/sshd' });
  assert.equal(isAllowed(parsed.settings.allowlist, sshd, 22, 'linux'), true);
  assert.equal(isAllowed(parsed.settings.allowlist, makeProcess({ path: '/tmp/nc' }), 596, 'linux'), true);
});

test('migration leaves current and unknown documents to validation', () => {
  assert.deepEqual(migrateSettings(DEFAULT_SETTINGS), DEFAULT_SETTINGS);
  assert.equal(parseSettings({ ...DEFAULT_SETTINGS, version: 99 }).ok, false);
  assert.equal(parseSettings({ ...DEFAULT_SETTINGS, version: 'x' }).ok, false);
  assert.equal(parseSettings({ ...DEFAULT_SETTINGS, allowlist: [{ program: '', port: null }] }).ok, false);
  assert.equal(parseSettings({ ...DEFAULT_SETTINGS, allowlist: [{ by: 'hash', sha256: 'XYZ', port: null }] }).ok, false);
  assert.equal(parseSettings([1]).ok, false);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addAllowlistEntry,
  allowlistEntryFor,
  entryMatches,
  isAllowlisted,
  isProcessAllowlisted,
  removeAllowlistEntry,
} from '../../electron/common/allowlist.ts';
import { makeProcess, makeSocket } from './desktop-fixtures.ts';

test('a path entry matches the executable path on any port when port is null', () => {
  const entry = { program: '/usr/bin/nc', port: null };
  assert.equal(entryMatches(entry, makeProcess(), 596), true);
  assert.equal(entryMatches(entry, makeProcess(), 8080), true);
});

test('a path entry does not match a process that only shares the name (names are spoofable)', () => {
  const entry = { program: '/usr/bin/nc', port: null };
  assert.equal(entryMatches(entry, makeProcess({ path: '/tmp/nc' }), 596), false);
  assert.equal(entryMatches(entry, makeProcess({ path: null }), 596), false);
});

test('a name entry matches the process name exactly, case-sensitively', () => {
  assert.equal(entryMatches({ program: 'nc', port: 596 }, makeProcess(), 596), true);
  assert.equal(entryMatches({ program: 'NC', port: 596 }, makeProcess(), 596), false);
  assert.equal(entryMatches({ program: 'n', port: 596 }, makeProcess(), 596), false);
});

test('a port-scoped entry matches only that port', () => {
  assert.equal(entryMatches({ program: 'nc', port: 596 }, makeProcess(), 597), false);
});

test('paths compare case-insensitively only when asked (Windows, macOS)', () => {
  const entry = { program: 'C:\\Tools\\NC.EXE', port: null };
  const proc = makeProcess({ name: 'nc.exe', path: 'c:\\tools\\nc.exe' });
  assert.equal(entryMatches(entry, proc, 596), false);
  assert.equal(entryMatches(entry, proc, 596, { caseInsensitivePaths: true }), true);
});

test('an unknown owner is never allowlisted', () => {
  const hidden = makeSocket({ process: null, pid: null });
  assert.equal(isAllowlisted([{ program: 'nc', port: null }], hidden), false);
});

test('isAllowlisted uses the socket watched port', () => {
  const socket = makeSocket({ watchedPort: 8080, localPort: 8080 });
  assert.equal(isAllowlisted([{ program: 'nc', port: 596 }], socket), false);
  assert.equal(isAllowlisted([{ program: 'nc', port: 8080 }], socket), true);
});

test('isProcessAllowlisted checks every watched port', () => {
  assert.equal(isProcessAllowlisted([{ program: 'nc', port: 8080 }], makeProcess(), [596, 8080]), true);
  assert.equal(isProcessAllowlisted([{ program: 'nc', port: 8080 }], makeProcess(), [596]), false);
});

test('allowlistEntryFor prefers the path and falls back to the name', () => {
  assert.deepEqual(allowlistEntryFor(makeProcess(), 596), { program: '/usr/bin/nc', port: 596 });
  assert.deepEqual(allowlistEntryFor(makeProcess({ path: null }), null), { program: 'nc', port: null });
});

test('adding is idempotent and removing removes only the same rule', () => {
  const a = { program: 'nc', port: 596 };
  const b = { program: 'nc', port: null };
  const once = addAllowlistEntry([], a);
  assert.deepEqual(addAllowlistEntry(once, { ...a }), [a]);
  const both = addAllowlistEntry(once, b);
  assert.deepEqual(both, [a, b]);
  assert.deepEqual(removeAllowlistEntry(both, { program: 'nc', port: 596 }), [b]);
  assert.deepEqual(removeAllowlistEntry(both, { program: 'x', port: 596 }), [a, b]);
});

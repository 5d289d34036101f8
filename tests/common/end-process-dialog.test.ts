import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endProcessDialog } from '#common/end-process-dialog.ts';
import { makeProcess } from './desktop-fixtures.ts';

test('the dialog names the process by name, pid, executable, user and start', () => {
  const dialog = endProcessDialog(makeProcess());
  assert.equal(dialog.message, 'End nc (pid 4711)?');
  assert.match(dialog.detail, /^Executable: \/usr\/bin\/nc$/m);
  assert.match(dialog.detail, /^Command: nc -l 596$/m);
  assert.match(dialog.detail, /^User: bob$/m);
  assert.match(dialog.detail, /^Started: 2026-01-31T10:00:00.000Z$/m);
  assert.deepEqual(dialog.buttons, ['Cancel', 'End nc']);
});

test('Cancel is both the default button and the Escape answer', () => {
  const dialog = endProcessDialog(makeProcess());
  assert.equal(dialog.buttons[dialog.defaultId], 'Cancel');
  assert.equal(dialog.buttons[dialog.cancelId], 'Cancel');
});

test('a hostile name cannot fake extra lines or reorder the text', () => {
  const dialog = endProcessDialog(makeProcess({ name: 'sshd\nUser: root\u202e', path: null, user: null }));
  assert.equal(dialog.message.includes('\n'), false);
  assert.equal(dialog.message.includes('\u202e'), false);
  assert.equal(dialog.detail.split('\n').filter((l) => l.startsWith('User:')).length, 1);
  assert.match(dialog.detail, /^Executable: hidden \(not elevated\)$/m);
});

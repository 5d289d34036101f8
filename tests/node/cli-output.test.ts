/** The CLI's output: each health issue is printed once while it lasts, whatever the other issues do. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthIssue } from '#common/model.ts';
import { issuePrinter } from '#node/cli/output.ts';

test('issuePrinter: an issue is printed once while it lasts, even as others come and go or its count changes; again after it went away', () => {
  const printed: string[] = [];
  const print = issuePrinter((text) => printed.push(text));
  const locked = (pending: number): HealthIssue => ({ code: 'history-busy', message: 'The history is locked by another process.', hint: 'Nothing is lost.', pending });
  const netns = (name: string): HealthIssue => ({ code: 'namespaces-hidden', message: `Cannot read the sockets of network namespace ${name}.` });
  print([locked(1)]);
  print([locked(2), netns('a')]);
  print([locked(5), netns('a'), netns('b')]);
  print([locked(9)]);
  assert.deepEqual(printed, [
    'ghostport: The history is locked by another process. Nothing is lost.\n',
    'ghostport: Cannot read the sockets of network namespace a.\n',
    'ghostport: Cannot read the sockets of network namespace b.\n',
  ]);
  print([]);
  print([locked(1)]);
  assert.equal(printed.length, 4, 'back after it ended: printed again');
});

/** The long-lived probe shell: faithful output, no injection, bounded, and it recovers. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShellCoprocess, shellQuote } from '#node/shell-coprocess.ts';

const shell = new ShellCoprocess();
const dir = mkdtempSync(join(tmpdir(), 'ghostport-shell-'));
after(() => {
  shell.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('runs commands one after another with their output and status', async () => {
  assert.deepEqual(await shell.run('printf', ['%s\\n', 'one', 'two'], 5000), { kind: 'ok', stdout: 'one\ntwo\n' });
  assert.deepEqual(await shell.run('printf', ['no newline'], 5000), { kind: 'ok', stdout: 'no newline' });
  assert.equal((await shell.run('false', [], 5000)).kind, 'failed');
  assert.equal((await shell.run('ghostport-no-such-tool', [], 5000)).kind, 'missing');
  const pid = shell.pid;
  await shell.run('true', [], 5000);
  assert.equal(shell.pid, pid, 'the same shell serves every command');
});

test('arguments are data, never shell code', async () => {
  const marker = join(dir, 'pwned');
  const hostile = [`'; touch ${marker}; '`, `$(touch ${marker})`, `\`touch ${marker}\``, `a\nb`, `"quoted" \\ back`];
  const result = await shell.run('printf', ['%s|', ...hostile], 5000);
  assert.deepEqual(result, { kind: 'ok', stdout: `${hostile.join('|')}|` });
  assert.equal(existsSync(marker), false);
  assert.equal(shellQuote(`it's`), `'it'\\''s'`);
});

test('concurrent calls are serialized, each gets its own answer', async () => {
  const answers = await Promise.all(['a', 'b', 'c', 'd'].map((x) => shell.run('printf', [x], 5000)));
  assert.deepEqual(answers.map((a) => (a.kind === 'ok' ? a.stdout : a.kind)), ['a', 'b', 'c', 'd']);
});

test('a command that hangs is bounded: the shell is killed and the next call gets a fresh one', async () => {
  const before = shell.pid;
  const started = Date.now();
  const result = await shell.run('sleep', ['30'], 300);
  assert.equal(result.kind, 'failed');
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(await shell.run('printf', ['alive'], 5000), { kind: 'ok', stdout: 'alive' });
  assert.notEqual(shell.pid, before);
});

test('the tool is looked up on the current PATH, not the one the shell started with', async () => {
  const saved = process.env.PATH;
  try {
    process.env.PATH = dir;
    assert.equal((await shell.run('ss', ['-V'], 5000)).kind, 'missing');
  } finally {
    process.env.PATH = saved;
  }
  assert.equal((await shell.run('ss', ['-V'], 5000)).kind, 'ok');
});

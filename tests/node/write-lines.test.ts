/** writeLines: every byte arrives in order through a real pipe read slowly, and a reader that leaves stops it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeLines } from '#node/write-lines.ts';

// Short, multi-byte (3 and 4 bytes per character in UTF-8) and longer-than-a-batch lines, mixed.
const lines = Array.from({ length: 3000 }, (_, i) => (i % 500 === 7 ? `${'€'.repeat(40_000)}\n` : `${i} ${'日本'.repeat(i % 50)} 🙂\n`));

test('through a real pipe read slowly, the reader gets every line, in order, byte for byte', async () => {
  // A reader that pauses after each chunk, so the writer meets back-pressure again and again.
  const reader = spawn(process.execPath, ['-e', "const c=[];process.stdin.on('data',(d)=>{c.push(d);process.stdin.pause();setTimeout(()=>process.stdin.resume(),2)});process.stdin.on('end',()=>process.stdout.write(require('crypto').createHash('sha256').update(Buffer.concat(c)).digest('hex')))"], { stdio: ['pipe', 'pipe', 'inherit'] });
  let digest = '';
  reader.stdout.on('data', (d: Buffer) => (digest += d.toString()));
  assert.equal(await writeLines(lines, reader.stdin, 4096), true);
  reader.stdin.end();
  await once(reader, 'exit');
  const { createHash } = await import('node:crypto');
  assert.equal(digest, createHash('sha256').update(lines.join('')).digest('hex'));
});

test('a reader that goes away stops the writer: false, and the rest of the lines are never pulled', async () => {
  const reader = spawn('head', ['-c', '100'], { stdio: ['pipe', 'ignore', 'inherit'] });
  reader.stdin.on('error', () => undefined);
  let pulled = 0;
  const endless = (function* () {
    for (;;) {
      pulled++;
      yield 'x'.repeat(100) + '\n';
    }
  })();
  assert.equal(await writeLines(endless, reader.stdin, 4096), false);
  assert.ok(pulled < 100_000, `stopped after ${pulled} lines`);
});

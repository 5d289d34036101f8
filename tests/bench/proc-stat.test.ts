/** The benchmark counts the CPU of live helpers (the probe shell), not only of reaped children. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readChildrenCpuMs } from './proc-stat.ts';

test('a live child that burned CPU is counted before it exits', { skip: process.platform !== 'linux' }, async () => {
  const before = readChildrenCpuMs();
  const child = spawn('sh', ['-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo done; sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await once(child.stdout!, 'data');
    const spent = readChildrenCpuMs() - before;
    assert.ok(spent >= 20, `the busy loop's CPU is seen while the child lives: ${spent} ms`);
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
});

/**
 * Pid reuse between detection and "end process": `isStillRunning` tells a process from a later
 * one with the same pid by its start time, checked on a pid the kernel really hands out twice
 * (root: /proc/sys/kernel/ns_last_pid picks the next pid).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createOwnerReader } from '#node/os-source.ts';

const { isStillRunning, readProcessInfo } = createOwnerReader();

const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root (writes ns_last_pid)' : false;
const children = new Set<ChildProcess>();

function start(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.add(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

describe('pid reuse', { skip }, () => {
  after(async () => {
    await Promise.all([...children].map(stop));
  });

  test('the same pid with another start time is another process', { timeout: 60_000 }, async (t) => {
    const first = start();
    const pid = first.pid!;
    const info = await readProcessInfo(pid);
    assert.ok(info?.startedAt);
    const ref = { pid, startedAt: info.startedAt };
    assert.equal(await isStillRunning(ref), true);
    assert.equal(await isStillRunning({ pid, startedAt: null }), false, 'no start time, no identity');
    assert.equal(await isStillRunning({ pid, startedAt: new Date(Date.parse(info.startedAt) - 1000).toISOString() }), false);
    await stop(first);
    assert.equal(await isStillRunning(ref), false, 'gone');
    // Start times are counted in clock ticks (10 ms): let the next one be distinguishable.
    await new Promise((r) => setTimeout(r, 100));
    let second: ChildProcess | null = null;
    for (let attempt = 0; attempt < 30 && !second; attempt++) {
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      const candidate = start();
      if (candidate.pid === pid) second = candidate;
      else await stop(candidate);
    }
    if (!second) return t.skip('the kernel would not hand out the same pid again (busy host)');
    const now = await readProcessInfo(pid);
    assert.ok(now?.startedAt);
    assert.notEqual(now.startedAt, ref.startedAt);
    assert.equal(await isStillRunning(ref), false, 'the reused pid is refused under the old identity');
    assert.equal(await isStillRunning({ pid, startedAt: now.startedAt }), true, 'and accepted under its own');
    await stop(second);
  });
});

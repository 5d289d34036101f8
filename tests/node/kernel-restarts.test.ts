/**
 * Kernel helpers that die are started again (Linux, root, first PID namespace, tracefs and the
 * eBPF helper built): the real engine's tracefs reader and eBPF helper are killed with SIGKILL
 * while it watches; health turns degraded and says so, then ok again with the restart counted,
 * and a 5 ms listener and a UDP datagram after the recovery are caught with source "kernel".
 * The backoff itself (1 s doubling to a minute, no busy loop when a helper can never start) is
 * checked on a source that refuses to start again. Kernel events are global: every assertion
 * is about this test's own processes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildBpf } from '../../electron/build/build-native.ts';
import { Engine } from '#node/engine.ts';
import type { KernelEventSource, KernelEventStatus, KernelTransition } from '#node/kernel-events.ts';
import { restartOnFailure } from '#node/kernel-restarts.ts';
import type { PortEvent } from '#common/model.ts';
import { waitFor } from '../support/port-holder.ts';

const PORT = 596;
const PY = '/usr/bin/python3';
const INIT_PID_NAMESPACE = process.platform === 'linux' && readlinkSync('/proc/self/ns/pid') === 'pid:[4026531836]';
const built = INIT_PID_NAMESPACE && process.getuid?.() === 0 ? buildBpf(fileURLToPath(new URL('../../', import.meta.url))) : null;
const skip =
  process.platform !== 'linux' || process.getuid?.() !== 0
    ? 'needs Linux and root (tracefs, BPF)'
    : !INIT_PID_NAMESPACE
      ? 'runs in a PID namespace of its own (npm test isolates itself so): kernel events are off there by design; npm test runs this file again in the first PID namespace'
      : !built?.ok
        ? `the eBPF helper is not built here: ${built?.message}`
        : !existsSync('/sys/kernel/tracing/instances') && !existsSync('/sys/kernel/debug/tracing/instances')
          ? 'tracefs is not mounted'
          : false;

/** This process's children whose command line contains `marker`. */
function helpers(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Runs a short Python program to its end; returns its pid. */
function run(program: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(PY, ['-c', `${program}\nimport time; time.sleep(0.3)`], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`python exited with ${code}`))));
  });
}

describe('kernel helpers killed while watching', { skip }, () => {
  for (const [helper, marker] of [
    ['the tracefs reader', 'trace_pipe'],
    ['the eBPF helper', 'ghostport-bpf'],
  ] as const) {
    test(`${helper}: health degrades, the helper runs again, health is ok, and events flow with source "kernel"`, { timeout: 60_000 }, async () => {
      const engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
      const events: PortEvent[] = [];
      engine.onScan((_, batch) => events.push(...batch));
      engine.start();
      try {
        await waitFor(() => engine.snapshot?.sight?.kernelEvents === true && engine.snapshot.health === 'ok', 10_000);
        const [first] = helpers(marker);
        assert.ok(first, `${helper} runs`);
        process.kill(first, 'SIGKILL');
        const degraded = await waitFor(() => (engine.snapshot?.issues.some((i) => i.code === 'kernel-events-unavailable') ? engine.snapshot : undefined), 5000);
        assert.equal(degraded.health, 'degraded');
        assert.match(degraded.issues.find((i) => i.code === 'kernel-events-unavailable')!.message, /exited \(SIGKILL\).*starts it again in 1 s/);
        const recovered = await waitFor(() => (engine.snapshot?.health === 'ok' && engine.snapshot.sight?.restarts === 1 ? engine.snapshot : undefined), 10_000);
        assert.equal(recovered.issues.length, 0);
        const again = helpers(marker);
        assert.equal(again.length, 1, 'one helper again');
        assert.notEqual(again[0], first);

        const listener = await run(`import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT})); s.listen(); time.sleep(0.005); s.close()`);
        const tcp = await waitFor(() => events.find((e) => e.type === 'appeared' && e.socket.pid === listener), 5000);
        assert.equal(tcp.source, 'kernel');
        const sender = await run(`import socket
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b'x', ('127.0.0.1',${PORT})); u.close()`);
        const udp = await waitFor(() => events.find((e) => e.type === 'appeared' && e.socket.pid === sender && e.socket.protocol === 'udp'), 5000);
        assert.equal(udp.source, 'kernel');
        assert.equal(udp.socket.remotePort, PORT);
      } finally {
        await engine.stop();
      }
      assert.deepEqual(helpers(marker), [], 'no helper left after stop');
      const instances = ['/sys/kernel/tracing/instances', '/sys/kernel/debug/tracing/instances'].find((d) => existsSync(d));
      const left = instances ? readdirSync(instances).filter((n) => n.startsWith(`ghostport-${process.pid}-`)) : [];
      assert.deepEqual(left, [], 'no tracefs instance left');
    });
  }
});

test('a helper that dies and can never start again: tries back off, doubling to the longest wait, and health says why', { timeout: 30_000 }, async () => {
  let starts = 0;
  let deliver: ((batch: readonly KernelTransition[]) => void) | null = null;
  let failure: string | null = null;
  const startedAt: number[] = [];
  const flaky: KernelEventSource = {
    async start(_, onBatch): Promise<KernelEventStatus> {
      startedAt.push(Date.now());
      if (starts++ > 0) return { active: false, reason: 'EPERM', fault: true, misses: 'everything', hint: '' };
      deliver = onBatch;
      failure = null;
      return { active: true, covers: 'a test' };
    },
    setPorts: () => undefined,
    stop: async () => undefined,
    condition: () => ({ lost: 0, coalesced: 0, failure }),
  };
  const source = restartOnFailure(flaky, { firstDelayMs: 50, maxDelayMs: 400 });
  const seen: string[] = [];
  assert.equal((await source.start([PORT], () => seen.push(source.condition!().failure ?? 'ok'))).active, true);
  failure = 'the helper exited (SIGKILL)';
  deliver!([]);
  assert.match(source.condition!().failure ?? '', /exited \(SIGKILL\); Ghostport starts it again in 50 ms$/);
  await waitFor(() => (starts >= 6 ? true : undefined), 10_000);
  await source.stop();
  const stopped = starts;
  const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i]!);
  // 50, 100, 200, 400, 400 ms: doubling, then held at the longest wait (timers may run late, never early).
  for (const [i, least] of [50, 100, 200, 400, 400].entries()) assert.ok(gaps[i]! >= least - 5, `wait ${i + 1}: ${gaps[i]} ms, at least ${least}`);
  assert.match(seen.at(-1) ?? '', /could not be started again \(EPERM\); Ghostport starts it again in 400 ms \(\d+ tries failed so far\)/);
  assert.equal(source.condition!().restarts, 0);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(starts, stopped, 'no try after stop');
});

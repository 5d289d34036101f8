/**
 * Kernel helpers that die are started again (Linux, root, first PID namespace, tracefs and the
 * eBPF helper built): the real engine's tracefs reader and eBPF helper are killed with SIGKILL
 * while it watches; health turns degraded and says so, then ok again with the restart counted,
 * and a 5 ms listener and a UDP datagram after the recovery are caught with source "kernel".
 * The backoff itself (1 s doubling to a minute, no busy loop when a helper can never start) is
 * checked on a source that refuses to start again. A source that fails at start where it should
 * work is tried again the same way, and a non-fault gap is not: checked on scripted sources, and
 * for real on an engine whose tracefs mount point and eBPF helper do not work at first and are
 * made to work while it watches (polling only, then TCP, then both, without a restart).
 * Kernel events are global: every assertion is about this test's own processes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { Engine } from '#node/engine.ts';
import { combineKernelEvents, createTracefsEvents, type KernelEventSource, type KernelEventStatus, type KernelTransition } from '#node/kernel-events.ts';
import { createBpfEvents, defaultBpfHelperPath } from '#node/bpf-events.ts';
import { createOsSource } from '#node/os-source.ts';
import { restartOnFailure } from '#node/kernel-restarts.ts';
import type { PortEvent } from '#common/model.ts';
import { waitFor } from '../support/port-holder.ts';
import { kernelSkip } from '../support/kernel-skip.ts';

const PORT = 596;
const PY = '/usr/bin/python3';
const skip = kernelSkip({ bpf: true, tracefs: true });

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

/** A 5 ms listener and a UDP datagram on the port, each caught by the engine's kernel events. */
async function expectKernelEvents(events: readonly PortEvent[]): Promise<void> {
  const listener = await run(`import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT})); s.listen(); time.sleep(0.005); s.close()`);
  const tcp = await waitFor(() => events.find((e) => e.type === 'appeared' && e.socket.pid === listener), 5000);
  assert.equal(tcp.source, 'kernel');
  const sender = await run(`import socket
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b'x', ('127.0.0.1',${PORT})); u.close()`);
  const udp = await waitFor(() => events.find((e) => e.type === 'appeared' && e.socket.pid === sender && e.socket.protocol === 'udp'), 5000);
  assert.equal(udp.source, 'kernel');
  assert.equal(udp.socket.remotePort, PORT);
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

        await expectKernelEvents(events);
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

test('a source that fails at start: a fault is tried again with the same backoff and reported with the next try, a gap that is no fault is not; once it runs, the combined status says so and it follows the ports', { timeout: 30_000 }, async () => {
  const tries: { at: number; ports: readonly number[] }[] = [];
  const watched: (readonly number[])[] = [];
  const late: KernelEventSource = {
    async start(ports): Promise<KernelEventStatus> {
      tries.push({ at: Date.now(), ports });
      return tries.length < 4 ? { active: false, reason: `BPF refused (${tries.length})`, fault: true, misses: 'UDP', hint: '' } : { active: true, covers: 'UDP' };
    },
    setPorts: (ports) => watched.push(ports),
    stop: async () => undefined,
  };
  let notRootStarts = 0;
  const notRoot: KernelEventSource = {
    async start(): Promise<KernelEventStatus> {
      notRootStarts++;
      return { active: false, reason: 'not root', fault: false, misses: 'TCP', hint: '' };
    },
    setPorts: () => undefined,
    stop: async () => undefined,
  };
  const source = combineKernelEvents([late, notRoot].map((s) => restartOnFailure(s, { firstDelayMs: 50, maxDelayMs: 100 })));
  const told: (KernelEventStatus | null)[] = [];
  const first = await source.start([PORT], () => told.push(source.status!()));
  assert.equal(first.active, false);
  assert.equal(first.active === false && first.fault, true);
  const reasonOf = (status: KernelEventStatus | null | undefined) => (status && !status.active ? status.reason : '');
  assert.match(reasonOf(source.status!()), /^BPF refused \(1\); Ghostport starts it again in 50 ms \(1 try failed so far\); not root$/);
  source.setPorts([PORT, 597]);
  assert.deepEqual(watched, [], 'a source that is down is not told the ports; its next try is');
  const up = await waitFor(() => told.find((s) => s?.active), 5000);
  assert.deepEqual(up, { active: true, covers: 'UDP', gaps: [{ active: false, reason: 'not root', fault: false, misses: 'TCP', hint: '' }] });
  assert.equal(tries.length, 4);
  assert.deepEqual(tries.at(-1)!.ports, [PORT, 597]);
  const gaps = tries.slice(1).map((t, i) => t.at - tries[i]!.at);
  for (const [i, least] of [50, 100, 100].entries()) assert.ok(gaps[i]! >= least - 5, `wait ${i + 1}: ${gaps[i]} ms, at least ${least}`);
  assert.match(told.map(reasonOf).find((r) => r.includes('(3)')) ?? '', /^BPF refused \(3\); Ghostport starts it again in 100 ms \(3 tries failed so far\); not root$/);
  assert.equal(source.condition!().restarts, 0, 'a source that never ran was not restarted');
  source.setPorts([PORT]);
  assert.deepEqual(watched, [[PORT]]);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(notRootStarts, 1, 'a gap that is no fault is not tried again');
  assert.equal(tries.length, 4, 'no try once it runs');
  await source.stop();
  assert.equal(source.status!(), null);
});

// It mounts tracefs itself: only the eBPF helper must be built.
const tracefsSkip = kernelSkip({ bpf: true });

test('sources that fail at start come up while the engine watches: polling only, then TCP, then both, events with source "kernel", without a restart', { skip: tracefsSkip, timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync('/tmp/ghostport-late-');
  // No mount point yet: tracefs cannot be mounted there (a fault). A helper that cannot load its programs yet (a fault).
  const mounts = [`${dir}/tracing`];
  const helper = `${dir}/ghostport-bpf`;
  // Entry by entry, never recursively: a mount point still mounted (a failure) stays, tracefs untouched.
  t.after(() => {
    rmSync(helper, { force: true });
    rmSync(`${helper}.new`, { force: true });
    for (const made of [mounts[0]!, dir]) if (existsSync(made)) rmdirSync(made);
  });
  writeFileSync(helper, '#!/bin/sh\necho "error the BPF programs cannot be loaded yet"\nexit 1\n');
  chmodSync(helper, 0o755);
  const backoff = { firstDelayMs: 100, maxDelayMs: 400 };
  const kernelEvents = combineKernelEvents([restartOnFailure(createTracefsEvents({ mounts }), backoff), restartOnFailure(createBpfEvents({ path: helper }), backoff)]);
  const engine = new Engine({ ports: [PORT], intervalMs: 60_000, os: createOsSource({ kernelEvents }) });
  const events: PortEvent[] = [];
  engine.onScan((_, batch) => events.push(...batch));
  engine.start();
  try {
    const blind = await waitFor(() => (engine.snapshot?.issues.some((i) => i.code === 'kernel-events-unavailable') ? engine.snapshot : undefined), 5000);
    assert.equal(blind.health, 'degraded');
    assert.equal(blind.sight?.kernelEvents, false);
    assert.match(blind.sight?.note ?? '', /kernel events: tracefs is not mounted and could not be mounted; Ghostport starts it again in \d+ ms \(\d+ tr(y|ies) failed so far\); the BPF programs cannot be loaded yet; Ghostport starts it again/);
    assert.match(blind.issues.find((i) => i.code === 'kernel-events-unavailable')!.message, /^Kernel events are unavailable \(tracefs is not mounted.*starts it again in \d+ ms/);

    mkdirSync(mounts[0]!);
    const tcpOnly = await waitFor(() => (engine.snapshot?.sight?.kernelEvents ? engine.snapshot : undefined), 5000);
    assert.equal(tcpOnly.health, 'degraded');
    assert.match(tcpOnly.issues.find((i) => i.code === 'kernel-events-unavailable')!.message, /^Kernel events are partly unavailable \(the BPF programs cannot be loaded yet; Ghostport starts it again/);

    // Made to work as a build would: the real helper put in place at once.
    copyFileSync(defaultBpfHelperPath(), `${helper}.new`);
    renameSync(`${helper}.new`, helper);
    const full = await waitFor(() => (engine.snapshot?.health === 'ok' ? engine.snapshot : undefined), 5000);
    assert.deepEqual(full.issues, []);
    assert.match(full.sight?.note ?? '', /^Kernel events report TCP sockets .*; UDP datagrams/);
    assert.equal(full.sight?.restarts, undefined, 'sources that never ran were not restarted');

    await expectKernelEvents(events);
  } finally {
    await engine.stop();
  }
  assert.deepEqual(helpers('ghostport-bpf'), [], 'no helper left after stop');
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'the tracefs it mounted is unmounted');
  assert.ok(!existsSync(`${mounts[0]}/instances`));
});

/**
 * The benchmark's own parts: the arithmetic and target verdicts (pure), and the child processes
 * and /proc readers it measures with, against real sockets. The holder is tested on a free port
 * rather than 596, so this test cannot collide with others binding 596 on the same host.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addRatios, evaluateTargets, formatReport } from './bench-report.ts';
import type { BenchReport, UnratedRow } from './bench-report.ts';
import { spawnNodeChild, stopAllChildren } from './child-link.ts';
import type { MethodName, PortState } from './methods.ts';
import { readCpuTimes, readRssMb } from './proc-stat.ts';
import { readProcNet } from '#node/proc-net.ts';
import { runCommand } from '#node/run-command.ts';
import { ssArgs } from '#node/scanner.ts';
import { parseSsOutput } from '#common/socket-parse.ts';
import type { RawSocket } from '#common/socket-parse.ts';
import { connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { planFarm } from './socket-farm.ts';
import { burstAddress } from './port-holder.ts';
import { median, percentile, ratio, round } from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const linuxRoot = process.platform === 'linux' && process.getuid?.() === 0 ? false : 'needs Linux and root';

after(async () => {
  await stopAllChildren();
});

describe('stats', () => {
  test('percentiles interpolate between ranks', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([1, 2, 3, 4]), 2.5);
    assert.equal(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90), 91);
    assert.equal(percentile([5], 95), 5);
    assert.ok(Number.isNaN(median([])));
  });
  test('ratio and rounding', () => {
    assert.equal(ratio(100, 4), 25);
    assert.equal(ratio(1, 0), null);
    assert.equal(round(1.23456, 2), 1.23);
  });
});

function row(sockets: number, method: MethodName, medianMs: number, cpuMsPerScan: number, port596: PortState = 'held'): UnratedRow {
  return { sockets, method, medianMs, p90Ms: medianMs * 1.2, cpuMsPerScan, port596, samples: 20, childCpuMsPerScan: cpuMsPerScan / 2, wrongAnswers: 0 };
}

function synthetic(overrides: { steady?: number; bare?: number; found?: number; lsof?: number; si?: number; cpu?: number; p95?: number; growth?: number }): BenchReport {
  const runs = addRatios([
    row(10_000, 'ghostport-steady', overrides.steady ?? 5, overrides.steady ?? 5, 'clear'),
    row(10_000, 'ss-filter-no-owner', overrides.bare ?? 4, overrides.bare ?? 4, 'clear'),
    row(10_000, 'ghostport-found', overrides.found ?? 100, 100),
    row(10_000, 'systeminformation', overrides.si ?? 200, overrides.si ?? 200),
    row(10_000, 'lsof', overrides.lsof ?? 250, 250),
  ]);
  const partial = {
    runs,
    poll: { intervalMs: 2000, sockets: 10_000, cpuPercent: overrides.cpu ?? 0.3, selfCpuPercent: 0.1, toolsCpuPercent: 0.2, cpuMsPerScan: 6, fullScans: 0, engineRssMb: 90, seconds: 30, scans: 15, medianScanMs: 5, p90ScanMs: 6 },
    latencyMs: { p50: 1000, p95: overrides.p95 ?? 1900, max: 2000, trials: 12, intervalMs: 2000, sockets: 10_000, samplesMs: [] },
    memory: { baselineEvents: 100, rssMbBaseline: 100, afterEvents: 10_000, rssMbAfter: 100 + (overrides.growth ?? 3), growthMb: overrides.growth ?? 3, rssMbBaselineBeforeGc: 110, rssMbAfterBeforeGc: 120, heapUsedMbBaseline: 10, heapUsedMbAfter: 11, storedEvents: 10_000 },
    historyView: { skipped: 'absent' },
  };
  return { ...partial, rssMb: 103, targets: evaluateTargets(partial), machine: { cpu: 'x', cores: 2 }, startedAt: '', durationS: 1, warnings: [], errors: [] };
}

function status(report: BenchReport, id: string): string | undefined {
  return report.targets.find((t) => t.id === id)?.status;
}

describe('targets', () => {
  test('a run that meets every target passes each, and the history view is N/A when absent', () => {
    const report = synthetic({});
    for (const id of ['steady-vs-si', 'steady-vs-ss', 'poll-cpu', 'latency', 'found-vs-lsof', 'memory']) assert.equal(status(report, id), 'PASS', id);
    assert.equal(status(report, 'history-view'), 'N/A');
  });
  test('each target fails on its own boundary', () => {
    assert.equal(status(synthetic({ si: 99 }), 'steady-vs-si'), 'FAIL'); // 19.8x
    assert.equal(status(synthetic({ steady: 9, bare: 4, si: 1000 }), 'steady-vs-ss'), 'FAIL'); // 2.25x
    assert.equal(status(synthetic({ cpu: 0.5 }), 'poll-cpu'), 'FAIL');
    assert.equal(status(synthetic({ p95: 2101 }), 'latency'), 'FAIL');
    assert.equal(status(synthetic({ found: 250 }), 'found-vs-lsof'), 'FAIL');
    assert.equal(status(synthetic({ growth: 20.1 }), 'memory'), 'FAIL');
  });
  test('ratios are relative to Ghostport at the same socket count', () => {
    const [, , , si] = synthetic({ si: 300, steady: 6 }).runs;
    assert.equal(si?.medianVsSteady, 50);
    assert.equal(si?.medianVsFound, 3);
  });
  test('the table names every method and every target', () => {
    const text = formatReport(synthetic({ cpu: 0.9 }));
    for (const word of ['ghostport-steady', 'systeminformation', 'lsof', 'FAIL  poll-loop CPU', 'PASS  detection latency']) assert.ok(text.includes(word), word);
  });
});

describe('socket farm plan', () => {
  test('kinds add up to the requested total', () => {
    for (const total of [0, 1, 2, 3, 999, 1000, 10_000]) {
      const p = planFarm(total);
      assert.equal(p.udp + p.listeners + 2 * p.pairs, total, String(total));
    }
  });
  test('burst addresses are distinct loopback addresses', () => {
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => burstAddress(i)));
    assert.equal(seen.size, 1000);
    assert.ok([...seen].every((a) => a.startsWith('127.')));
  });
});

function socketsOf(pid: number): string[] {
  return execFileSync('ss', ['-H', '-tuanp'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('children and /proc readers (real sockets)', { skip: linuxRoot }, () => {
  test('the farm opens exactly the sockets asked for and they all go when it stops', async () => {
    const farm = spawnNodeChild('farm', join(here, 'socket-farm.ts'), []);
    await farm.waitFor((m) => m['type'] === 'ready', 20_000);
    const grown = await farm.request('grow 300', 'grown', 30_000);
    assert.equal(grown['sockets'], 300);
    assert.equal(socketsOf(farm.pid).length, 300);
    await farm.stop();
    assert.deepEqual(socketsOf(farm.pid), []);
  });

  test('the holder binds, swaps and releases real sockets with its marker on the command line', async () => {
    const port = await freePort();
    const holder = spawnNodeChild('holder', join(here, 'port-holder.ts'), [String(port), '--ghostport-bench-holder']);
    await holder.waitFor((m) => m['type'] === 'ready', 20_000);
    const onPort = () => socketsOf(holder.pid).filter((l) => l.includes(`:${port} `));
    await holder.request('hold tcp', 'bound', 10_000);
    assert.match(onPort().join('\n'), /^tcp\s+LISTEN/m);
    await holder.request('hold udp', 'bound', 10_000);
    assert.deepEqual(onPort().map((l) => l.split(/\s+/)[0]), ['udp']);
    await holder.request('burst 6', 'bound', 10_000);
    assert.equal(onPort().length, 6);
    assert.ok(execFileSync('cat', [`/proc/${holder.pid}/cmdline`], { encoding: 'utf8' }).includes('--ghostport-bench-holder'));
    await holder.request('release', 'released', 10_000);
    assert.deepEqual(onPort(), []);
    await holder.stop();
  });

  test('/proc/net lookup finds this process listening on a port, and loses it when it closes', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const rows = readProcNet([port]).filter((r) => r.state === 'LISTEN');
      assert.equal(rows.length, 1);
      const inode = rows[0]!.inode ?? 0;
      assert.ok(inode > 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    assert.deepEqual(readProcNet([port]).filter((r) => r.state === 'LISTEN'), []);
  });

  test('CPU and RSS readers see this process work and hold memory', () => {
    const before = readCpuTimes('self');
    // Spin until Node itself counts 150 ms of CPU: wall time says nothing on a loaded machine.
    const start = process.cpuUsage();
    const cpuMs = () => {
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1000;
    };
    while (cpuMs() < 150) Math.sqrt(Math.random());
    const spent = readCpuTimes('self').selfMs - before.selfMs;
    assert.ok(spent >= 100 && spent <= 1000, `busy 150 ms of CPU, /proc counted ${spent} ms`);
    const rss = readRssMb(process.pid);
    assert.ok(rss !== null && rss > 10 && rss < 4096, `rss ${rss}`);
    assert.equal(readRssMb(2 ** 22 + 1), null);
  });
});

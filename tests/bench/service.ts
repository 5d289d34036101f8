/**
 * Bench (issue 13): `ghostport serve` at the busiest socket table of the run. An idle service's
 * CPU and memory, set against the local engine's poll in the same run (the service is that engine
 * plus its socket API); the latency from a listener appearing on 596 to its event at a client of
 * the socket, against the local engine's detection latency; and what 100 connected streaming
 * clients add to the service's CPU.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceClient } from '#node/service/client.ts';
import type { StreamLine } from '#node/service/api-server.ts';
import { serviceDirs, startService, stopAllServices } from '../support/serve-process.ts';
import { readRssMb, readTreeCpuMs } from './proc-stat.ts';
import { median, percentile, round } from './stats.ts';

/** The service phase's numbers. */
export interface ServiceBench {
  readonly sockets: number;
  readonly intervalMs: number;
  /** Idle (no clients, nothing changing): CPU as % of one core, and resident memory. */
  readonly idleCpuPercent: number;
  readonly rssMb: number | null;
  /** Listener on 596 -> its `appeared` line at a streaming client, ms. */
  readonly latency: { readonly p50: number; readonly p95: number; readonly max: number; readonly trials: number };
  /** Extra CPU of the service (% of one core) with 100 clients streaming, idle. */
  readonly clients100ExtraCpuPercent: number;
}

async function cpuPercentOver(pid: number, seconds: number): Promise<number> {
  const before = readTreeCpuMs(pid);
  const started = performance.now();
  await sleep(seconds * 1000);
  return ((readTreeCpuMs(pid) - before) / (performance.now() - started)) * 100;
}

/** A listener on 127.0.0.2:596 in a child process: resolves with the time it listened and its kill. */
async function listenOnce(port: number): Promise<{ at: number; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.2', () => process.stdout.write('up\\n'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  return { at: performance.now(), pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

/** Runs the service phase (the network namespace already holds `sockets` sockets). */
export async function measureService(port: number, sockets: number, intervalMs: number, seconds: number, trials: number): Promise<ServiceBench> {
  const service = startService({ ...serviceDirs(), ports: [port], intervalMs });
  try {
    await service.ready;
    const pid = service.child.pid!;
    await sleep(Math.max(3 * intervalMs, 5000)); // first scans, owners captured, JIT warm
    const idleCpuPercent = await cpuPercentOver(pid, seconds);
    const rssMb = readRssMb(pid);

    const client = await ServiceClient.connect(service.socketPath);
    const lines: { line: StreamLine; at: number }[] = [];
    const reading = (async () => {
      for await (const line of client.events()) lines.push({ line, at: performance.now() });
    })();
    reading.catch(() => undefined);
    const latencies: number[] = [];
    for (let i = 0; i < trials; i++) {
      const listener = await listenOnce(port);
      const seen = () => lines.find(({ line }) => line.type === 'event' && line.event.type === 'appeared' && line.event.socket.pid === listener.pid);
      for (const deadline = performance.now() + 4 * intervalMs + 10_000; !seen() && performance.now() < deadline; ) await sleep(5);
      const hit = seen();
      if (hit) latencies.push(hit.at - listener.at);
      listener.stop();
      await sleep(intervalMs * (1 + Math.random()));
    }

    const baseline = await cpuPercentOver(pid, seconds);
    const many = await Promise.all(Array.from({ length: 100 }, () => ServiceClient.connect(service.socketPath)));
    const controller = new AbortController();
    for (const c of many) (async () => { for await (const _ of c.events(controller.signal)); })().catch(() => undefined);
    await sleep(2000);
    const withClients = await cpuPercentOver(pid, seconds);
    controller.abort();
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      sockets,
      intervalMs,
      idleCpuPercent: round(idleCpuPercent, 2),
      rssMb: rssMb === null ? null : round(rssMb, 1),
      latency: { p50: round(median(sorted), 0), p95: round(percentile(sorted, 95), 0), max: round(sorted.at(-1) ?? NaN, 0), trials: latencies.length },
      clients100ExtraCpuPercent: round(withClients - baseline, 2),
    };
  } finally {
    await stopAllServices();
  }
}

/** The phase as lines of the report, with its ratios to the local engine of the same run. */
export function formatServiceBench(s: ServiceBench, engine: { readonly pollCpuPercent: number | null; readonly latencyP50: number | null }): string {
  const ratio = (a: number, b: number | null) => (b && b > 0 ? ` (${round(a / b, 2)}x the local engine's ${round(b, 2)})` : '');
  return [
    `ghostport serve at ${s.sockets} sockets, polling every ${s.intervalMs} ms:`,
    `  idle: ${s.idleCpuPercent} % of a core${ratio(s.idleCpuPercent, engine.pollCpuPercent)}, ${s.rssMb ?? '?'} MB resident`,
    `  listener -> event at a client: p50 ${s.latency.p50} ms${ratio(s.latency.p50, engine.latencyP50)}, p95 ${s.latency.p95} ms, max ${s.latency.max} ms (${s.latency.trials} trials)`,
    `  100 streaming clients add ${s.clients100ExtraCpuPercent} % of a core`,
  ].join('\n');
}

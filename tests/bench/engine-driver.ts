/**
 * Child process of the benchmark: what `ghostport watch` runs (the engine polling the watched
 * ports at the default interval, recording events in a real SQLite history), and nothing else, so
 * that its /proc CPU and RSS are the poll loop's. Prints {"type":"ready"} after the first scan, then
 * {"type":"events","t":hrtime ns,...} for every scan with events. Commands on stdin: `stats` or
 * `stats gc` (replies {"type":"stats",...} about the scans since the previous `stats`); stdin
 * closing stops the engine, closes the history and exits.
 * Usage: engine-driver.ts <dataDir> [intervalMs] [port]
 */
import { createInterface } from 'node:readline';
import { DEFAULT_INTERVAL_MS, DEFAULT_PORT } from '#common/model.ts';
import { Engine } from '#node/engine.ts';
import { History } from '#node/history.ts';
import { createOsSource } from '#node/os-source.ts';
import type { Scanner } from '#node/scanner.ts';
import { median, percentile } from './stats.ts';

function reply(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...message, t: process.hrtime.bigint().toString() })}\n`);
}

if (import.meta.main) {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: engine-driver.ts <dataDir> [intervalMs] [port]');
  const intervalMs = Number.parseInt(process.argv[3] ?? String(DEFAULT_INTERVAL_MS), 10);
  const port = Number.parseInt(process.argv[4] ?? String(DEFAULT_PORT), 10);
  const history = History.open({ dataDir });
  // The scanner the engine would create by itself, wrapped only to count the full scans (with
  // owner lookup) apart from the cheap probes that found the set unchanged.
  const system = createOsSource();
  let fullScans = 0;
  const scanner: Scanner = {
    async scan(ports) {
      const raw = await system.scanner.scan(ports);
      if (!raw.reused) fullScans++;
      return raw;
    },
    socketOf: system.scanner.socketOf?.bind(system.scanner),
  };
  // With the system's kernel events, where they run (a replaced scanner goes without them by default).
  const engine = new Engine({ ports: [port], intervalMs, history, os: createOsSource({ scanner, kernelEvents: system.kernelEvents }) });
  const durations: number[] = [];
  let scans = 0;
  let events = 0;
  let failures = 0;
  engine.onScan((snapshot, scanEvents) => {
    scans++;
    durations.push(snapshot.durationMs);
    if (durations.length > 10_000) durations.shift();
    if (snapshot.health === 'blind') failures++;
    if (scans === 1) reply({ type: 'ready', pid: process.pid, health: snapshot.health, issues: snapshot.issues, sockets: snapshot.sockets.length });
    if (scanEvents.length === 0) return;
    events += scanEvents.length;
    const first = scanEvents.find((e) => e.type === 'appeared') ?? scanEvents[0]!;
    reply({
      type: 'events',
      appeared: scanEvents.filter((e) => e.type === 'appeared').length,
      disappeared: scanEvents.filter((e) => e.type === 'disappeared').length,
      pids: [...new Set(scanEvents.map((e) => e.socket.pid))],
      sample: {
        type: first.type,
        protocol: first.socket.protocol,
        local: `${first.socket.localAddress}:${first.socket.localPort}`,
        command: first.socket.process?.command ?? null,
        seq: first.seq,
      },
      scanMs: snapshot.durationMs,
    });
  });
  engine.start();
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const [command, option] = line.trim().split(/\s+/);
      if (command !== 'stats') return;
      // `stats gc`: collect first (needs --expose-gc), so retained memory is told apart from garbage not yet collected.
      const gc = (globalThis as { gc?: () => void }).gc;
      if (option === 'gc' && gc) {
        gc();
        gc();
      }
      const memory = process.memoryUsage();
      reply({
        type: 'stats',
        scans,
        fullScans,
        events,
        failures,
        stored: history.query({ limit: 1 }).total,
        medianScanMs: median(durations),
        p90ScanMs: percentile(durations, 90),
        maxScanMs: Math.max(...durations),
        rssMb: memory.rss / 2 ** 20,
        heapUsedMb: memory.heapUsed / 2 ** 20,
        sight: engine.snapshot?.sight ?? null,
      });
      durations.length = 0;
      fullScans = 0;
      scans = 0;
    })
    .on('close', () => {
      void engine.stop().finally(() => {
        history.close();
        process.exit(0);
      });
    });
}

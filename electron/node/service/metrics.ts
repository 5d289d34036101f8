/**
 * Prometheus metrics of `ghostport serve` (prom-client), served on `--metrics-address` at /metrics.
 * Gauges are computed from the engine's latest snapshot at scrape time, so a scrape never sees a
 * half-updated set. Label values include process names and users: whoever can scrape sees them.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { displayText, formatEndpoint } from '#common/display-text.ts';
import type { HealthLevel, PortSocket, Snapshot } from '#common/model.ts';
import type { Engine } from '#node/engine.ts';
import { ServeError } from './serve-error.ts';

/** What the metrics read. */
export interface MetricsDeps {
  readonly engine: Pick<Engine, 'onScan' | 'snapshot' | 'status'>;
  readonly version: string;
  /** Most `ghostport_socket_info` series at once; the rest are counted in ghostport_socket_info_dropped. */
  readonly maxSocketSeries: number;
}

/** A host and port to serve metrics on. */
export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

const HEALTH_STATES: readonly HealthLevel[] = ['ok', 'degraded', 'blind'];

/**
 * Parses HOST:PORT ([v6]:PORT). The host must be written out: an empty one (":9596") would mean
 * every interface, and metrics name processes, so that has to be asked for (0.0.0.0:9596).
 */
export function parseMetricsAddress(text: string): MetricsAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const host = match ? (match[1] ?? match[2] ?? '') : '';
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(port >= 1 && port <= 65535)) throw new ServeError(`--metrics-address ${JSON.stringify(text)} is not HOST:PORT, e.g. 127.0.0.1:9596.`);
  if (host === '') throw new ServeError(`--metrics-address ${JSON.stringify(text)} has no host. Metrics contain process names: say 127.0.0.1:${port} for this machine only, or 0.0.0.0:${port} to serve every interface on purpose.`);
  if (host !== 'localhost' && isIP(host) === 0) throw new ServeError(`--metrics-address: ${JSON.stringify(host)} is not an IP address (or localhost).`);
  return { host, port };
}

/** The registry and its HTTP server. */
export function createMetrics(deps: MetricsDeps) {
  const { engine, maxSocketSeries } = deps;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const last = (): Snapshot | null => engine.snapshot;
  const seeing = (): Snapshot | null => {
    const snapshot = last();
    return snapshot && snapshot.health !== 'blind' ? snapshot : null;
  };
  let dropped = 0;

  new Gauge({
    name: 'ghostport_sockets',
    help: 'Sockets on each watched port, all protocols (absent while Ghostport cannot see: blind is not clear).',
    labelNames: ['port'],
    registers: [registry],
    collect() {
      this.reset();
      const snapshot = seeing();
      if (!snapshot) return;
      for (const port of snapshot.ports) this.set({ port: String(port) }, snapshot.sockets.filter((s) => s.watchedPort === port).length);
    },
  });
  new Gauge({
    name: 'ghostport_socket_info',
    help: `One series per live socket on a watched port (value 1), at most ${maxSocketSeries}; the rest are counted in ghostport_socket_info_dropped.`,
    labelNames: ['port', 'protocol', 'family', 'state', 'local', 'remote', 'pid', 'comm', 'user', 'netns'],
    registers: [registry],
    collect() {
      this.reset();
      const sockets = seeing()?.sockets ?? [];
      dropped = Math.max(0, sockets.length - maxSocketSeries);
      for (const socket of sockets.slice(0, maxSocketSeries)) this.set(socketLabels(socket), 1);
    },
  });
  new Gauge({
    name: 'ghostport_socket_info_dropped',
    help: 'Live sockets left out of ghostport_socket_info by its series limit (a scanner opening thousands of sockets).',
    registers: [registry],
    collect() {
      this.set(dropped);
    },
  });
  const events = new Counter({ name: 'ghostport_events_total', help: 'Events recorded: appeared or disappeared, by source.', labelNames: ['type', 'source'], registers: [registry] });
  new Gauge({
    name: 'ghostport_health',
    help: 'Whether Ghostport can see: 1 for the current state (ok, degraded, blind), 0 for the others.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const health = last()?.health;
      for (const state of HEALTH_STATES) this.set({ state }, health === state ? 1 : 0);
    },
  });
  const duration = new Histogram({
    name: 'ghostport_scan_duration_seconds',
    help: 'How long each scan took.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'ghostport_last_scan_timestamp_seconds',
    help: 'When the last scan finished (Unix time); stale when the engine hangs.',
    registers: [registry],
    collect() {
      const at = last()?.scannedAt;
      if (at) this.set(Date.parse(at) / 1000);
    },
  });
  new Counter({
    name: 'ghostport_kernel_helper_restarts_total',
    help: 'Times a kernel helper that died (the tracefs reader, the eBPF helper) was started again.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(last()?.sight?.restarts ?? 0);
    },
  });
  new Gauge({ name: 'ghostport_build_info', help: 'The running Ghostport version.', labelNames: ['version'], registers: [registry] }).set({ version: deps.version }, 1);

  // A listener announced from its kernel event comes with the last scan's snapshot: one scan, one sample.
  let observed: string | null = null;
  const unsubscribe = engine.onScan((snapshot, scanEvents) => {
    if (snapshot.scannedAt !== observed) duration.observe(snapshot.durationMs / 1000);
    observed = snapshot.scannedAt;
    for (const event of scanEvents) events.inc({ type: event.type, source: sourceOf(event) });
  });
  for (const type of ['appeared', 'disappeared']) events.inc({ type, source: 'poll' }, 0);

  return {
    registry,
    /** Serves /metrics on the address. */
    listen(address: MetricsAddress): Promise<Server> {
      const server = createServer((request, response) => {
        if ((request.url ?? '').split('?')[0] !== '/metrics' || request.method !== 'GET') {
          response.writeHead(404, { 'content-type': 'text/plain' }).end('Ghostport serves its metrics at /metrics.\n');
          return;
        }
        registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`),
        );
      });
      return new Promise((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => reject(new ServeError(`Cannot serve metrics on ${address.host}:${address.port}: ${error.code ?? error.message}.`)));
        server.listen(address.port, address.host, () => resolve(server));
      });
    },
    /** The URL of a listening metrics server. */
    url(server: Server): string {
      const { address, port, family } = server.address() as AddressInfo;
      return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}/metrics`;
    },
    dispose(): void {
      unsubscribe();
      registry.clear();
    },
  };
}

function socketLabels(s: PortSocket): Record<string, string> {
  return {
    port: String(s.watchedPort),
    protocol: s.protocol,
    family: String(s.family),
    state: s.state,
    local: formatEndpoint(s.localAddress, s.localPort),
    remote: formatEndpoint(s.remoteAddress, s.remotePort),
    pid: s.pid === null ? '' : String(s.pid),
    // Attacker-chosen text: escaped and bounded like everywhere else it is shown.
    comm: s.process ? displayText(s.process.name, 64) : '',
    user: s.process?.user ? displayText(s.process.user, 32) : '',
    netns: String((s as { netns?: unknown }).netns ?? s.process?.netns ?? ''),
  };
}

/** Which sight saw the event ('poll' unless the engine says, e.g. 'kernel'). */
function sourceOf(event: object): string {
  const source = (event as { readonly source?: unknown }).source;
  return typeof source === 'string' ? source : 'poll';
}

/**
 * `scan`, `watch` and `history` through `ghostport serve`: with --service PATH, or on their own
 * when the default socket answers (--no-service forces a local engine). The service sees what a
 * user cannot (other users' owners, other namespaces) and keeps the host's history. A service
 * that goes away mid-answer is an error (exit 2, never "clear"); `watch` reconnects and catches up
 * from the service's history, so no event is lost across the gap.
 */
import { toEventJson, toHealthJson, toScanJson } from '#common/cli-json.ts';
import { describePorts, escapeUnsafe } from '#common/display-text.ts';
import type { HealthIssue, HealthLevel, PortEvent, Snapshot } from '#common/model.ts';
import { lstatSync } from 'node:fs';
import type { ServiceClient } from '#node/service/client.ts';
import { DEFAULT_SOCKET_PATH } from '#node/service/paths.ts';
import type { CliOptions } from './args.ts';
import { EXIT } from './args.ts';
import { CliError, type CliIo } from './io.ts';
import { formatEntry, formatEvent, issuePrinter } from './output.ts';

/** How the JSON output says where the answer came from. */
export type Via = 'service' | 'local';

/**
 * The service to read, or null for a local engine. An explicit --service must answer (else exit
 * 2); the default socket ($GHOSTPORT_SOCKET, else /run/ghostport/ghostport.sock) is used when it does.
 */
export async function connectForCli(options: CliOptions, io: CliIo): Promise<ServiceClient | null> {
  if (options.service === false) return null;
  const path = io.env.GHOSTPORT_SOCKET || DEFAULT_SOCKET_PATH;
  // No socket file, no service (the normal case), known without loading the HTTP client. One
  // this user may not even look at is tried: the refusal says which group to join.
  if (typeof options.service !== 'string' && noSocketFile(path)) return null;
  const { ServiceClient, ServiceError } = await serviceClient();
  if (typeof options.service === 'string') {
    try {
      return await ServiceClient.connect(options.service);
    } catch (error) {
      throw new CliError(error instanceof ServiceError ? error.message : String(error));
    }
  }
  try {
    return await ServiceClient.connect(path, 3000);
  } catch (error) {
    // A service this user may not read is worth a word; no service at all is the normal case.
    if (error instanceof ServiceError && error.kind === 'denied') io.err(`ghostport: ${error.message} Using a local engine.\n`);
    return null;
  }
}

function noSocketFile(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

// Loaded when a service is there to read: a local scan needs none of it.
const serviceClient = () => import('#node/service/client.ts');

/** The text line that says where the answer came from. */
export function viaLine(client: ServiceClient): string {
  return `(via the Ghostport service at ${escapeUnsafe(client.socketPath)}, version ${escapeUnsafe(client.version)})\n`;
}

/** A service error as the CLI's error (exit 2 with its message). */
async function asCliError<T>(work: () => Promise<T>): Promise<T> {
  const { ServiceError } = await serviceClient();
  try {
    return await work();
  } catch (error) {
    if (error instanceof ServiceError) throw new CliError(error.message);
    throw error;
  }
}

/** The service's latest snapshot, restricted to the ports asked for (all of which it must watch). */
export async function snapshotViaService(client: ServiceClient, ports: readonly number[] | undefined): Promise<Snapshot> {
  const { ServiceError } = await serviceClient();
  const snapshot = await asCliError(async () => {
    for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 100))) {
      const state = await client.value('getState');
      if (state.snapshot) return state.snapshot;
      if (Date.now() > deadline) throw new ServiceError('The Ghostport service has not finished its first scan yet; try again in a moment.', 'lost');
    }
  });
  if (!ports) return snapshot;
  const unwatched = ports.filter((p) => !snapshot.ports.includes(p));
  if (unwatched.length > 0) {
    throw new CliError(`the Ghostport service watches ${describePorts(snapshot.ports)}, not ${unwatched.join(', ')}: add the port to its settings, or scan it here with --no-service`);
  }
  return { ...snapshot, ports, sockets: snapshot.sockets.filter((s) => ports.includes(s.watchedPort)), lingering: snapshot.lingering.filter((s) => ports.includes(s.watchedPort)) };
}

/** The JSON document of `scan`, saying where it came from. */
export function scanJson(snapshot: Snapshot, via: Via): string {
  return `${JSON.stringify({ ...toScanJson(snapshot), via })}\n`;
}

/** `watch` through the service: events and health as the service sees them, reconnecting when it goes away. */
export async function watchViaService(first: ServiceClient, options: CliOptions, io: CliIo): Promise<number> {
  const { ServiceClient, ServiceError } = await serviceClient();
  const out = options.quiet ? () => undefined : io.out;
  const ports = options.port ?? null;
  const mine = (e: PortEvent) => ports === null || ports.includes(e.socket.watchedPort);
  const stop = new AbortController();
  void io.stopped.then(() => stop.abort());
  let client: ServiceClient | null = first;
  let lastSeq: number | null = null;
  let lastAt: string | null = null;
  let lastHealth = '';
  let printIssues = issuePrinter(io.err);
  let connected = false;
  const print = (e: PortEvent) => {
    if (lastSeq !== null && e.seq <= lastSeq) return;
    lastSeq = e.seq;
    lastAt = e.at;
    if (mine(e)) out(options.json ? `${JSON.stringify(toEventJson(e))}\n` : formatEvent(e));
  };
  const health = (level: HealthLevel, issues: readonly HealthIssue[], at: string) => {
    const key = `${level}:${issues.map((i) => i.code).join(',')}`;
    if (key === lastHealth) return;
    lastHealth = key;
    if (options.json) out(`${JSON.stringify({ ...toHealthJson(level, issues, at), via: 'service' })}\n`);
    printIssues(issues);
  };
  io.err(`ghostport: watching through the Ghostport service at ${escapeUnsafe(first.socketPath)} (it records the history). Ctrl-C stops.\n`);
  if (!options.json && !options.quiet) out(viaLine(first));
  for (let delay = 500; !stop.signal.aborted; ) {
    try {
      client ??= await ServiceClient.connect(first.socketPath);
      for await (const line of client.events(stop.signal)) {
        if (line.type === 'hello') {
          if (connected === false && lastSeq !== null) io.err('ghostport: the Ghostport service is back; catching up on what happened meanwhile.\n');
          connected = true;
          delay = 500;
          // Whatever was recorded while we were away (or before the stream started) comes first.
          if (lastAt !== null) for await (const e of client.history({ since: lastAt })) print(e);
          if (line.snapshot) health(line.snapshot.health, line.snapshot.issues, line.snapshot.scannedAt);
        } else if (line.type === 'event') print(line.event);
        else if (line.type === 'health') health(line.health, line.issues, new Date(io.now()).toISOString());
      }
    } catch (error) {
      if (stop.signal.aborted) break;
      if (!(error instanceof ServiceError)) throw error;
      if (connected) io.err(`ghostport: ${error.message} Not watching until it is back; reconnecting.\n`);
      connected = false;
      lastHealth = '';
      printIssues = issuePrinter(io.err);
      client = null;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
  // Stopped while the service was away: that stretch was not watched, so not "clear".
  return connected ? EXIT.clear : EXIT.error;
}

/** `history` through the service: its whole history (paged), --since, --port, --limit and --follow as locally. */
export async function historyViaService(client: ServiceClient, options: CliOptions, io: CliIo): Promise<number> {
  const filter = { ...(options.since ? { since: options.since } : {}), ...(options.port ? { ports: [...options.port] } : {}) };
  const json = options.json ?? false;
  let lastSeq = 0;
  let lastAt: string | undefined;
  let count = 0;
  let waiting = 0;
  const emit = (e: PortEvent) => {
    lastSeq = Math.max(lastSeq, e.seq);
    lastAt = e.at;
    count++;
    if (e.seq === 0) waiting++;
    if (!options.quiet) io.out(formatEntry({ kind: 'event', event: e }, json));
  };
  await asCliError(async () => {
    const all: PortEvent[] = [];
    for await (const e of client.history(filter)) {
      if (options.limit === undefined) emit(e);
      else if (all.push(e) > options.limit) all.shift();
    }
    all.forEach(emit);
  });
  if (!json && !options.quiet) io.out(viaLine(client));
  if (count === 0 && !options.follow && !options.quiet && !json) io.err('ghostport: no events recorded for that filter.\n');
  if (waiting > 0 && !options.quiet) {
    io.err(`ghostport: the last ${waiting === 1 ? 'event' : `${waiting} events`} listed ${waiting === 1 ? 'waits' : 'wait'} in the service's memory to be written (seq 0: its store is locked or full); ${waiting === 1 ? 'it is' : 'they are'} stored once it can write again.\n`);
  }
  let stopped = false;
  void io.stopped.then(() => (stopped = true));
  while (options.follow && !stopped) {
    await new Promise((r) => setTimeout(r, 500));
    await asCliError(async () => {
      for await (const e of client.history({ ...filter, ...(lastAt ? { since: lastAt } : {}) })) if (e.seq > lastSeq) emit(e);
    });
  }
  return EXIT.clear;
}

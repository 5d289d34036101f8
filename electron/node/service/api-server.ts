/**
 * The service's HTTP API (served on its Unix socket; read-only, versioned under /v1):
 * - `GET /v1` describes the API (its version, the service's version, the requests it serves);
 * - `POST /v1/requests/<name>` runs one read request of the request table (electron/common/ipc-api.ts)
 *   with a JSON array of arguments as the body, and answers its `Result` as JSON: this is the table's
 *   third transport, beside Electron's IPC and the window's own bridge;
 * - `GET /v1/events` is a live NDJSON stream (see `StreamLine`): a hello with the current snapshot,
 *   then each event and each health change as they happen (the events keep a copy of the snapshot current).
 * Each streaming client has a bounded buffer: one that stops reading is dropped with a notice, and
 * nobody else waits for it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUESTS } from '#common/ipc-api.ts';
import type { ApiErrorCode, RequestName, Result } from '#common/ipc-api.ts';
import type { EngineStatus, HealthIssue, HealthLevel, PortEvent, Snapshot } from '#common/model.ts';
import type { AppService } from '#node/app-service.ts';
import type { LateEvidence } from '#common/late-evidence.ts';
import type { Engine } from '#node/engine.ts';
import type { Logger, LogLevel } from './log.ts';
import { createClientNamer, type ClientNamer } from './client-identity.ts';
import { API_VERSION } from './paths.ts';
import { readBody } from '#node/read-body.ts';
import { errorMessage } from '#common/error-message.ts';

/** One line of the `/v1/events` stream. */
export type StreamLine =
  /** First line; sent once the service has a snapshot (a client that subscribes before its first scan waits for it). */
  | { readonly type: 'hello'; readonly api: number; readonly version: string; readonly snapshot: Snapshot | null; readonly status: EngineStatus }
  | { readonly type: 'event'; readonly event: PortEvent }
  | { readonly type: 'health'; readonly health: HealthLevel; readonly issues: readonly HealthIssue[] }
  /** Evidence still being computed at detection, now filled in: the events of that process (pid and start time) complete with it. */
  | { readonly type: 'completed'; readonly evidence: LateEvidence }
  /** The last line a client gets when the service lets it go: stopping, or the client read too slowly. */
  | { readonly type: 'goodbye'; readonly reason: 'stopping' | 'too-slow'; readonly message: string };

/** The read requests the socket serves: the table's entries with `access: 'read'`. */
export const SERVED_REQUESTS = (Object.keys(REQUESTS) as RequestName[]).filter((name) => REQUESTS[name].access === 'read');

/** What the API is built from. */
export interface ApiServerDeps {
  readonly service: Pick<AppService, 'invoke'>;
  readonly engine: Pick<Engine, 'onScan' | 'onEvidenceCompleted' | 'snapshot' | 'status'>;
  readonly version: string;
  readonly log: Logger;
  /** Names each connection's client in the log (default: by what it states, unverified). */
  readonly clientOf?: ClientNamer;
  /** Bytes a streaming client may leave unread before it is dropped (default 4 MiB: a burst of thousands of events). */
  readonly maxBufferedBytes?: number;
}

/** The request handler and its stream hub. */
export interface ApiServer {
  readonly handle: (request: IncomingMessage, response: ServerResponse) => void;
  /** Streaming clients connected now. */
  readonly streams: () => number;
  /** Ends every stream with a goodbye line (the service is stopping). */
  readonly closeStreams: () => Promise<void>;
  readonly dispose: () => void;
}

const STATUS_OF: Readonly<Record<ApiErrorCode, number>> = {
  'invalid-argument': 400,
  'forbidden-sender': 403,
  'permission-denied': 403,
  'not-found': 404,
  'process-changed': 409,
  cancelled: 409,
  unavailable: 503,
  internal: 500,
};
const MAX_BODY_BYTES = 64 * 1024;
const NDJSON = 'application/x-ndjson';

/** Builds the API around the app service and the engine. */
export function createApiServer(deps: ApiServerDeps): ApiServer {
  const { service, engine, version, log } = deps;
  const maxBuffered = deps.maxBufferedBytes ?? 4 * 1024 * 1024;
  const clientOf = deps.clientOf ?? createClientNamer(null);
  // The client's name may wait for the kernel's answer: the log line waits, the request never does.
  const logClient = (request: IncomingMessage, level: LogLevel, message: string, fields: Readonly<Record<string, unknown>>): void =>
    void clientOf(request).then((client) => log(level, message, { ...client, ...fields }));
  const streams = new Set<ServerResponse>();
  // Subscribed before the first scan: their hello waits for it (a hello always has a snapshot).
  const waiting = new Set<ServerResponse>();
  // Greeted with this very scan's snapshot: its events are already in it.
  const justGreeted = new Set<ServerResponse>();
  let lastHealth = healthKey(engine.snapshot);

  const offCompleted = engine.onEvidenceCompleted((evidence) => {
    const text = `${JSON.stringify({ type: 'completed', evidence } satisfies StreamLine)}\n`;
    for (const response of streams) send(response, text);
  });
  const offScans = engine.onScan((snapshot, events) => {
    for (const response of waiting) {
      waiting.delete(response);
      if (!response.destroyed) hello(response);
    }
    const lines: StreamLine[] = events.map((event) => ({ type: 'event', event }));
    const health = healthKey(snapshot);
    if (health !== lastHealth) lines.push({ type: 'health', health: snapshot.health, issues: snapshot.issues });
    lastHealth = health;
    const text = lines.map((line) => `${JSON.stringify(line)}\n`).join('');
    if (text) for (const response of streams) if (!justGreeted.has(response)) send(response, text);
    justGreeted.clear();
  });

  function hello(response: ServerResponse): void {
    const line: StreamLine = { type: 'hello', api: API_VERSION, version, snapshot: engine.snapshot, status: engine.status };
    response.write(`${JSON.stringify(line)}\n`);
    streams.add(response);
    justGreeted.add(response);
  }

  function send(response: ServerResponse, text: string): void {
    // The backlog decides, not the new line: a client that keeps up always gets even a large snapshot.
    if (response.writableLength <= maxBuffered) {
      response.write(text);
      return;
    }
    logClient(response.req, 'warn', 'dropped a client that stopped reading the event stream', { unread: response.writableLength });
    goodbye(response, 'too-slow', `You were dropped: more than ${maxBuffered} bytes of events were waiting unread. Reconnect and read faster.`);
  }

  function goodbye(response: ServerResponse, reason: 'stopping' | 'too-slow', message: string): Promise<void> {
    streams.delete(response);
    return new Promise((resolve) => {
      const line: StreamLine = { type: 'goodbye', reason, message };
      response.end(`${JSON.stringify(line)}\n`, () => resolve());
      // A client that reads nothing never takes the goodbye either: cut it after a moment.
      setTimeout(() => {
        response.destroy();
        resolve();
      }, 1000).unref();
    });
  }

  function openStream(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': NDJSON, 'cache-control': 'no-store' });
    if (engine.snapshot) {
      hello(response);
      justGreeted.delete(response);
    } else {
      response.flushHeaders();
      waiting.add(response);
    }
    logClient(request, 'info', 'client subscribed to events', { streams: streams.size + waiting.size });
    response.on('close', () => {
      streams.delete(response);
      waiting.delete(response);
    });
  }

  async function runRequest(request: IncomingMessage, response: ServerResponse, name: string): Promise<void> {
    if (!Object.hasOwn(REQUESTS, name)) return reply(response, 404, `No request named ${JSON.stringify(name.slice(0, 80))}. GET /v1 lists them.`);
    const spec = REQUESTS[name as RequestName];
    const body = await readBody(request, MAX_BODY_BYTES);
    if (body === null) return reply(response, 413, `The request body is over ${MAX_BODY_BYTES} bytes.`);
    let args: unknown = [];
    if (body.length > 0) {
      try {
        args = JSON.parse(body);
      } catch {
        return reply(response, 400, 'The request body is not JSON: send the arguments as a JSON array, e.g. [] or [{"limit": 10}].');
      }
    }
    const result = await service.invoke(spec.channel, args, 'read');
    respondJson(response, result.ok ? 200 : STATUS_OF[result.error.code], result);
  }

  function route(request: IncomingMessage, response: ServerResponse): Promise<void> | void {
    const path = (request.url ?? '/').split('?')[0]!;
    const method = request.method ?? 'GET';
    logClient(request, 'info', 'request', { method, path: path.slice(0, 200) });
    if (path === '/v1' || path === '/v1/') {
      if (method !== 'GET') return reply(response, 405, '/v1 answers GET only.');
      return respondJson(response, 200, { api: API_VERSION, version, requests: SERVED_REQUESTS, streams: ['/v1/events'] });
    }
    if (path === '/v1/events') {
      if (method !== 'GET') return reply(response, 405, '/v1/events answers GET only.');
      return openStream(request, response);
    }
    const match = /^\/v1\/requests\/([A-Za-z]+)$/.exec(path);
    if (match) {
      if (method !== 'POST') return reply(response, 405, 'Use POST, with the arguments as a JSON array in the body.');
      return runRequest(request, response, match[1]!);
    }
    return reply(response, 404, `Nothing at ${JSON.stringify(path.slice(0, 80))}. This is version ${API_VERSION} of the Ghostport API: GET /v1 describes it.`);
  }

  return {
    handle(request, response) {
      Promise.resolve()
        .then(() => route(request, response))
        .catch((error: unknown) => {
          log('error', 'a request failed', { error: errorMessage(error) });
          if (!response.headersSent) reply(response, 500, 'Something went wrong in the service; it keeps running.');
          else response.destroy();
        });
    },
    streams: () => streams.size,
    async closeStreams() {
      await Promise.all([...streams].map((response) => goodbye(response, 'stopping', 'The Ghostport service is stopping.')));
    },
    dispose: () => {
      offScans();
      offCompleted();
    },
  };
}

function healthKey(snapshot: Snapshot | null): string {
  return snapshot ? `${snapshot.health}:${snapshot.issues.map((issue) => issue.code).join(',')}` : '';
}

function reply(response: ServerResponse, status: number, message: string): void {
  const code: ApiErrorCode = status === 404 ? 'not-found' : status >= 500 ? 'internal' : 'invalid-argument';
  respondJson(response, status, { ok: false, error: { code, message } } satisfies Result<never>);
}

function respondJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(`${JSON.stringify(body)}\n`);
}

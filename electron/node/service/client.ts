/**
 * The client of `ghostport serve`'s API: the request table's read requests over HTTP on the Unix
 * socket (typed like `window.ghostport`), the live event stream, and the whole history paged
 * through `queryHistory`. Used by the CLI (`scan`/`watch`/`history`) and the tray app.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { HistoryQuery } from '#common/history-query.ts';
import type { RequestArgs, RequestResult, Result } from '#common/ipc-contract.ts';
import type { PortEvent } from '#common/model.ts';
import type { StreamLine } from './api-server.ts';
import { SERVED_REQUESTS } from './api-server.ts';
import { API_VERSION, DEFAULT_SOCKET_PATH, findGroup } from './paths.ts';
import { errorMessage } from '#common/error-message.ts';

/** A read request the service serves. */
export type ServedRequest = (typeof SERVED_REQUESTS)[number];

/** Why the service could not be used. */
export class ServiceError extends Error {
  /** 'absent': nothing serves there (use a local engine); 'denied': the socket's group keeps us out; 'lost': it went away mid-answer. */
  readonly kind: 'absent' | 'denied' | 'lost' | 'protocol';

  constructor(message: string, kind: ServiceError['kind']) {
    super(message);
    this.kind = kind;
  }
}

/** How the client introduces itself: the service logs it (Node cannot read the peer's credentials). */
const USER_AGENT = `ghostport/${API_VERSION} (pid ${process.pid}; uid ${process.getuid?.() ?? '?'})`;
const HISTORY_PAGE = 5000;

/** A connection to the service at one socket path. */
export class ServiceClient {
  readonly socketPath: string;
  readonly version: string;

  private constructor(socketPath: string, version: string) {
    this.socketPath = socketPath;
    this.version = version;
  }

  /** Connects when the service answers at the path (default socket unless given); throws ServiceError otherwise. */
  static async connect(socketPath: string = DEFAULT_SOCKET_PATH, timeoutMs = 10_000): Promise<ServiceClient> {
    const { status, body } = await exchange(socketPath, 'GET', '/v1', null, timeoutMs);
    const info = body as { api?: unknown; version?: unknown } | null;
    if (status !== 200 || info?.api !== API_VERSION) throw new ServiceError(`${socketPath} answers, but not as version ${API_VERSION} of the Ghostport API.`, 'protocol');
    return new ServiceClient(socketPath, String(info.version));
  }

  /** Runs one read request of the table. */
  async call<M extends ServedRequest>(name: M, ...args: RequestArgs<M>): Promise<Result<RequestResult<M>>> {
    const { body } = await exchange(this.socketPath, 'POST', `/v1/requests/${name}`, JSON.stringify(args), 30_000);
    const result = body as Result<RequestResult<M>> | null;
    if (!result || typeof result.ok !== 'boolean') throw new ServiceError(`The service gave no answer to ${name}.`, 'protocol');
    return result;
  }

  /** Like `call`, but a failure becomes a thrown ServiceError. */
  async value<M extends ServedRequest>(name: M, ...args: RequestArgs<M>): Promise<RequestResult<M>> {
    const result = await this.call(name, ...args);
    if (!result.ok) throw new ServiceError(`The service refused ${name}: ${result.error.message}`, 'protocol');
    return result.value;
  }

  /** Every event matching the filter, oldest first, page by page, pinned to the history as it was at the start. */
  async *history(filter: Omit<HistoryQuery, 'offset' | 'limit' | 'order' | 'maxSeq'>): AsyncGenerator<PortEvent> {
    // Pinned to the newest event at the start: events recorded while we page do not shift the pages.
    const maxSeq = await this.newestSeq(filter);
    for (let offset = 0; ; offset += HISTORY_PAGE) {
      const page = await this.value('queryHistory', { ...filter, order: 'asc', offset, limit: HISTORY_PAGE, maxSeq });
      yield* page.events;
      if (page.events.length < HISTORY_PAGE) return;
    }
  }

  private async newestSeq(filter: Omit<HistoryQuery, 'offset' | 'limit' | 'order' | 'maxSeq'>): Promise<number> {
    // The newest stored event: past the ones waiting in the service's memory (seq 0, listed first).
    const first = await this.value('queryHistory', { ...filter, order: 'desc', limit: 1 });
    const newest = first.waiting ? await this.value('queryHistory', { ...filter, order: 'desc', limit: 1, offset: first.waiting }) : first;
    return newest.events[0]?.seq ?? 0;
  }

  /**
   * The live stream: yields each line until the service says goodbye or goes away, then throws a
   * ServiceError ('lost'): a stream never just ends, since its end would read as "nothing more happened".
   */
  async *events(signal?: AbortSignal): AsyncGenerator<StreamLine> {
    const response = await open(this.socketPath, 'GET', '/v1/events', null, signal);
    if (response.statusCode !== 200) throw new ServiceError(`The service refused the event stream (HTTP ${response.statusCode}).`, 'protocol');
    const lines = createInterface({ input: response, crlfDelay: Infinity });
    let goodbye: string | null = null;
    try {
      for await (const text of lines) {
        if (text.trim() === '') continue;
        const line = JSON.parse(text) as StreamLine;
        if (line.type === 'goodbye') goodbye = line.message;
        yield line;
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw lost(this.socketPath, error);
    } finally {
      // Also when the caller stops early (`return()`): close the connection, and let its late errors go.
      response.on('error', () => undefined).destroy();
    }
    if (signal?.aborted) return;
    throw new ServiceError(goodbye ?? `The Ghostport service at ${this.socketPath} stopped in the middle of the stream.`, 'lost');
  }
}

/** One request and its JSON answer. */
async function exchange(socketPath: string, method: string, path: string, body: string | null, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const response = await open(socketPath, method, path, body, AbortSignal.timeout(timeoutMs));
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of response) chunks.push(chunk as Buffer);
  } catch (error) {
    throw lost(socketPath, error);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { status: response.statusCode ?? 0, body: JSON.parse(text) };
  } catch {
    throw new ServiceError(`${socketPath} answered something that is not JSON.`, 'protocol');
  }
}

function open(socketPath: string, method: string, path: string, body: string | null, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        socketPath,
        method,
        path,
        signal,
        headers: { 'user-agent': USER_AGENT, ...(body === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) },
      },
      resolve,
    );
    request.on('error', (error: NodeJS.ErrnoException) => reject(connectError(socketPath, error)));
    request.end(body ?? undefined);
  });
}

/** What a failed connection means for the user, and what to do. */
function connectError(socketPath: string, error: NodeJS.ErrnoException): ServiceError {
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTSOCK') {
    return new ServiceError(`No Ghostport service is running at ${socketPath}.`, 'absent');
  }
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    const group = socketGroup(socketPath);
    const join = group ? `it is open to the group "${group}": join it (sudo usermod -aG ${group} $USER) and log in again` : 'ask its administrator for access';
    return new ServiceError(`Permission denied on the Ghostport service's socket ${socketPath}: ${join}. Or run without the service (--no-service).`, 'denied');
  }
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return new ServiceError(`The Ghostport service at ${socketPath} did not answer in time.`, 'lost');
  return lost(socketPath, error);
}

function lost(socketPath: string, error: unknown): ServiceError {
  return new ServiceError(`Lost the Ghostport service at ${socketPath}: ${errorMessage(error)}.`, 'lost');
}

function socketGroup(socketPath: string): string | null {
  try {
    const gid = statSync(socketPath).gid;
    return findGroup(gid)?.name ?? String(gid);
  } catch {
    return null;
  }
}

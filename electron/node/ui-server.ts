/**
 * The window without Electron: `ghostport ui` (and `npm start` where no Electron binary can
 * run) serves the same renderer over HTTP on the loopback address, as another transport over the
 * request table (electron/common/ipc-api.ts): `POST /api/requests/<name>` with the arguments as a
 * JSON array runs the request through the app service's `invoke`, `GET /api/events` streams the
 * pushes (server-sent events named by their push channel).
 *
 * Security as for the desktop window: bound to 127.0.0.1 only; a one-time token in the printed
 * address is exchanged for an HttpOnly, SameSite=Strict session cookie (then the token is spent);
 * the Host header must name this server (DNS rebinding); a POST must come from this origin with
 * a JSON body (cross-site forms cannot send one); the same strict CSP as the desktop window,
 * except that `connect-src` allows the page's own origin; no CORS headers, ever.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appUrlToRelativePath, contentTypeFor } from '#common/app-origin.ts';
import { windowResponseHeaders } from '#common/content-policy.ts';
import { PUSHES, REQUESTS, type RequestName } from '#common/ipc-api.ts';
import type { AppService } from './app-service.ts';
import { readBody } from './read-body.ts';

/** What the server is built from. */
export interface UiServerDeps {
  readonly service: Pick<AppService, 'invoke' | 'onStateChanged' | 'onEvents' | 'onEvidenceCompleted'>;
  /** The built renderer (dist/renderer). */
  readonly rendererDir: string;
  /** TCP port on 127.0.0.1; 0 (default) lets the OS choose. */
  readonly port?: number;
}

/** A running server. */
export interface UiServer {
  /** The address to open once: origin plus the one-time token. */
  readonly url: string;
  readonly origin: string;
  close(): Promise<void>;
}

const HEADERS = windowResponseHeaders("'self'");
const MAX_BODY_BYTES = 64 * 1024;
const KEEPALIVE_MS = 25_000;

/** Starts the server on the loopback address. */
export async function startUiServer(deps: UiServerDeps): Promise<UiServer> {
  const token = randomBytes(24).toString('base64url');
  const session = randomBytes(32).toString('base64url');
  let tokenSpent = false;
  let hosts: readonly string[] = [];
  let cookieName = '';
  const streams = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) text(response, 500, 'Something went wrong; Ghostport keeps running.');
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // DNS rebinding: a page on evil.example resolved to 127.0.0.1 still says Host: evil.example.
    if (!hosts.includes(request.headers.host ?? '')) return text(response, 421, 'This server answers only to its own address.');
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    const offered = url.searchParams.get('token');
    if (offered !== null) {
      if (tokenSpent || !same(offered, token)) return text(response, 401, 'This link has been used already or is wrong. Restart ghostport ui for a new one.');
      tokenSpent = true;
      response.writeHead(303, { ...HEADERS, Location: '/', 'Set-Cookie': `${cookieName}=${session}; HttpOnly; SameSite=Strict; Path=/` });
      return void response.end();
    }
    if (!same(cookieOf(request, cookieName) ?? '', session)) return text(response, 401, 'Open the address ghostport ui printed: it carries a one-time token.');
    if (url.pathname.startsWith('/api/')) return api(request, response, url.pathname);
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(response, 405, 'Method not allowed.');
    return file(response, url.pathname);
  }

  async function api(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    if (path === '/api/events') {
      if (request.method !== 'GET') return text(response, 405, 'GET only.');
      return openStream(response);
    }
    const name = /^\/api\/requests\/([A-Za-z]+)$/.exec(path)?.[1];
    if (name === undefined || !Object.hasOwn(REQUESTS, name)) return text(response, 404, 'No such request.');
    if (request.method !== 'POST') return text(response, 405, 'POST only.');
    // A cross-site page can make a browser POST, but not with this origin nor with a JSON type without CORS.
    const origin = request.headers.origin;
    if (origin !== undefined && !hosts.some((host) => origin === `http://${host}`)) return text(response, 403, 'Requests from other sites are refused.');
    if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) return text(response, 415, 'Send the arguments as a JSON array (Content-Type: application/json).');
    const body = await readBody(request, MAX_BODY_BYTES);
    if (body === null) return text(response, 413, 'The request body is too large.');
    let args: unknown;
    try {
      args = JSON.parse(body);
    } catch {
      return text(response, 400, 'The body is not JSON.');
    }
    const result = await deps.service.invoke(REQUESTS[name as RequestName].channel, args, 'control');
    response.writeHead(200, { ...HEADERS, 'Content-Type': 'application/json' });
    response.end(JSON.stringify(result));
  }

  function openStream(response: ServerResponse): void {
    response.writeHead(200, { ...HEADERS, 'Content-Type': 'text/event-stream' });
    response.write(': ghostport\n\n');
    streams.add(response);
    response.on('close', () => streams.delete(response));
  }

  const push = (channel: string, payload: unknown) => {
    const message = `event: ${channel}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const stream of streams) stream.write(message);
  };
  const unsubscribe = [
    deps.service.onStateChanged((state) => push(PUSHES.onStateChanged.channel, state)),
    deps.service.onEvents((events) => push(PUSHES.onEvents.channel, events)),
    deps.service.onEvidenceCompleted((late) => push(PUSHES.onEvidenceCompleted.channel, late)),
  ];
  const keepalive = setInterval(() => streams.forEach((s) => s.write(': keepalive\n\n')), KEEPALIVE_MS);
  keepalive.unref();

  async function file(response: ServerResponse, pathname: string): Promise<void> {
    const relative = appUrlToRelativePath(`ghostport://app${pathname}`);
    if (relative === null) return text(response, 404, 'Not found.');
    let body: Buffer;
    try {
      body = await readFile(join(deps.rendererDir, relative));
    } catch {
      return text(response, 404, 'Not found.');
    }
    // The page's own meta CSP forbids all network; here its API is on its own origin.
    if (relative === 'index.html') body = Buffer.from(body.toString('utf8').replace("connect-src 'none'", "connect-src 'self'"));
    response.writeHead(200, { ...HEADERS, 'Content-Type': contentTypeFor(relative) });
    response.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  // One cookie per server: cookies ignore ports, and two servers must not log each other out.
  cookieName = `ghostport-${port}`;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    close: async () => {
      clearInterval(keepalive);
      unsubscribe.forEach((u) => u());
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieOf(request: IncomingMessage, name: string): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return null;
}

function text(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(`${message}\n`);
}

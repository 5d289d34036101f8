/**
 * `ghostport ui`'s HTTP transport, through the real server, app service, settings store and
 * history: the one-time token becomes a cookie, wrong hosts and other origins are refused, the
 * CSP is the window's with connect-src 'self', no CORS, and the request table and pushes work.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUiServer, type UiServer } from '#node/ui-server.ts';
import { createAppService, type AppService } from '#node/app-service.ts';
import { Engine } from '#node/engine.ts';
import { History } from '#node/history.ts';
import { SettingsStore } from '#node/settings-store.ts';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let server: UiServer;
let service: AppService;
let history: History;
let engine: Engine;
const dir = mkdtempSync(join(tmpdir(), 'ghostport-ui-'));
const host = () => new URL(server.origin).host;

function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const url = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: { host: host(), ...options.headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += String(c)));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

let cookie = '';
before(async () => {
  writeFileSync(join(dir, 'index.html'), `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; connect-src 'none'"><p>window</p>`);
  const settings = await SettingsStore.open({ dataDir: dir });
  history = History.open({ dataDir: null });
  engine = new Engine({ ports: [59997], history });
  service = createAppService({
    engine,
    history,
    settings,
    hooks: { confirmEndProcess: async () => false, revealInFolder: () => undefined, chooseExportPath: async () => null, setStartAtLogin: async () => undefined, notificationsSupported: () => false },
    environment: { version: '0.0.0-test', elevated: false },
  });
  server = await startUiServer({ service, rendererDir: dir });
});
after(async () => {
  await server.close();
  service.dispose();
  await engine.stop();
  history.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ghostport ui: the HTTP window', () => {
  test('listens on the loopback address only, and prints an address with a token', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
  });

  test('without the token nothing is served; the token is exchanged once for an HttpOnly SameSite=Strict cookie', async () => {
    assert.equal((await send('/')).status, 401);
    assert.equal((await send('/?token=wrong')).status, 401);
    const exchange = await send(new URL(server.url).pathname + new URL(server.url).search);
    assert.equal(exchange.status, 303);
    assert.equal(exchange.headers.location, '/');
    const setCookie = String(exchange.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    cookie = setCookie.split(';')[0]!;
    assert.equal((await send(new URL(server.url).pathname + new URL(server.url).search)).status, 401, 'the token is spent');
    assert.equal((await send('/', { headers: { cookie: `${cookie.split('=')[0]}=forged` } })).status, 401);
  });

  test('the page: the window\'s CSP with connect-src \'self\', its own meta CSP loosened the same way, no CORS', async () => {
    const page = await send('/', { headers: { cookie, origin: 'http://evil.example' } });
    assert.equal(page.status, 200);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(page.body, /connect-src 'self'/);
    assert.equal(page.headers['access-control-allow-origin'], undefined);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
  });

  test('a wrong Host header (DNS rebinding) is refused even with the cookie', async () => {
    const rebound = await send('/', { headers: { cookie, host: `evil.example:${new URL(server.origin).port}` } });
    assert.equal(rebound.status, 421);
    assert.equal((await send('/', { headers: { cookie, host: `localhost:${new URL(server.origin).port}` } })).status, 200);
  });

  test('files outside the renderer folder are not served', async () => {
    for (const path of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd', '/nope.js']) {
      assert.equal((await send(path, { headers: { cookie } })).status, 404, path);
    }
  });

  test('requests from the table run through the app service; other origins, other types and unknown names are refused', async () => {
    const json = { cookie, 'content-type': 'application/json' };
    const state = await send('/api/requests/getState', { method: 'POST', headers: json, body: '[]' });
    assert.equal(state.status, 200);
    const result = JSON.parse(state.body) as { ok: boolean; value: { version: string; settings: { ports: number[] } } };
    assert.equal(result.ok, true);
    assert.equal(result.value.version, '0.0.0-test');
    const bad = JSON.parse((await send('/api/requests/queryHistory', { method: 'POST', headers: json, body: '[{"limit":-1}]' })).body) as { ok: boolean; error: { code: string } };
    assert.deepEqual([bad.ok, bad.error.code], [false, 'invalid-argument']);
    assert.equal((await send('/api/requests/getState', { method: 'POST', headers: { ...json, origin: 'http://evil.example' }, body: '[]' })).status, 403);
    assert.equal((await send('/api/requests/getState', { method: 'POST', headers: { cookie, 'content-type': 'text/plain' }, body: '[]' })).status, 415);
    assert.equal((await send('/api/requests/getState', { headers: { cookie } })).status, 405);
    assert.equal((await send('/api/requests/__proto__', { method: 'POST', headers: json, body: '[]' })).status, 404);
    assert.equal((await send('/api/requests/getState', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' })).status, 401);
  });

  test('pushes arrive as server-sent events named by their channel', async () => {
    const url = new URL(server.origin);
    const received = new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/api/events', headers: { host: host(), cookie } }, (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream');
        let text = '';
        res.on('data', (c: Buffer) => {
          text += String(c);
          if (text.includes('event: state:changed\ndata: ')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    const saved = await send('/api/requests/updateSettings', { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify([{ intervalMs: 5000 }]) });
    assert.equal((JSON.parse(saved.body) as { ok: boolean }).ok, true, saved.body);
    const text = await received;
    const data = JSON.parse(/event: state:changed\ndata: (.*)\n/.exec(text)![1]!) as { settings: { intervalMs: number } };
    assert.equal(data.settings.intervalMs, 5000);
  });
});

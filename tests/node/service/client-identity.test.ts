/**
 * How the service names its clients, over a real HTTP server on a real Unix socket, with the
 * kernel lookup replaced by one the test controls (the real one, through the helper, is in
 * serve.test.ts): the lookup gets this connection's descriptor and socket inode, once per
 * connection; its answer is marked verified; a failure, or no answer in time, names the client by
 * what it states, marked not verified; and a client that hangs up does not close the descriptor
 * before the lookup is done.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClientNamer, type ClientFields, type PeerLookup } from '#node/service/client-identity.ts';

const skip = process.platform === 'linux' ? false : 'reads /proc/self/fd (Linux)';
const dir = mkdtempSync(join(tmpdir(), 'ghostport-client-identity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A server naming each request's client with `lookup`; the names arrive in `names`. */
async function serveNamed(lookup: PeerLookup | null, timeoutMs = 2000) {
  const namer = createClientNamer(lookup, timeoutMs);
  const names: ClientFields[] = [];
  const server = createServer((req, res) => {
    void namer(req).then((fields) => names.push(fields));
    res.end('ok');
  });
  const socketPath = join(dir, `s${Math.random().toString(36).slice(2)}.sock`);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const get = (agent = 'ghostport/1 (pid 1; uid 1000)', keepAlive = false) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ socketPath, path: '/', headers: { 'user-agent': agent, connection: keepAlive ? 'keep-alive' : 'close' } }, (res) => res.resume().on('end', resolve));
      req.on('error', reject).end();
    });
  const until = async (count: number) => {
    while (names.length < count) await new Promise((r) => setTimeout(r, 10));
  };
  return { server, socketPath, names, get, until, close: () => new Promise((r) => server.close(r)) };
}

test("the lookup gets this connection's descriptor and socket inode; its answer is verified, the User-Agent beside it", { skip }, async () => {
  const asked: [number, number, string][] = [];
  const s = await serveNamed(async (fd, inode) => {
    asked.push([fd, inode, readlinkSync(`/proc/self/fd/${fd}`)]);
    return { pid: 4711, uid: 1000, gid: 100 };
  });
  await s.get('curl/8');
  await s.until(1);
  assert.deepEqual(s.names, [{ client: 'pid=4711 uid=1000 (verified)', agent: 'curl/8' }]);
  assert.equal(asked.length, 1);
  assert.equal(asked[0]![2], `socket:[${asked[0]![1]}]`, 'the inode is the socket behind the descriptor');
  await s.close();
});

test('a keep-alive connection is one client: asked once for all its requests', { skip }, async () => {
  let asked = 0;
  const s = await serveNamed(async () => (asked++, { pid: null, uid: 0, gid: 0 }));
  const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => request({ socketPath: s.socketPath, path: '/', agent }, (res) => res.resume().on('end', resolve)).on('error', reject).end());
  }
  await s.until(3);
  agent.destroy();
  assert.equal(asked, 1);
  assert.deepEqual(s.names.map((n) => n.client), Array(3).fill('pid=unknown (another PID namespace) uid=0 (verified)'));
  await s.close();
});

test('no lookup, a failed one, or one past its time: the client is named by what it states, marked not verified', { skip }, async () => {
  const stated = { client: 'ghostport/1 (pid 1; uid 1000) (stated, not verified)' };
  for (const lookup of [null, () => Promise.reject(new Error('ghostport-diag: pidfd_getfd 1: Operation not permitted')), () => new Promise<never>(() => undefined)]) {
    const s = await serveNamed(lookup, 200);
    await s.get();
    await s.until(1);
    assert.deepEqual(s.names, [stated]);
    await s.close();
  }
});

test('a client that hangs up right after its request: the descriptor stays open until the lookup is done', { skip }, async () => {
  let answer!: () => void;
  let held = '';
  const s = await serveNamed(async (fd) => {
    await new Promise<void>((resolve) => (answer = resolve));
    held = readlinkSync(`/proc/self/fd/${fd}`); // still the socket: Node has not closed it
    return { pid: 1, uid: 0, gid: 0 };
  });
  const accepted = new Promise<Socket>((resolve) => s.server.once('connection', resolve));
  const client = connect(s.socketPath, () => client.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n', () => client.destroy()));
  const socket = await accepted;
  let closed = false;
  socket.once('close', () => (closed = true));
  while (!socket.destroyed) await new Promise((r) => setTimeout(r, 10)); // the server lets the connection go
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closed, false, 'but its descriptor waits for the lookup');
  answer();
  await new Promise((resolve) => (closed ? resolve(null) : socket.once('close', resolve)));
  assert.match(held, /^socket:\[\d+\]$/);
  await s.until(1);
  assert.equal(s.names[0]!.client, 'pid=1 uid=0 (verified)');
  await s.close();
});

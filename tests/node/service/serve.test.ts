/**
 * `ghostport serve` as a real process on a real Unix socket, watching the real port 596 (run it in
 * its own network namespace: `unshare -n`): the socket's mode and group, the read-only API and
 * its 4xx answers, the live stream with an event for a real listener, a second service refused, a
 * stale socket replaced, a client that never reads dropped while another keeps its events, 100
 * clients at once, SIGHUP reloading the settings, SIGTERM ending streams with a goodbye and exit
 * 0, a client outside the group told which group to join, each client's pid and uid from the
 * kernel in the log (what it states, marked so, without the helper), and the JSON log.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { ServiceClient, ServiceError } from '#node/service/client.ts';
import type { StreamLine } from '#node/service/api-server.ts';
import { findGroup } from '#node/service/paths.ts';
import { killAllHolders, startHolder } from '../../support/port-holder.ts';
import { serviceDirs, startService, stopAllServices, writeServiceSettings } from '../../support/serve-process.ts';
import { realTool } from '../../support/tools.ts';
import { fileURLToPath } from 'node:url';
import { buildNative, NATIVE_OUTPUT } from '../../../electron/build/build-native.ts';

const PORT = 596;
const built = buildNative(fileURLToPath(new URL('../../../', import.meta.url)));
const HELPER = fileURLToPath(new URL(`../../../${NATIVE_OUTPUT}`, import.meta.url));
const helperSkip = built.ok ? false : `the netlink helper is not built: ${built.message}`;
const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root (binds port 596, sets socket groups)' : false;

after(async () => {
  await stopAllServices();
  await killAllHolders();
});

/** One raw HTTP exchange on the socket: status and parsed body. */
function raw(socketPath: string, method: string, path: string, body?: string, headers?: Record<string, string>): Promise<{ status: number; body: { ok?: boolean; error?: { code: string; message: string } } & Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, ...(headers ? { headers } : {}) }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Waits until `done` (the service logs after it answers), or fails with `detail` after 10 s. */
async function until(done: () => boolean, detail: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    assert.ok(Date.now() < deadline, detail());
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads stream lines until one matches, or fails after the timeout. */
async function nextMatching(lines: AsyncGenerator<StreamLine>, match: (line: StreamLine) => boolean, timeoutMs = 10_000): Promise<StreamLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const next = await Promise.race([lines.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out waiting for a stream line')), Math.max(1, deadline - Date.now())))]);
    if (next.done) throw new Error('the stream ended');
    if (match(next.value)) return next.value;
  }
}

describe('ghostport serve', { skip }, () => {
  test('socket 0660 in the named group, read-only API, live events, 4xx for bad requests', async () => {
    const { socketPath } = serviceDirs();
    const group = findGroup('nogroup') ?? findGroup(65534)!;
    const service = startService({ socketPath, socketGroup: group.name, ports: [PORT] });
    await service.ready;
    const info = statSync(socketPath);
    assert.ok(info.isSocket());
    assert.equal(info.mode & 0o777, 0o660);
    assert.equal(info.gid, group.gid);
    assert.equal(statSync(dirname(socketPath)).mode & 0o777, 0o755);

    const client = await ServiceClient.connect(socketPath);
    assert.equal(client.version, '0.0.0-test');
    const stream = client.events();
    const hello = await nextMatching(stream, () => true);
    assert.equal(hello.type, 'hello');

    const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    const appeared = await nextMatching(stream, (line) => line.type === 'event' && line.event.socket.pid === holder.pid);
    assert.ok(appeared.type === 'event');
    assert.equal(appeared.event.type, 'appeared');
    assert.equal(appeared.event.socket.localPort, PORT);
    const state = await client.value('getState');
    assert.ok(state.snapshot?.sockets.some((s) => s.pid === holder.pid), 'the snapshot has the listener and its owner');
    const page = await client.value('queryHistory', { types: ['appeared'] });
    assert.ok(page.events.some((e) => e.socket.pid === holder.pid), 'the history has the event');
    const all = [];
    for await (const e of client.history({ ports: [PORT] })) all.push(e);
    assert.ok(all.some((e) => e.seq === appeared.event.seq));

    await holder.kill();
    const gone = await nextMatching(stream, (line) => line.type === 'event' && line.event.socket.pid === holder.pid);
    assert.ok(gone.type === 'event' && gone.event.type === 'disappeared' && gone.event.socket.pid === holder.pid);
    await stream.return(undefined);
    await new Promise((r) => setTimeout(r, 50)); // let the aborted stream's socket close

    // Read-only: control requests are refused; malformed ones get a 4xx with a reason.
    const cases: [string, string, string | undefined, number][] = [
      ['POST', '/v1/requests/endProcess', JSON.stringify([{ pid: 1, startedAt: null }]), 403],
      ['POST', '/v1/requests/updateSettings', JSON.stringify([{ ports: [1] }]), 403],
      ['POST', '/v1/requests/queryHistory', '{not json', 400],
      ['POST', '/v1/requests/queryHistory', JSON.stringify([{ limit: 'all' }]), 400],
      ['POST', '/v1/requests/queryHistory', JSON.stringify({ limit: 5 }), 400],
      ['POST', '/v1/requests/queryHistory', 'x'.repeat(70_000), 413],
      ['POST', '/v1/requests/__proto__', '[]', 404],
      ['POST', '/v1/requests/noSuchThing', '[]', 404],
      ['GET', '/v1/requests/getState', undefined, 405],
      ['DELETE', '/v1/events', undefined, 405],
      ['GET', '/v2/events', undefined, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const answer = await raw(socketPath, method, path, body);
      assert.equal(answer.status, status, `${method} ${path}`);
      assert.equal(answer.body.ok, false);
      assert.ok((answer.body.error?.message.length ?? 0) > 10, `a reason for ${method} ${path}`);
    }
    assert.equal((await raw(socketPath, 'GET', '/v1')).status, 200, 'still serving after bad requests');
    assert.ok(service.log().includes('ghostport/1 (pid '), 'clients are logged with the pid they give');
  });

  test('evidence still being computed at detection reaches the stream as one completed line, and the history, after the process is gone', async () => {
    const { socketPath, stateDir } = serviceDirs();
    const service = startService({ socketPath, ports: [PORT] });
    await service.ready;
    // A copy of node (about 120 MB, a new inode): hashing it takes longer than the 30 ms detection waits.
    const exe = join(dirname(stateDir), 'big-listener');
    copyFileSync(process.execPath, exe);
    const client = await ServiceClient.connect(socketPath);
    const stream = client.events();
    await nextMatching(stream, (line) => line.type === 'hello');
    const child = spawn(exe, ['-e', `require('net').createServer().listen(${PORT}, '127.0.0.1')`], { stdio: 'ignore' });
    try {
      const appeared = await nextMatching(stream, (line) => line.type === 'event' && line.event.socket.pid === child.pid);
      child.kill('SIGKILL');
      assert.ok(appeared.type === 'event');
      const expected = createHash('sha256').update(readFileSync(exe)).digest('hex');
      // Hashed within 30 ms (a fast machine) leaves nothing to complete.
      if (appeared.event.socket.process?.exeSha256 === expected) return;
      assert.match(appeared.event.socket.process?.reasons?.exeSha256 ?? '', /^still being computed at detection/);
      const completed = await nextMatching(stream, (line) => line.type === 'completed' && line.evidence.pid === child.pid);
      assert.ok(completed.type === 'completed');
      assert.equal(completed.evidence.values.exeSha256, expected);
      assert.equal(completed.evidence.startedAt, appeared.event.socket.process?.startedAt);
      const page = await client.value('queryHistory', { types: ['appeared'] });
      assert.deepEqual(page.events.filter((e) => e.socket.pid === child.pid).map((e) => [e.seq, e.socket.process?.exeSha256]), [[appeared.event.seq, expected]], 'the history holds it, in the same event');
    } finally {
      child.kill('SIGKILL');
      await stream.return(undefined);
      service.child.kill('SIGTERM');
      await service.exited;
      rmSync(exe, { force: true });
    }
  });

  test('a second serve is refused; a stale socket from a killed one is replaced', async () => {
    const { socketPath } = serviceDirs();
    const first = startService({ socketPath, ports: [PORT] });
    await first.ready;
    const second = startService({ socketPath, ports: [PORT] });
    assert.equal(await second.exited, 2);
    assert.match(second.log(), /already serving on .*ghostport\.sock/);
    assert.ok((await ServiceClient.connect(socketPath)) instanceof ServiceClient, 'the first still serves');

    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(existsSync(socketPath), 'a killed service leaves its socket file');
    await assert.rejects(ServiceClient.connect(socketPath), (error: ServiceError) => error.kind === 'absent');
    const third = startService({ socketPath, ports: [PORT] });
    await third.ready;
    await ServiceClient.connect(socketPath);
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
  });

  test('a client that never reads is dropped; a reading client gets every event; 100 clients at once', async () => {
    const { socketPath } = serviceDirs();
    const service = startService({ socketPath, ports: [PORT], maxBufferedBytes: 2 * 1024 * 1024 });
    await service.ready;
    // The stalled client: subscribes, then never reads (its kernel buffer fills, then ours).
    const stalled = connect(socketPath);
    stalled.write('GET /v1/events HTTP/1.1\r\nHost: x\r\nUser-Agent: stalled\r\n\r\n');
    stalled.pause();
    // The reading client drains its stream all along, as a real client does.
    const client = await ServiceClient.connect(socketPath);
    const received: StreamLine[] = [];
    const reading = (async () => {
      for await (const line of client.events()) received.push(line);
    })();
    reading.catch(() => undefined);
    const waitFor = async (match: (line: StreamLine) => boolean) => {
      for (const deadline = Date.now() + 15_000; !received.some(match); await new Promise((r) => setTimeout(r, 20))) {
        assert.ok(Date.now() < deadline, `the reading client gets its events (round ${rounds}; ${received.length} lines: ${received.slice(-3).map((l) => JSON.stringify(l).slice(0, 200)).join(' / ')})`);
      }
    };

    const clients = await Promise.all(Array.from({ length: 100 }, () => ServiceClient.connect(socketPath)));
    const states = await Promise.all(clients.map((c) => c.value('getState')));
    assert.equal(states.length, 100);
    assert.ok(states.every((s) => s.status.ports.includes(PORT)));

    // Churn: 150 connections to a listener on 596 come and go until the stalled client's backlog passes the bound.
    let rounds = 0;
    const pids: number[] = [];
    while (!service.log().includes('dropped a client')) {
      assert.ok(rounds++ < 20, 'the stalled client is dropped within 20 rounds');
      const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]], tcpConnect: Array.from({ length: 150 }, () => ['127.0.0.1', PORT] as const) });
      pids.push(holder.pid);
      await waitFor((l) => l.type === 'event' && l.event.type === 'appeared' && l.event.socket.pid === holder.pid);
      await holder.kill();
      // The listener's own disappearance (one of its 150 connections going first is not enough).
      await waitFor((l) => l.type === 'event' && l.event.type === 'disappeared' && l.event.socket.pid === holder.pid && l.event.socket.state === 'LISTEN');
    }
    assert.match(service.log(), /dropped a client that stopped reading.*stalled/);
    for (const pid of pids) {
      const mine = received.filter((l) => l.type === 'event' && l.event.socket.pid === pid && l.event.socket.localPort === PORT && l.event.socket.state === 'LISTEN');
      assert.deepEqual(mine.map((l) => l.type === 'event' && l.event.type), ['appeared', 'disappeared'], `the reader saw listener ${pid} come and go, once each`);
    }
    assert.ok(!received.some((l) => l.type === 'goodbye'), 'the reading client was not dropped');
    assert.equal((await raw(socketPath, 'GET', '/v1')).status, 200);
    stalled.destroy();
    service.child.kill('SIGTERM');
    await assert.rejects(reading, (error: ServiceError) => error.kind === 'lost');
  });

  test('SIGHUP reloads the settings; SIGTERM says goodbye to streams, removes the socket, exits 0', async () => {
    const { socketPath, stateDir } = serviceDirs();
    const service = startService({ socketPath, dataDir: stateDir, ports: [PORT], logFormat: 'json' });
    await service.ready;
    const client = await ServiceClient.connect(socketPath);
    writeServiceSettings(stateDir, [PORT, 5960]);
    service.child.kill('SIGHUP');
    const deadline = Date.now() + 10_000;
    while (!(await client.value('getState')).status.ports.includes(5960)) {
      assert.ok(Date.now() < deadline, 'the new ports arrive');
      await new Promise((r) => setTimeout(r, 100));
    }
    const stream = client.events();
    await nextMatching(stream, (l) => l.type === 'hello');
    service.child.kill('SIGTERM');
    const goodbye = await nextMatching(stream, (l) => l.type === 'goodbye');
    assert.ok(goodbye.type === 'goodbye' && goodbye.reason === 'stopping');
    await assert.rejects(stream.next(), (error: ServiceError) => error.kind === 'lost' && /stopping/.test(error.message));
    assert.equal(await service.exited, 0);
    assert.equal(existsSync(socketPath), false);
    const lines = service.log().trim().split('\n');
    for (const line of lines) {
      const record = JSON.parse(line) as { level: string; msg: string; time: string };
      assert.ok(record.level && record.msg && !Number.isNaN(Date.parse(record.time)), line);
    }
    assert.ok(lines.some((l) => l.includes('settings reloaded')));
  });

  const setpriv = realTool('setpriv');
  test('a user outside the socket group is told which group to join', { skip: setpriv ? false : 'needs setpriv (util-linux)' }, async () => {
    const { socketPath } = serviceDirs();
    const group = findGroup('nogroup') ?? findGroup(65534)!;
    const service = startService({ socketPath, socketGroup: group.name, ports: [PORT] });
    await service.ready;
    const script = `import('${new URL('../../../electron/node/service/client.ts', import.meta.url).pathname}').then(({ ServiceClient }) => ServiceClient.connect(${JSON.stringify(socketPath)})).then(() => console.log('CONNECTED'), (e) => console.log(e.kind + ': ' + e.message))`;
    const asUser = (gid: string) =>
      spawnSync(setpriv!, ['--reuid=daemon', `--regid=${gid}`, '--clear-groups', '--', process.execPath, '-e', script], { encoding: 'utf8', timeout: 30_000 });
    const outsider = asUser('daemon');
    assert.match(outsider.stdout, new RegExp(`^denied: Permission denied .*group "${group.name}".*usermod -aG ${group.name}`), outsider.stderr);
    const member = asUser(group.name);
    assert.equal(member.stdout.trim(), 'CONNECTED', member.stderr);
  });

  test("each client's pid and uid come from the kernel, marked verified, whatever its User-Agent says; without the helper, what it states, marked not verified", { skip: setpriv ? helperSkip : 'needs setpriv (util-linux)' }, async () => {
    const group = findGroup('nogroup') ?? findGroup(65534)!;
    const forged = 'ghostport/1 (pid 1; uid 1000)';
    /** One GET /v1 from this process, then the connection closes at once (as curl's does). */
    const get = (socketPath: string) => raw(socketPath, 'GET', '/v1', undefined, { 'user-agent': forged, connection: 'close' });
    const verified = startService({ socketPath: serviceDirs().socketPath, socketGroup: group.name, ports: [PORT] }, { GHOSTPORT_DIAG: HELPER });
    await verified.ready;
    // First (the helper not started yet), a client that hangs up right after its request: its
    // descriptor must outlive the lookup, or it would be logged as unverified.
    const hangUp = connect(verified.socketPath, () => hangUp.end('GET /v1 HTTP/1.1\r\nHost: x\r\nUser-Agent: hang-up\r\n\r\n', () => hangUp.destroy()));
    assert.equal((await get(verified.socketPath)).status, 200);
    // Another user, in the socket's group, claiming to be root.
    const script = `const r = require('http').get({ socketPath: ${JSON.stringify(verified.socketPath)}, path: '/v1', headers: { 'user-agent': 'ghostport/1 (pid 1; uid 0)' } }, (res) => { res.resume(); res.on('end', () => console.log(process.pid + ' ' + res.statusCode)); })`;
    const other = spawnSync(setpriv!, ['--reuid=nobody', `--regid=${group.gid}`, '--clear-groups', '--', process.execPath, '-e', script], { encoding: 'utf8', timeout: 30_000 });
    const [otherPid, status] = other.stdout.trim().split(' ');
    assert.equal(status, '200', other.stderr);
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout);
    const mine = `request client="pid=${process.pid} uid=0 (verified)" agent=${JSON.stringify(forged)} method="GET"`;
    const theirs = `request client="pid=${otherPid} uid=${nobody} (verified)" agent="ghostport/1 (pid 1; uid 0)" method="GET"`;
    const hungUp = `request client="pid=${process.pid} uid=0 (verified)" agent="hang-up" method="GET"`;
    await until(() => [mine, theirs, hungUp].every((line) => verified.log().includes(line)), () => verified.log());
    assert.doesNotMatch(verified.log(), /not verified/);

    const unverified = startService({ socketPath: serviceDirs().socketPath, ports: [PORT] }, { GHOSTPORT_DIAG: '/nonexistent/ghostport-diag' });
    await unverified.ready;
    assert.equal((await get(unverified.socketPath)).status, 200);
    await until(() => unverified.log().includes(`request client=${JSON.stringify(`${forged} (stated, not verified)`)} method="GET"`), () => unverified.log());
    assert.doesNotMatch(unverified.log(), /\(verified\)/);
  });
});

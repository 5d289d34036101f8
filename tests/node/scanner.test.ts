/**
 * Integration: real sockets on port 596, the real scanner (systeminformation + ss) and real
 * owners from /proc. Each test opens its sockets in a child process and kills it afterwards.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import si from 'systeminformation';
import { Engine } from '#node/engine.ts';
import type { PortSocket } from '#common/model.ts';
import { killAllHolders, startHolder } from '../support/port-holder.ts';

const PORT = 596;
const linux = process.platform === 'linux';
const root = process.getuid?.() === 0;

async function scanFor(pid: number): Promise<PortSocket[]> {
  const engine = new Engine({ ports: [PORT] });
  const snapshot = await engine.scanNow();
  assert.equal(snapshot.health === 'blind', false, `scan is blind: ${JSON.stringify(snapshot.issues)}`);
  return snapshot.sockets.filter((s) => s.pid === pid);
}

describe('scanner on real sockets', { skip: !linux || !root ? 'needs Linux and root (binds port 596)' : false }, () => {
  afterEach(killAllHolders);
  after(killAllHolders);

  test('TCP listener on IPv4 with its owner', async () => {
    const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    const [s, ...rest] = await scanFor(holder.pid);
    assert.equal(rest.length, 0);
    assert.ok(s);
    assert.equal(s.protocol, 'tcp');
    assert.equal(s.family, 4);
    assert.equal(s.localAddress, '127.0.0.1');
    assert.equal(s.localPort, PORT);
    assert.equal(s.state, 'LISTEN');
    assert.equal(s.remoteAddress, null);
    assert.equal(s.process?.pid, holder.pid);
    assert.equal(s.process?.name, 'node');
    assert.equal(s.process?.user, 'root');
    assert.equal(s.process?.path, process.execPath);
    assert.equal(s.process?.parentPid, process.pid);
    assert.ok(s.process?.startedAt && Date.parse(s.process.startedAt) <= Date.now());
  });

  test('TCP listener on IPv6 only', async () => {
    const holder = await startHolder({ tcpListen: [['::', PORT, true]] });
    const sockets = await scanFor(holder.pid);
    assert.equal(sockets.length, 1);
    assert.equal(sockets[0]!.family, 6);
    assert.equal(sockets[0]!.localAddress, '::');
    assert.equal(sockets[0]!.state, 'LISTEN');
  });

  test('unconnected UDP on IPv4 and IPv6: the gap systeminformation leaves, filled by ss', async () => {
    const holder = await startHolder({ udpBind: [['0.0.0.0', PORT], ['::', PORT, true]] });
    const sockets = await scanFor(holder.pid);
    assert.deepEqual(
      sockets.map((s) => `${s.protocol}${s.family} ${s.localAddress} ${s.state}`).sort(),
      ['udp4 0.0.0.0 UNCONN', 'udp6 :: UNCONN'],
    );
    // The gap is real: systeminformation alone does not report these sockets.
    const siRows = await si.networkConnections();
    const siUdp = siRows.filter((r) => r.protocol.startsWith('udp') && String(r.localPort) === String(PORT));
    assert.equal(siUdp.length, 0, 'systeminformation now reports unconnected UDP: the ss gap-filler may be unnecessary');
  });

  test('outbound connection to a remote 596: the client side with its pid, and the server side', async () => {
    const server = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    const client = await startHolder({ tcpConnect: [['127.0.0.1', PORT]] });
    const clientSide = await scanFor(client.pid);
    assert.equal(clientSide.length, 1);
    assert.equal(clientSide[0]!.side, 'remote');
    assert.equal(clientSide[0]!.remotePort, PORT);
    assert.equal(clientSide[0]!.state, 'ESTABLISHED');
    assert.equal(clientSide[0]!.process?.pid, client.pid);
    const serverSide = await scanFor(server.pid);
    const accepted = serverSide.find((s) => s.state === 'ESTABLISHED');
    assert.ok(accepted, 'the accepted connection is reported');
    assert.equal(accepted.localPort, PORT);
    assert.equal(accepted.remotePort, clientSide[0]!.localPort);
    assert.ok(serverSide.some((s) => s.state === 'LISTEN'));
  });

  test('a process of another user (bound as root, then dropped to nobody)', async () => {
    const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]], dropTo: 'nobody' });
    const sockets = await scanFor(holder.pid);
    assert.equal(sockets.length, 1);
    assert.equal(sockets[0]!.process?.user, 'nobody');
  });

  test('a command line with spaces, quotes and Unicode is captured faithfully', async () => {
    const args = ['arg with spaces', `it's "quoted"`, 'ünïcødé ☃ 端口'];
    const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]], extraArgs: args });
    const [s] = await scanFor(holder.pid);
    assert.ok(s?.process);
    assert.deepEqual(s.process.argv?.slice(-3), args);
    assert.ok(s.process.command.endsWith(args.join(' ')));
  });

  test('10,000 unrelated sockets on the host and still exactly the right answer', { timeout: 120_000 }, async () => {
    const noise = await startHolder({ noisePairs: 5000, fdLimit: 20_000 });
    const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]], udpBind: [['127.0.0.1', PORT]] });
    const engine = new Engine({ ports: [PORT] });
    const snapshot = await engine.scanNow();
    const mine = snapshot.sockets.filter((s) => s.pid === holder.pid);
    assert.deepEqual(mine.map((s) => `${s.protocol} ${s.state}`).sort(), ['tcp LISTEN', 'udp UNCONN']);
    assert.equal(snapshot.sockets.filter((s) => s.pid === noise.pid).length, 0, 'no unrelated socket leaks in');
    assert.ok(snapshot.sockets.every((s) => s.localPort === PORT || s.remotePort === PORT));
  });
});

/**
 * The in-process /proc/net probe must see exactly what the kernel-filtered ss sees, since the
 * scanner switches between them by table size.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { decodeProcNetAddress, readProcNet, socketTableSize } from '#node/proc-net.ts';
import { parseSsOutput, endpointKey, type RawSocket } from '#common/socket-parse.ts';
import { ssArgs } from '#node/scanner.ts';
import { killAllHolders, startHolder } from '../support/port-holder.ts';

const realSockets = process.platform === 'linux' && process.getuid?.() === 0 ? false : 'needs Linux and root (binds port 596)';
after(killAllHolders);

test('addresses decode as ss prints them', () => {
  assert.equal(decodeProcNetAddress('0100007F'), '127.0.0.1');
  assert.equal(decodeProcNetAddress('00000000000000000000000000000000'), '::');
  assert.equal(decodeProcNetAddress('00000000000000000000000001000000'), '::1');
  assert.equal(decodeProcNetAddress('0000000000000000FFFF00000100007F'), '127.0.0.1', 'IPv4-mapped');
  assert.equal(decodeProcNetAddress('B80D0120000000000000000001000000'), '2001:db8::1');
});

test('the socket table size is known on Linux', { skip: process.platform !== 'linux' }, () => {
  const size = socketTableSize();
  assert.ok(size !== null && size >= 0);
});

test('/proc/net and ss agree on every socket of the watched port', { skip: realSockets }, async () => {
  const server = await startHolder({
    tcpListen: [['127.0.0.1', 596], ['::', 596, true]],
    udpBind: [['0.0.0.0', 596], ['::1', 596, true]],
  });
  const client = await startHolder({ tcpConnect: [['127.0.0.1', 596]] });
  const fromSs = parseSsOutput(execFileSync('ss', ssArgs([596]), { encoding: 'utf8' })).sockets;
  const fromProc = readProcNet([596]);
  const key = (s: RawSocket) => `${endpointKey(s)}|${s.state}|${s.inode}|${s.family}`;
  const mine = (rows: typeof fromSs) => rows.filter((s) => s.state !== 'TIME_WAIT').map(key).sort();
  assert.deepEqual(mine(fromProc), mine(fromSs));
  assert.ok(fromProc.length >= 6, `listeners, UDP and both ends of the connection: ${fromProc.length}`);
  await server.kill();
  await client.kill();
});

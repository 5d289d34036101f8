/**
 * The ss and systeminformation parsers: real output shapes, and properties over generated input
 * (fast-check): parsing never throws, and what parses round-trips its fields.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  endpointKey,
  fromSiConnection,
  normalizeAddress,
  normalizeState,
  parseSsLine,
  parseSsOutput,
} from '#common/socket-parse.ts';
import { ssArgs } from '#node/scanner.ts';

// Lines as `ss -H -tuanpe` printed them on Debian 12 (iproute2 6.1).
const SAMPLE = `udp UNCONN 0      0        0.0.0.0:596     0.0.0.0:*     users:(("nc",pid=4711,fd=3)) ino:7104 sk:1 cgroup:/ <->
tcp LISTEN 0      128    127.0.0.1:596     0.0.0.0:*     users:(("python3",pid=6848,fd=5)) ino:7105 sk:2 cgroup:/ <->
tcp ESTAB  0      0      127.0.0.1:53900 127.0.0.1:596   users:(("curl",pid=12,fd=3)) uid:1000 ino:7106 sk:3 cgroup:/ <->
tcp LISTEN 0      128         [::]:596        [::]:*     users:(("my server",pid=20,fd=3),("my server",pid=21,fd=3)) ino:7103 sk:5 cgroup:/ v6only:1 <->
tcp LISTEN 0      511            *:596            *:*    ino:9 sk:6 cgroup:/ v6only:0 <->
tcp TIME-WAIT 0   0      127.0.0.1:596   127.0.0.1:52300 timer:(timewait,59sec,0) ino:0 sk:7 <->
tcp ESTAB 0 0 [::ffff:127.0.0.1]:596 [::ffff:10.1.2.3]:40000 ino:10 sk:8 <->
udp UNCONN 0 0 127.0.0.1%lo:596 0.0.0.0:* ino:11 sk:9 <->
`;

describe('parseSsOutput', () => {
  const { sockets, skipped } = parseSsOutput(SAMPLE);

  test('parses every line of real output', () => {
    assert.equal(skipped, 0);
    assert.equal(sockets.length, 8);
  });

  test('UDP unconnected, with pid and inode', () => {
    assert.deepEqual(sockets[0], {
      protocol: 'udp', family: 4, localAddress: '0.0.0.0', localPort: 596, remoteAddress: null, remotePort: null,
      state: 'UNCONN', pid: 4711, pids: [4711], inode: 7104, uid: null,
    });
  });

  test('states map to netstat names; uid is read', () => {
    assert.equal(sockets[2]!.state, 'ESTABLISHED');
    assert.equal(sockets[2]!.uid, 1000);
    assert.equal(sockets[2]!.remotePort, 596);
    assert.equal(sockets[5]!.state, 'TIME_WAIT');
    assert.equal(sockets[5]!.inode, 0);
  });

  test('process names with spaces and shared listeners', () => {
    assert.deepEqual(sockets[3]!.pids, [20, 21]);
    assert.equal(sockets[3]!.pid, 20);
    assert.equal(sockets[3]!.family, 6);
    assert.equal(sockets[3]!.localAddress, '::');
  });

  test('a dual-stack wildcard is an IPv6 socket on ::', () => {
    assert.equal(sockets[4]!.family, 6);
    assert.equal(sockets[4]!.localAddress, '::');
    assert.equal(sockets[4]!.remoteAddress, null);
    assert.equal(sockets[4]!.pid, null, 'no users: field (not root) means no pid');
  });

  test('IPv4-mapped addresses normalize to dotted IPv4; device scopes are dropped', () => {
    assert.equal(sockets[6]!.localAddress, '127.0.0.1');
    assert.equal(sockets[6]!.remoteAddress, '10.1.2.3');
    assert.equal(sockets[6]!.family, 6);
    assert.equal(sockets[7]!.localAddress, '127.0.0.1');
  });

  test('garbage lines are skipped and counted, not guessed', () => {
    const r = parseSsOutput('Netid State\nnonsense\ntcp LISTEN 0 0 nohostport x\nraw UNCONN 0 0 0.0.0.0:1 0.0.0.0:*\n');
    assert.equal(r.sockets.length, 0);
    assert.equal(r.skipped, 4);
  });
});

describe('parser properties', () => {
  test('parseSsLine never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (line) => {
      parseSsLine(line);
    }), { numRuns: 2000 });
  });

  test('generated ss lines round-trip their fields', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
    const port = fc.integer({ min: 1, max: 65535 });
    const name = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('))') && !s.includes('\n'));
    fc.assert(
      fc.property(fc.constantFrom('tcp', 'udp'), v4, port, v4, port, fc.integer({ min: 1, max: 4_000_000 }), name, fc.nat(), (proto, la, lp, ra, rp, pid, pname, ino) => {
        const line = `${proto} ESTAB 0 0 ${la}:${lp} ${ra}:${rp} users:(("${pname}",pid=${pid},fd=3)) ino:${ino} sk:1 <->`;
        const s = parseSsLine(line);
        assert.ok(s);
        assert.equal(s.protocol, proto);
        assert.equal(s.localAddress, la);
        assert.equal(s.localPort, lp);
        assert.equal(s.remoteAddress, ra);
        assert.equal(s.remotePort, rp);
        assert.equal(s.pid, pid);
        assert.equal(s.inode, ino);
        assert.equal(s.state, 'ESTABLISHED');
      }),
      { numRuns: 500 },
    );
  });

  test('fromSiConnection never throws and rejects what is not a socket', () => {
    fc.assert(fc.property(fc.anything(), (row) => {
      if (row && typeof row === 'object') fromSiConnection(row as never);
    }), { numRuns: 1000 });
    assert.equal(fromSiConnection({ protocol: 'tcp', localAddress: '0.0.0.0', localPort: 'x', state: 'LISTEN' }), null);
    assert.equal(fromSiConnection({ protocol: 'icmp', localAddress: '0.0.0.0', localPort: '596' }), null);
  });
});

describe('normalization and merging', () => {
  test('states and addresses', () => {
    assert.equal(normalizeState('ESTAB', 'tcp'), 'ESTABLISHED');
    assert.equal(normalizeState('BOUND-INACTIVE', 'tcp'), 'BOUND');
    assert.equal(normalizeState('', 'udp'), 'UNCONN');
    assert.equal(normalizeState('fin-wait-1', 'tcp'), 'FIN_WAIT1');
    assert.equal(normalizeAddress('[::FFFF:192.168.0.1]'), '192.168.0.1');
    assert.equal(normalizeAddress('*'), '::');
    assert.equal(normalizeAddress('[FE80::1]'), 'fe80::1');
  });

  test('systeminformation rows (netstat backend, string ports) key the same as ss rows for the same socket', () => {
    const si = fromSiConnection({ protocol: 'tcp6', localAddress: '::', localPort: '596', peerAddress: '::', peerPort: '*', state: 'LISTEN', pid: 20, process: 'my' });
    const [ss] = parseSsOutput('tcp LISTEN 0 128 [::]:596 [::]:* users:(("my server",pid=20,fd=3)) ino:7103 sk:5 <->').sockets;
    assert.ok(si && ss);
    assert.equal(endpointKey(si), endpointKey(ss));
  });

  test('the kernel filter covers every watched port on both sides', () => {
    assert.deepEqual(ssArgs([596, 8080]), ['-H', '-tuane', '( sport = :596 or dport = :596 or sport = :8080 or dport = :8080 )']);
  });
});

/**
 * The UDP side of the kernel's sightings (eBPF events, as bpf-events.ts parses them), on its own
 * with an injected world: no root needed, so it runs everywhere. A datagram is an instant; a
 * bind or connect opens a socket its close (by cookie) ends, the close naming the port a connect
 * had not been given yet; a socket a scan saw is the poll's; a flood of fresh sockets of one flow
 * is counted; the socket's own namespace comes from the event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBpfLine } from '#node/bpf-events.ts';
import { parseTraceLine } from '#node/kernel-events.ts';
import { KernelSightings } from '#node/kernel-sightings.ts';
import type { KernelTransition } from '#node/kernel-events.ts';
import type { NetnsRef, PortSocket } from '#common/model.ts';

const HOST = 4026531840;
let clock = 0;

function sightings(pidNetns: Record<number, number> = {}) {
  const reads: number[] = [];
  const s = new KernelSightings({
    readProcessInfo: async (pid) => (reads.push(pid), { pid, name: 'python3', path: '/usr/bin/python3', command: 'python3 -c …', user: 'root', parentPid: 1, startedAt: null }),
    readCommand: () => 'python3 -c …',
    netnsOf: (pid): NetnsRef | null => (pidNetns[pid] ? { inode: pidNetns[pid]!, host: pidNetns[pid] === HOST, label: pidNetns[pid] === HOST ? 'host' : `pid ${pid} (python3)` } : null),
    hostNetns: () => HOST,
    now: () => clock,
  });
  return { s, reads };
}

/** One helper line, as the helper prints it. */
function event(kind: string, local: string, lport: string, remote: string, rport: string, pid: number, cookie: number, netns = HOST, family = 4): KernelTransition {
  const parsed = parseBpfLine(`event ${kind} udp ${family} ${local} ${lport} ${remote} ${rport} ${pid} 707974686f6e33 ${netns} 3 ${cookie} ${1_000_000_000 + cookie}`);
  assert.ok(parsed?.type === 'event');
  return parsed.transition;
}

const polled = (s: Partial<PortSocket>) => ({ protocol: 'udp' as const, localAddress: '0.0.0.0', localPort: 596, remoteAddress: null, remotePort: null, netns: { inode: HOST, host: true, label: 'host' }, ...s });

test('a datagram is an instant: reported at the next scan as its socket, with the destination', async () => {
  const { s } = sightings({ 10: HOST });
  assert.equal(s.take([event('send', '0.0.0.0', '40000', '127.0.0.1', '596', 10, 1)]), true, 'worth a scan');
  const [only, ...rest] = await s.reconcile([]);
  assert.deepEqual(rest, []);
  assert.equal(only?.transition.protocol, 'udp');
  assert.equal(only?.transition.localPort, 40000);
  assert.equal(only?.transition.remoteAddress, '127.0.0.1');
  assert.equal(only?.transition.remotePort, 596);
  assert.equal(only?.state, 'UNCONN');
  assert.equal(only?.owner?.pid, 10);
  assert.deepEqual(await s.reconcile([]), [], 'reported once');
});

test('a closed socket\'s port given to the next socket at once: two datagrams, two sightings (the kernel\'s cookie tells them apart)', async () => {
  const { s } = sightings({ 10: HOST });
  s.take([event('send', '0.0.0.0', '40000', '127.0.0.1', '596', 10, 1), event('send', '0.0.0.0', '40000', '127.0.0.1', '596', 10, 2)]);
  assert.equal((await s.reconcile([])).length, 2);
  s.take([event('send', '0.0.0.0', '40000', '127.0.0.1', '596', 10, 3), event('send', '0.0.0.0', '40000', '127.0.0.1', '596', 10, 3)]);
  assert.equal((await s.reconcile([])).length, 1, 'one socket sending twice is one sighting');
  assert.equal(s.coalesced, 1);
});

test('a flood of fresh sockets of one flow: eight a scan, the rest counted; owners read once a second', async () => {
  const { s, reads } = sightings({ 10: HOST });
  s.take(Array.from({ length: 1000 }, (_, i) => event('send', '0.0.0.0', String(20000 + i), '127.0.0.1', '596', 10, 100 + i)));
  assert.equal((await s.reconcile([])).length, 8);
  assert.equal(s.coalesced, 992);
  assert.deepEqual(reads, [10]);
  // Another destination is another flow.
  s.take([event('send', '::', '30000', '::1', '596', 10, 5000, HOST, 6)]);
  assert.equal((await s.reconcile([])).length, 1);
});

test('a 50 ms bind no scan saw: a pair at its close; one a scan saw is the poll\'s', async () => {
  const { s } = sightings({ 11: HOST });
  assert.equal(s.take([event('bind', '127.0.0.1', '596', '*', '*', 11, 7)]), true);
  assert.deepEqual(await s.reconcile([]), [], 'still open: nothing yet');
  assert.equal(s.take([event('close', '127.0.0.1', '596', '*', '*', 11, 7)]), true);
  const [pair] = await s.reconcile([]);
  assert.equal(pair?.transition.localPort, 596);
  assert.equal(pair?.transition.remotePort, null);

  s.take([event('bind', '127.0.0.1', '596', '*', '*', 11, 8)]);
  assert.deepEqual(await s.reconcile([polled({ localAddress: '127.0.0.1' })]), []);
  s.take([event('close', '127.0.0.1', '596', '*', '*', 11, 8)]);
  assert.deepEqual(await s.reconcile([]), [], 'the poll reports it');
  assert.equal(s.take([event('close', '127.0.0.1', '596', '*', '*', 11, 99)]), false, 'the close of a socket not tracked is no news');
});

test('a connect before its port was chosen: matched by its remote end while open, named by its close', async () => {
  const { s } = sightings({ 12: HOST });
  s.take([event('connect', '0.0.0.0', '*', '127.0.0.1', '596', 12, 9)]);
  // The scan saw it connected, with the port the kernel gave it: the poll's socket.
  assert.deepEqual(await s.reconcile([polled({ localAddress: '127.0.0.1', localPort: 45000, remoteAddress: '127.0.0.1', remotePort: 596 })]), []);
  s.take([event('close', '127.0.0.1', '45000', '127.0.0.1', '596', 12, 9)]);
  assert.deepEqual(await s.reconcile([]), []);
  // No scan saw this one: its close names the port.
  s.take([event('connect', '0.0.0.0', '*', '127.0.0.1', '596', 12, 10), event('close', '127.0.0.1', '45001', '127.0.0.1', '596', 12, 10)]);
  const [pair] = await s.reconcile([]);
  assert.equal(pair?.transition.localPort, 45001);
  assert.equal(pair?.state, 'ESTABLISHED');
});

test('the socket\'s own namespace comes from the event: another than its process\'s, or its process gone', async () => {
  const { s } = sightings({ 13: HOST });
  s.take([event('send', '0.0.0.0', '40000', '127.0.0.1', '596', 13, 20, 4026532999), event('send', '0.0.0.0', '40001', '127.0.0.1', '596', 14, 21, HOST)]);
  const [other, gone] = await s.reconcile([]);
  assert.deepEqual(other?.netns, { inode: 4026532999, host: false, label: 'pid 13 (python3)' });
  assert.deepEqual(gone?.netns, { inode: HOST, host: true, label: 'host' });
  // The same endpoints in another namespace are another socket than the one a scan saw.
  s.take([event('bind', '127.0.0.1', '596', '*', '*', 13, 22, 4026532999), event('close', '127.0.0.1', '596', '*', '*', 13, 22, 4026532999)]);
  assert.equal((await s.reconcile([polled({ localAddress: '127.0.0.1' })])).length, 1);
});

/** One helper line of a TCP bind or close. */
function tcpEvent(kind: 'bind' | 'close', local: string, pid: number, cookie: number, netns = HOST): KernelTransition {
  const parsed = parseBpfLine(`event ${kind} tcp 4 ${local} 596 * * ${pid} 707974686f6e33 ${netns} 3 ${cookie} ${1_000_000_000 + cookie}`);
  assert.ok(parsed?.type === 'event');
  return parsed.transition;
}

test('TCP from the eBPF helper: only binds and their closes parse; a bind is BOUND', () => {
  assert.equal(parseBpfLine('event send tcp 4 0.0.0.0 40000 127.0.0.1 596 10 70 1 3 1 1'), null);
  assert.equal(parseBpfLine('event connect tcp 4 0.0.0.0 * 127.0.0.1 596 10 70 1 3 1 1'), null);
  const bind = tcpEvent('bind', '0.0.0.0', 10, 1);
  assert.deepEqual([bind.protocol, bind.oldState, bind.newState, bind.localPort, bind.remotePort], ['tcp', 'CLOSE', 'BOUND', 596, null]);
  const close = tcpEvent('close', '0.0.0.0', 10, 1);
  assert.deepEqual([close.oldState, close.newState], ['BOUND', 'CLOSE']);
});

test('a TCP socket bound and closed before any scan: one sighting, BOUND, with its owner; one a scan saw: none', async () => {
  const { s } = sightings({ 10: HOST });
  assert.equal(s.take([tcpEvent('bind', '0.0.0.0', 10, 1)]), true, 'a bind is worth a scan');
  assert.equal(s.take([tcpEvent('close', '0.0.0.0', 10, 1)]), true, 'its close too');
  const [only, ...rest] = await s.reconcile([]);
  assert.deepEqual(rest, []);
  assert.deepEqual([only?.transition.protocol, only?.state, only?.owner?.pid, only?.netns?.host], ['tcp', 'BOUND', 10, true]);
  s.take([tcpEvent('bind', '127.0.0.1', 10, 2)]);
  assert.deepEqual(await s.reconcile([polled({ protocol: 'tcp', localAddress: '127.0.0.1' })]), [], 'the scan it prompted found it');
  s.take([tcpEvent('close', '127.0.0.1', 10, 2)]);
  assert.deepEqual(await s.reconcile([]), [], 'seen by a scan: the poll reports its going');
});

test('a TCP bind followed by listen() is one socket, a listener, whichever source is read first', async () => {
  const { s } = sightings({ 10: HOST });
  const listen: KernelTransition = { family: 4, localAddress: '0.0.0.0', localPort: 596, remoteAddress: null, remotePort: null, oldState: 'CLOSE', newState: 'LISTEN', pid: 10, comm: 'python3', stamp: '5.000001' };
  const closed: KernelTransition = { ...listen, oldState: 'LISTEN', newState: 'CLOSE', stamp: '5.2' };
  for (const order of [[tcpEvent('bind', '0.0.0.0', 10, 1), listen], [listen, tcpEvent('bind', '0.0.0.0', 10, 1)]]) {
    for (const t of order) s.take([t]);
    s.take([closed]);
    const [only, ...rest] = await s.reconcile([]);
    assert.deepEqual(rest, []);
    assert.equal(only?.state, 'LISTEN');
  }
});

test('two processes connect to one address at once: the refused connect is named by the process its close ran in, not by the older connect', async () => {
  const { s } = sightings({ 20: HOST, 21: HOST });
  const trace = (comm: string, pid: number, sport: number, from: string, to: string) =>
    parseTraceLine(`${comm}-${pid} [000] ..... 1.0${pid}: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=${sport} dport=596 saddr=127.0.0.1 daddr=127.0.0.1 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.1 oldstate=TCP_${from} newstate=TCP_${to}`)!;
  // 20 connects first (and is accepted later); 21's connect is refused meanwhile.
  s.take([trace('node', 20, 0, 'CLOSE', 'SYN_SENT'), trace('uring-596', 21, 0, 'CLOSE', 'SYN_SENT'), trace('uring-596', 21, 51692, 'SYN_SENT', 'CLOSE')]);
  const [refused, ...rest] = await s.reconcile([]);
  assert.deepEqual(rest, []);
  assert.deepEqual([refused?.pid, refused?.comm, refused?.owner?.pid, refused?.transition.localPort], [21, 'uring-596', 21, 51692]);
});

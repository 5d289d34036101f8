import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PortSocket } from '#common/model.ts';
import { makeProcess, makeSocket } from '../common/desktop-fixtures.ts';
import { describeSide, describeState, formatBytes, formatPercent, formatTransport, orderForDisplay } from '../../renderer/src/format/socket.ts';
import { formatEndpoint } from '#common/display-text.ts';
import { formatDetailsText, socketLine } from '../../renderer/src/format/details-text.ts';

const process = makeProcess({ pid: 4242, name: 'nc\n<b>', path: '/usr/bin/nc.openbsd', command: 'nc -l 596\u202E', uid: 1000, parentPid: 1 });
const socket = (over: Partial<PortSocket> = {}): PortSocket => makeSocket({ process, ...over });

test('endpoints bracket IPv6 and mark wildcards', () => {
  assert.equal(formatEndpoint('127.0.0.1', 596), '127.0.0.1:596');
  assert.equal(formatEndpoint('::1', 596), '[::1]:596');
  assert.equal(formatEndpoint('::ffff:10.0.0.1', 40000), '[::ffff:10.0.0.1]:40000');
  assert.equal(formatEndpoint('', 596), '*:596');
  assert.equal(formatEndpoint('10.0.0.1', null), '10.0.0.1:*');
  assert.equal(formatEndpoint(null, 596), '*:596');
  assert.equal(formatEndpoint(null, null), '*');
  assert.equal(formatTransport({ protocol: 'udp', family: 6 }), 'UDP \u00B7 IPv6');
});

test('states and sides in words; unknown states pass through', () => {
  assert.equal(describeState('LISTEN'), 'Listening');
  assert.equal(describeState('UNCONN'), 'Bound');
  assert.equal(describeState('established'), 'Connected');
  assert.equal(describeState('WEIRD'), 'WEIRD');
  assert.equal(describeSide(socket()), 'bound to');
  assert.equal(describeState('BOUND'), 'Bound, not listening');
  assert.equal(describeSide(socket({ state: 'BOUND' })), 'bound to');
  assert.equal(describeSide(socket({ state: 'ESTABLISHED' })), 'connected on');
  assert.equal(describeSide(socket({ side: 'remote', state: 'ESTABLISHED' })), 'talking to');
});

test('sizes and percentages', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(48_123_456), '48 MB');
  assert.equal(formatBytes(1_500_000), '1.5 MB');
  assert.equal(formatBytes(null), '\u2014');
  assert.equal(formatPercent(0.44), '0.4 %');
  assert.equal(formatPercent(37.6), '38 %');
  assert.equal(formatPercent(undefined), '\u2014');
});

test('sockets are listed oldest first so new ones never push rows down', () => {
  const a = socket({ id: 'a', firstSeenAt: '2026-01-01T10:00:05.000Z' });
  const b = socket({ id: 'b', firstSeenAt: '2026-01-01T10:00:01.000Z' });
  const c = socket({ id: 'c', firstSeenAt: '2026-01-01T10:00:01.000Z' });
  assert.deepEqual(orderForDisplay([a, c, b]).map((s) => s.id), ['b', 'c', 'a']);
  const input = [a, b];
  orderForDisplay(input);
  assert.deepEqual(input.map((s) => s.id), ['a', 'b'], 'the input is not reordered in place');
});

test('copied details carry every field with hidden characters escaped', () => {
  const text = formatDetailsText({
    details: { captured: process, running: true, live: null, parents: [makeProcess({ pid: 1, name: 'init', command: '/sbin/init' })], sockets: [socket()], allowlisted: false },
    socket: socket(),
    event: { seq: 7, type: 'appeared', at: '2026-01-31T10:00:01.000Z', socket: socket(), flapping: false },
  });
  assert.match(text, /^Ghostport process details\n/);
  assert.match(text, /PID: 4242\n/);
  assert.match(text, /Name: nc\\n<b>\n/);
  assert.match(text, /Command line: nc -l 596\\u202e\n/);
  assert.match(text, /Executable: \/usr\/bin\/nc.openbsd\n/);
  assert.match(text, /User: bob \(uid 1000\)\n/);
  assert.match(text, /Event: appeared at .* history #7\n/);
  assert.match(text, /Running now: yes\n/);
  assert.match(text, /Parents:\n {2}1 init \/sbin\/init\n/);
  assert.doesNotMatch(text.replaceAll('\n', ''), /[\u0000-\u001f\u202e]/);
  assert.equal(socketLine(socket({ family: 6, localAddress: '::', remoteAddress: '::1', remotePort: 5000, state: 'ESTABLISHED' })), 'TCP IPv6 [::]:596 -> [::1]:5000 ESTABLISHED');
});

test('an unknown owner is said so in the copied text', () => {
  const text = formatDetailsText({ details: null, socket: socket({ process: null, pid: null, ownerUnknownReason: 'not elevated' }), event: null });
  assert.match(text, /Owner: unknown \(not elevated\)/);
});

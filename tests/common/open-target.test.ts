import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTargetForEvent, openTargetForEvents, openTargetForSocket, sameProcessRef } from '#common/open-target.ts';
import { makeEvent, makeProcess, makeSocket } from './desktop-fixtures.ts';

test('an event with a known owner opens that process, by pid and start time', () => {
  const event = makeEvent({ seq: 42 });
  assert.deepEqual(openTargetForEvent(event), {
    kind: 'process',
    process: { pid: 4711, startedAt: '2026-01-31T10:00:00.000Z' },
    seq: 42,
    socketId: event.socket.id,
  });
});

test('an event with a hidden owner opens the event itself', () => {
  const event = makeEvent({ seq: 7, socket: makeSocket({ process: null, pid: null }) });
  const target = openTargetForEvent(event);
  assert.equal(target.kind, 'event');
  assert.equal(target.process, null);
  assert.equal(target.seq, 7);
});

test('an event the history could not store (seq 0) has no row to open', () => {
  assert.equal(openTargetForEvent(makeEvent({ seq: 0 })).seq, null);
});

test('a live socket opens its process', () => {
  const target = openTargetForSocket(makeSocket());
  assert.equal(target.kind, 'process');
  assert.equal(target.process?.pid, 4711);
  assert.equal(target.seq, null);
});

test('several events of one process open that process; of several processes, the newest event', () => {
  const same = [makeEvent({ seq: 1 }), makeEvent({ seq: 2, type: 'disappeared' })];
  const t1 = openTargetForEvents(same);
  assert.equal(t1?.kind, 'process');
  assert.equal(t1?.seq, 2);
  const other = makeSocket({ id: 'other', process: makeProcess({ pid: 12, name: 'python3' }) });
  const mixed = [makeEvent({ seq: 3 }), makeEvent({ seq: 4, socket: other })];
  const t2 = openTargetForEvents(mixed);
  assert.equal(t2?.kind, 'event');
  assert.equal(t2?.seq, 4);
  assert.equal(t2?.socketId, 'other');
  assert.equal(openTargetForEvents([]), null);
});

test('a reused pid with another start time is another process', () => {
  assert.equal(sameProcessRef({ pid: 1, startedAt: 'a' }, { pid: 1, startedAt: 'a' }), true);
  assert.equal(sameProcessRef({ pid: 1, startedAt: 'a' }, { pid: 1, startedAt: 'b' }), false);
  assert.equal(sameProcessRef(null, { pid: 1, startedAt: 'a' }), false);
});

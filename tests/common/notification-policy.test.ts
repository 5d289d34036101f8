import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_NOTIFICATION_LIMITS, INITIAL_NOTIFIER_STATE, planNotifications } from '#common/notification-policy.ts';
import type { NotificationContext, NotifierState } from '#common/notification-policy.ts';
import type { PortEvent } from '#common/model.ts';
import { DEFAULT_SETTINGS } from '#common/settings.ts';
import { makeEvent, makeProcess, makeSocket } from './desktop-fixtures.ts';

const T0 = 1_800_000_000_000;

function context(now: number, overrides: Partial<NotificationContext['settings']> = {}): NotificationContext {
  return { now, platform: 'linux', settings: { notifications: DEFAULT_SETTINGS.notifications, allowlist: [], ...overrides } };
}

function socketOf(pid: number, name: string, port = 596) {
  return makeSocket({ id: `s${pid}-${port}`, watchedPort: port, localPort: port, process: makeProcess({ pid, name, path: `/usr/bin/${name}` }) });
}

test('one new listener: says what, who and why port 596 matters, and opens its process', () => {
  const plan = planNotifications(INITIAL_NOTIFIER_STATE, [makeEvent({ seq: 5 })], context(T0));
  assert.equal(plan.notifications.length, 1);
  const [note] = plan.notifications;
  assert.equal(note?.title, 'Something is listening on port 596');
  assert.match(note?.body ?? '', /^nc \(pid 4711, user bob\) listening on 596\nTCP 0\.0\.0\.0:596 listening\. /);
  assert.match(note?.body ?? '', /SMSD, a DEC protocol nothing uses today/);
  assert.deepEqual(note?.target, { kind: 'process', process: { pid: 4711, startedAt: '2026-01-31T10:00:00.000Z' }, seq: 5, socketId: makeSocket().id });
  assert.equal(note?.kind, 'single');
});

test('a TCP socket only bound (BOUND) holds the port without listening, and says so', () => {
  const socket = makeSocket({ state: 'BOUND' });
  const [note] = planNotifications(INITIAL_NOTIFIER_STATE, [makeEvent({ seq: 5, socket })], context(T0)).notifications;
  assert.equal(note?.title, 'Something holds port 596 (bound, not listening yet)');
  assert.match(note?.body ?? '', /^nc \(pid 4711, user bob\) bound to 596\nTCP 0\.0\.0\.0:596 bound\. /);
});

test('the one line that matters most: a deleted executable from a unit, a binary from no package in a container', () => {
  const deleted = makeSocket({ process: makeProcess({ name: 'python3', exeDeleted: true, unit: 'cron.service' }) });
  const [note] = planNotifications(INITIAL_NOTIFIER_STATE, [makeEvent({ socket: deleted })], context(T0)).notifications;
  assert.match(note?.body ?? '', /^python3 \(pid 4711, user bob\) \[deleted executable\] from cron\.service listening on 596\n/);
  const loose = makeSocket({
    state: 'ESTABLISHED',
    side: 'remote',
    localPort: 40000,
    remoteAddress: '203.0.113.9',
    remotePort: 596,
    process: makeProcess({ package: null, reasons: { package: 'not from a package: no dpkg package lists /tmp/x' }, container: { runtime: 'docker', id: 'f'.repeat(64) } }),
  });
  const [out] = planNotifications(INITIAL_NOTIFIER_STATE, [makeEvent({ socket: loose })], context(T0)).notifications;
  assert.match(out?.body ?? '', /^nc \(pid 4711, user bob\) \[not from a package\] in docker container ffffffffffff connected to 596\n/);
});

test('connections are told apart from listeners, by direction', () => {
  const outgoing = makeSocket({ state: 'ESTABLISHED', side: 'remote', localPort: 40000, remoteAddress: '203.0.113.9', remotePort: 596 });
  const incoming = makeSocket({ state: 'ESTABLISHED', side: 'local', remoteAddress: '10.0.0.5', remotePort: 51234 });
  assert.equal(planNotifications(INITIAL_NOTIFIER_STATE, [makeEvent({ socket: outgoing })], context(T0)).notifications[0]?.title, 'Outgoing connection to port 596');
  assert.equal(planNotifications(INITIAL_NOTIFIER_STATE, [makeEvent({ socket: incoming })], context(T0)).notifications[0]?.title, 'Connection on port 596');
});

test('other watched ports do not claim to be SMSD', () => {
  const event = makeEvent({ socket: socketOf(9, 'redis', 6379) });
  const [note] = planNotifications(INITIAL_NOTIFIER_STATE, [event], context(T0)).notifications;
  assert.equal(note?.title, 'Something is listening on port 6379');
  assert.match(note?.body ?? '', /Port 6379 is on your watch list\./);
  assert.doesNotMatch(note?.body ?? '', /SMSD/);
});

test('nothing when notifications are off, and held-back events are forgotten', () => {
  const held: NotifierState = { ...INITIAL_NOTIFIER_STATE, heldBack: [makeEvent()], heldBackCount: 4 };
  const plan = planNotifications(held, [makeEvent()], context(T0, { notifications: { ...DEFAULT_SETTINGS.notifications, enabled: false } }));
  assert.equal(plan.notifications.length, 0);
  assert.equal(plan.state.heldBackCount, 0);
  assert.equal(plan.retryAt, null);
});

test('disappearances notify only when the user asked for them', () => {
  const gone = makeEvent({ type: 'disappeared' });
  assert.equal(planNotifications(INITIAL_NOTIFIER_STATE, [gone], context(T0)).notifications.length, 0);
  const on = { notifications: { enabled: true, onAppeared: true, onDisappeared: true } };
  const [note] = planNotifications(INITIAL_NOTIFIER_STATE, [gone], context(T0, on)).notifications;
  assert.equal(note?.title, 'Port 596 is free again');
  const off = { notifications: { enabled: true, onAppeared: false, onDisappeared: true } };
  assert.equal(planNotifications(INITIAL_NOTIFIER_STATE, [makeEvent()], context(T0, off)).notifications.length, 0);
});

test('the allowlist silences known programs but not others in the same batch', () => {
  const known = makeEvent({ socket: socketOf(1, 'sshd') });
  const unknown = makeEvent({ socket: socketOf(2, 'nc') });
  const plan = planNotifications(INITIAL_NOTIFIER_STATE, [known, unknown], context(T0, { allowlist: [{ by: 'path', path: '/usr/bin/sshd', argsPrefix: [], port: 596 }] }));
  assert.equal(plan.notifications.length, 1);
  assert.equal(plan.notifications[0]?.kind, 'single');
  assert.match(plan.notifications[0]?.body ?? '', /^nc \(pid 2/);
});

test('ten new sockets at once give one notification that says so', () => {
  const events = Array.from({ length: 10 }, (_, i) => makeEvent({ socket: socketOf(100 + i, `p${i}`) }));
  const plan = planNotifications(INITIAL_NOTIFIER_STATE, events, context(T0));
  assert.equal(plan.notifications.length, 1);
  const [note] = plan.notifications;
  assert.equal(note?.title, '10 new sockets on port 596');
  assert.match(note?.body ?? '', /^p0 \(pid 100\), p1 \(pid 101\), p2 \(pid 102\) and 7 more\. Port 596 belongs to SMSD/);
  assert.equal(note?.eventCount, 10);
  assert.equal(note?.target?.kind, 'event', 'several owners: opens the newest event');
});

test('a socket outside the host\'s network namespace: the notification says where it lives, alone or among others', () => {
  const where = { inode: 4026532318, host: false, label: 'docker container 3f2a9c1b7d4e' } as const;
  const [single] = planNotifications(INITIAL_NOTIFIER_STATE, [makeEvent({ socket: makeSocket({ netns: where }) })], context(T0)).notifications;
  assert.match(single?.body ?? '', /\nTCP 0\.0\.0\.0:596 listening in docker container 3f2a9c1b7d4e\. /);
  const events = [makeEvent({ socket: { ...socketOf(100, 'p0'), netns: where } }), makeEvent({ socket: socketOf(101, 'p1') })];
  const [both] = planNotifications(INITIAL_NOTIFIER_STATE, events, context(T0)).notifications;
  assert.match(both?.body ?? '', /^p0 \(pid 100\) in docker container 3f2a9c1b7d4e and p1 \(pid 101\)\. /);
});

test('a flapping socket gives one "keeps coming and going" notification, then silence for the cooldown', () => {
  const flap = (type: 'appeared' | 'disappeared') => makeEvent({ type, flapping: true });
  const first = planNotifications(INITIAL_NOTIFIER_STATE, [flap('appeared'), flap('disappeared'), flap('appeared')], context(T0));
  assert.equal(first.notifications.length, 1);
  assert.equal(first.notifications[0]?.kind, 'flapping');
  assert.equal(first.notifications[0]?.title, 'Something keeps coming and going on port 596');
  assert.equal(first.notifications[0]?.target?.kind, 'process');
  const later = planNotifications(first.state, [flap('appeared')], context(T0 + 120_000));
  assert.equal(later.notifications.length, 0, 'within the cooldown');
  const afterCooldown = planNotifications(later.state, [flap('appeared')], context(T0 + DEFAULT_NOTIFICATION_LIMITS.flapCooldownMs + 1));
  assert.equal(afterCooldown.notifications.length, 1);
});

test('the rate limit holds back the fourth notification in a minute and summarises it later', () => {
  let state = INITIAL_NOTIFIER_STATE;
  for (let i = 0; i < 3; i++) {
    const plan = planNotifications(state, [makeEvent({ socket: socketOf(i + 1, `p${i}`) })], context(T0 + i * 1000));
    assert.equal(plan.notifications.length, 1);
    state = plan.state;
  }
  const held1 = planNotifications(state, [makeEvent({ socket: socketOf(10, 'x') })], context(T0 + 5000));
  assert.equal(held1.notifications.length, 0);
  assert.equal(held1.retryAt, T0 + 60_000, 'when the oldest of the three leaves the window');
  const held2 = planNotifications(held1.state, [makeEvent({ socket: socketOf(11, 'y') }), makeEvent({ socket: socketOf(12, 'z') })], context(T0 + 6000));
  assert.equal(held2.state.heldBackCount, 3);
  const summary = planNotifications(held2.state, [], context(T0 + 60_000));
  assert.equal(summary.notifications.length, 1);
  assert.equal(summary.notifications[0]?.kind, 'held-back');
  assert.equal(summary.notifications[0]?.title, '3 more changes on port 596');
  assert.match(summary.notifications[0]?.body ?? '', /^x \(pid 10\), y \(pid 11\) and z \(pid 12\)\. Held back/);
  assert.equal(summary.state.heldBackCount, 0);
  assert.equal(planNotifications(summary.state, [], context(T0 + 61_000)).notifications.length, 0, 'said once');
});

test('held-back events are folded into the next ordinary notification', () => {
  const full: NotifierState = { ...INITIAL_NOTIFIER_STATE, shownAt: [T0, T0, T0], heldBack: [makeEvent({ socket: socketOf(1, 'a') })], heldBackCount: 1 };
  const plan = planNotifications(full, [makeEvent({ socket: socketOf(2, 'b') })], context(T0 + 60_001));
  assert.equal(plan.notifications.length, 1);
  assert.equal(plan.notifications[0]?.title, '2 new sockets on port 596');
});

test('when fewer slots than notifications remain, everything is merged into one', () => {
  const almostFull: NotifierState = { ...INITIAL_NOTIFIER_STATE, shownAt: [T0, T0] };
  const flapping = makeEvent({ socket: socketOf(7, 'flappy'), flapping: true });
  const plan = planNotifications(almostFull, [makeEvent({ socket: socketOf(1, 'a') }), flapping], context(T0 + 1));
  assert.equal(plan.notifications.length, 1);
  assert.equal(plan.notifications[0]?.title, '2 changes on port 596');
  assert.match(plan.notifications[0]?.body ?? '', /One program keeps coming and going/);
  assert.equal(plan.state.shownAt.length, 3);
});

test('held-back memory is bounded but the count stays exact', () => {
  const full: NotifierState = { ...INITIAL_NOTIFIER_STATE, shownAt: [T0, T0, T0] };
  const many = Array.from({ length: 500 }, (_, i) => makeEvent({ socket: socketOf(i + 1, `p${i}`) }));
  const plan = planNotifications(full, many, context(T0 + 1));
  assert.equal(plan.state.heldBackCount, 500);
  assert.equal(plan.state.heldBack.length, DEFAULT_NOTIFICATION_LIMITS.maxHeldBack);
});

test('property: never more than the limit per window, and no ordinary event is lost', () => {
  const batch = fc.array(
    fc.record({ pid: fc.integer({ min: 1, max: 6 }), flapping: fc.boolean(), appeared: fc.boolean() }),
    { maxLength: 6 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 40_000 }), batch), { maxLength: 40 }), (steps) => {
      let state = INITIAL_NOTIFIER_STATE;
      let now = T0;
      const shownAt: number[] = [];
      let ordinary = 0;
      let flapping = 0;
      let counted = 0;
      const on = { notifications: { enabled: true, onAppeared: true, onDisappeared: true } };
      for (const [gap, items] of steps) {
        now += gap;
        const events: PortEvent[] = items.map((it) =>
          makeEvent({ type: it.appeared ? 'appeared' : 'disappeared', flapping: it.flapping, socket: socketOf(it.pid, `p${it.pid}`) }),
        );
        ordinary += events.filter((e) => !e.flapping).length;
        flapping += events.filter((e) => e.flapping).length;
        const plan = planNotifications(state, events, context(now, on));
        state = plan.state;
        for (const note of plan.notifications) {
          shownAt.push(now);
          if (note.kind !== 'flapping') counted += note.eventCount;
        }
        const inWindow = shownAt.filter((t) => t > now - DEFAULT_NOTIFICATION_LIMITS.windowMs).length;
        assert.ok(inWindow <= DEFAULT_NOTIFICATION_LIMITS.maxPerWindow, `${inWindow} notifications in a minute`);
      }
      // Flush: after a quiet minute every held-back event has been announced.
      const flushed = planNotifications(state, [], context(now + DEFAULT_NOTIFICATION_LIMITS.windowMs, on));
      for (const note of flushed.notifications) counted += note.eventCount;
      // A merged notification also counts the flapping events it mentions, hence the range.
      assert.ok(counted >= ordinary && counted <= ordinary + flapping, `announced ${counted} of ${ordinary}`);
    }),
    { numRuns: 300 },
  );
});

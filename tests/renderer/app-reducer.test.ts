import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detailsForTarget, detailsProcessRef, initialAppModel, RECENT_EVENTS_LIMIT, reduceApp, socketOf, TOAST_LIMIT } from '../../renderer/src/state/app-reducer.ts';
import type { AppInput, AppModel } from '../../renderer/src/state/app-reducer.ts';
import { makeAppState, makeEvent, makeProcess, makeSnapshot, makeSocket } from '../common/desktop-fixtures.ts';
import type { AppState } from '#common/ipc-contract.ts';
import type { PortEvent, PortSocket, Snapshot } from '#common/model.ts';

const listener = (pid: number): PortSocket => makeSocket({ id: `tcp|${pid}`, process: makeProcess({ pid }) });
const event = (seq: number, socket: PortSocket, type: PortEvent['type'] = 'appeared'): PortEvent => makeEvent({ seq, socket, type });
const snapshot = (sockets: readonly PortSocket[]): Snapshot => makeSnapshot({ sockets });
const appState = (snap: Snapshot | null): AppState => makeAppState({ snapshot: snap });

const run = (inputs: readonly AppInput[], from: AppModel = initialAppModel): AppModel => inputs.reduce(reduceApp, from);

test('the first getState answer never overwrites a newer push', () => {
  const pushed = appState(snapshot([listener(1)]));
  const stale = appState(snapshot([]));
  const model = run([
    { type: 'state-loaded', state: pushed },
    { type: 'state-loaded', state: stale, initial: true },
  ]);
  assert.equal(model.app, pushed);
  assert.equal(run([{ type: 'state-loaded', state: stale, initial: true }]).app, stale);
});

test('a failed load is kept until a state arrives', () => {
  const failed = run([{ type: 'state-failed', message: 'no bridge' }]);
  assert.equal(failed.loadError, 'no bridge');
  assert.equal(reduceApp(failed, { type: 'state-loaded', state: appState(null) }).loadError, null);
});

test('appended events bump the history revision and are kept newest first, bounded', () => {
  const s = listener(1);
  const model = run([
    { type: 'events-appended', events: [event(1, s), event(2, s)] },
    { type: 'events-appended', events: [] },
    { type: 'events-appended', events: [event(3, s, 'disappeared')] },
  ]);
  assert.equal(model.historyRevision, 2, 'an empty batch changes nothing');
  assert.deepEqual(model.recentEvents.map((e) => e.seq), [3, 2, 1]);
  const many = Array.from({ length: RECENT_EVENTS_LIMIT + 50 }, (_, i) => event(i + 1, s));
  const bounded = run([{ type: 'events-appended', events: many }]);
  assert.equal(bounded.recentEvents.length, RECENT_EVENTS_LIMIT);
  assert.equal(bounded.recentEvents[0]?.seq, RECENT_EVENTS_LIMIT + 50);
});

test('an open target resolves to the live socket, else the seen event, else the process', () => {
  const live = listener(7);
  const withLive = run([{ type: 'state-loaded', state: appState(snapshot([live])) }]);
  const ref = { pid: 7, startedAt: live.process!.startedAt };
  assert.deepEqual(detailsForTarget(withLive, { kind: 'process', process: ref, seq: 3, socketId: live.id }), { kind: 'socket', socket: live });

  const gone = run([{ type: 'state-loaded', state: appState(snapshot([])) }, { type: 'events-appended', events: [event(3, live)] }]);
  assert.deepEqual(detailsForTarget(gone, { kind: 'event', process: ref, seq: 3, socketId: live.id }), { kind: 'event', event: event(3, live) });
  assert.deepEqual(detailsForTarget(gone, { kind: 'process', process: ref, seq: 99, socketId: 'nope' }), { kind: 'process', process: ref, socketId: 'nope', seq: 99 });
  assert.equal(detailsForTarget(gone, { kind: 'event', process: null, seq: null, socketId: null }), null);

  const opened = reduceApp(withLive, { type: 'open-target', target: { kind: 'process', process: ref, seq: null, socketId: live.id } });
  assert.equal(opened.details?.kind, 'socket');
  const unchanged = reduceApp(opened, { type: 'open-target', target: { kind: 'event', process: null, seq: null, socketId: null } });
  assert.equal(unchanged.details, opened.details, 'an unresolvable target keeps what is open');
});

test('details targets name their process and socket; an ownerless socket has no process', () => {
  const live = listener(7);
  const app = appState(snapshot([live]));
  assert.deepEqual(detailsProcessRef({ kind: 'socket', socket: live }), { pid: 7, startedAt: live.process!.startedAt });
  assert.equal(detailsProcessRef({ kind: 'socket', socket: { ...live, process: null, pid: null } }), null);
  assert.equal(socketOf({ kind: 'process', process: { pid: 7, startedAt: null }, socketId: live.id, seq: null }, app), live);
  assert.equal(socketOf({ kind: 'process', process: { pid: 7, startedAt: null }, socketId: null, seq: null }, app), null);
  const e = event(4, live);
  assert.equal(socketOf({ kind: 'event', event: e }, app), e.socket);
});

test('tabs, details, toasts, notices and busy flags', () => {
  let model = run([{ type: 'show-tab', tab: 'history' }]);
  assert.equal(model.tab, 'history');
  assert.equal(reduceApp(model, { type: 'show-tab', tab: 'history' }), model, 'no change, same object');
  model = reduceApp(model, { type: 'show-details', target: { kind: 'socket', socket: listener(1) } });
  assert.equal(model.details?.kind, 'socket');
  model = reduceApp(model, { type: 'close-details' });
  assert.equal(model.details, null);

  for (let i = 0; i < TOAST_LIMIT + 2; i += 1) model = reduceApp(model, { type: 'toast', tone: 'info', text: `t${i}` });
  assert.deepEqual(model.toasts.map((t) => t.text), ['t2', 't3', 't4']);
  model = reduceApp(model, { type: 'dismiss-toast', id: model.toasts[0]!.id });
  assert.deepEqual(model.toasts.map((t) => t.text), ['t3', 't4']);

  model = run([{ type: 'dismiss-notice', code: 'history-recovered' }, { type: 'dismiss-notice', code: 'history-recovered' }], model);
  assert.deepEqual(model.dismissedNotices, ['history-recovered']);

  model = run([{ type: 'busy', action: 'scan', busy: true }, { type: 'busy', action: 'scan', busy: true }], model);
  assert.deepEqual(model.busy, ['scan']);
  model = reduceApp(model, { type: 'busy', action: 'scan', busy: false });
  assert.deepEqual(model.busy, []);
});

test('late evidence completes the shown events of that process (the list and an open event), bumps the history revision, adds nothing', () => {
  const mine = event(1, listener(10));
  const other = event(2, listener(20));
  const late = `still being computed at detection (over 30 ms); the history fills it in when it finishes`;
  const waiting = { ...mine, socket: { ...mine.socket, process: { ...mine.socket.process!, exeSha256: null, reasons: { exeSha256: late } } } };
  const shown = run([{ type: 'events-appended', events: [waiting, other] }, { type: 'show-details', target: { kind: 'event', event: waiting } }]);
  const evidence = { pid: 10, startedAt: waiting.socket.process.startedAt!, at: '2026-12-01T10:00:01.000Z', values: { exeSha256: 'ab'.repeat(32) }, reasons: {} };
  const next = run([{ type: 'evidence-completed', evidence }], shown);
  assert.deepEqual(next.recentEvents.map((e) => [e.seq, e.socket.process?.exeSha256 ?? null, e.socket.process?.reasons?.exeSha256 ?? null]), [[2, other.socket.process?.exeSha256 ?? null, null], [1, 'ab'.repeat(32), null]]);
  assert.equal(next.details?.kind === 'event' && next.details.event.socket.process?.exeSha256, 'ab'.repeat(32));
  assert.equal(next.historyRevision, shown.historyRevision + 1);
  assert.equal(next.recentEvents[0], shown.recentEvents[0], 'another process is left as it was');
});

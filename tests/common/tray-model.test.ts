import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOOLTIP_MAX, buildTrayModel, deriveTrayState } from '#common/tray-model.ts';
import type { TrayMenuItem } from '#common/tray-model.ts';
import { makeAppState, makeProcess, makeSnapshot, makeSocket, makeStatus } from './desktop-fixtures.ts';

const nc = makeSocket();
const py = makeSocket({ id: 'py', process: makeProcess({ pid: 12, name: 'python3', path: '/usr/bin/python3' }) });

function labels(menu: readonly TrayMenuItem[]): string[] {
  return menu.map((item) => (item.kind === 'separator' ? '---' : item.label));
}

test('an empty healthy snapshot is clear, in words', () => {
  const model = buildTrayModel(makeAppState());
  assert.equal(model.state, 'clear');
  assert.equal(model.tooltip, 'Port 596 clear');
});

test('several ports are named in the tooltip', () => {
  const app = makeAppState({ snapshot: makeSnapshot({ ports: [596, 8080] }) });
  assert.equal(buildTrayModel(app).tooltip, 'Ports 596, 8080 clear');
});

test('sockets on the port alert and are named with their pids', () => {
  const model = buildTrayModel(makeAppState({ snapshot: makeSnapshot({ sockets: [nc, py] }) }));
  assert.equal(model.state, 'alert');
  assert.equal(model.tooltip, '2 sockets on port 596: nc (pid 4711), python3 (pid 12)');
});

test('a socket outside the host\'s network namespace says where it lives, in the tooltip and the menu', () => {
  const inNetns = makeSocket({ id: 'ns', process: makeProcess({ pid: 77, name: 'sshd' }), netns: { inode: 4026532318, host: false, label: 'ip netns blue' } });
  const onHost = makeSocket({ netns: { inode: 4026531840, host: true, label: 'host' } });
  const model = buildTrayModel(makeAppState({ snapshot: makeSnapshot({ sockets: [onHost, inNetns] }) }));
  assert.equal(model.tooltip, '2 sockets on port 596: nc (pid 4711), sshd (pid 77) in ip netns blue');
  assert.ok(labels(model.menu).includes('sshd (pid 77) · TCP 0.0.0.0:596 listening in ip netns blue'), labels(model.menu).join(' | '));
  assert.ok(labels(model.menu).includes('nc (pid 4711) · TCP 0.0.0.0:596 listening'));
});

test('allowlisted sockets do not alert but are still listed in the menu', () => {
  const app = makeAppState({ snapshot: makeSnapshot({ sockets: [nc] }), settings: { allowlist: [{ by: 'path', path: '/usr/bin/nc', argsPrefix: [], port: null }] } });
  const model = buildTrayModel(app);
  assert.equal(model.state, 'clear');
  assert.equal(model.tooltip, 'Port 596 clear (1 allowlisted)');
  assert.ok(labels(model.menu).some((l) => l.startsWith('nc (pid 4711)') && l.endsWith('(allowlisted)')));
});

test('blind or owner-hidden monitoring is degraded, never clear', () => {
  const blind = makeAppState({
    snapshot: makeSnapshot({ health: 'blind', issues: [{ code: 'no-socket-source', message: 'Neither ss nor netstat could be run.' }] }),
  });
  assert.equal(deriveTrayState(blind), 'degraded');
  assert.equal(buildTrayModel(blind).tooltip, 'Cannot see sockets on port 596: Neither ss nor netstat could be run.');
  const hidden = makeAppState({
    snapshot: makeSnapshot({ health: 'degraded', issues: [{ code: 'not-elevated', message: 'Owners of other users’ sockets are hidden.' }] }),
  });
  assert.equal(deriveTrayState(hidden), 'degraded');
  assert.match(buildTrayModel(hidden).tooltip, /^Port 596 clear as far as visible: Owners/);
});

test('an alert beats degraded health: something seen is said even if owners are hidden', () => {
  const app = makeAppState({ snapshot: makeSnapshot({ health: 'degraded', sockets: [makeSocket({ process: null, pid: null })] }) });
  const model = buildTrayModel(app);
  assert.equal(model.state, 'alert');
  assert.equal(model.tooltip, '1 socket on port 596: unknown owner');
});

test('no snapshot yet is not clear', () => {
  const model = buildTrayModel(makeAppState({ snapshot: null }));
  assert.equal(model.state, 'degraded');
  assert.equal(model.tooltip, 'Starting: first scan of port 596 pending');
});

test('failing scans are an error, even with sockets in the stale snapshot', () => {
  const app = makeAppState({
    snapshot: makeSnapshot({ sockets: [nc] }),
    status: makeStatus({ consecutiveFailures: 2, lastError: 'ss exited with 1' }),
  });
  const model = buildTrayModel(app);
  assert.equal(model.state, 'error');
  assert.equal(model.tooltip, 'Scanning port 596 fails: ss exited with 1');
  assert.equal(deriveTrayState(makeAppState({ snapshot: null, status: makeStatus({ lastError: 'boom' }) })), 'error');
});

test('paused wins over everything and the menu offers Resume', () => {
  const app = makeAppState({ snapshot: makeSnapshot({ sockets: [nc] }), status: makeStatus({ paused: true, consecutiveFailures: 3 }) });
  const model = buildTrayModel(app);
  assert.equal(model.state, 'paused');
  assert.equal(model.tooltip, 'Monitoring paused: port 596 not watched');
  assert.ok(labels(model.menu).includes('Resume monitoring'));
  assert.ok(!labels(model.menu).includes('Pause monitoring'));
});

test('the menu has the state line, each socket, and every command', () => {
  const model = buildTrayModel(makeAppState({ snapshot: makeSnapshot({ sockets: [nc, py] }) }));
  assert.deepEqual(labels(model.menu), [
    '2 sockets on port 596: nc (pid 4711), python3 (pid 12)',
    'nc (pid 4711) · TCP 0.0.0.0:596 listening',
    'python3 (pid 12) · TCP 0.0.0.0:596 listening',
    '---',
    'Open Ghostport',
    'Scan now',
    'Pause monitoring',
    '---',
    'Notifications',
    'Start at login',
    '---',
    'Quit Ghostport',
  ]);
  const socketItem = model.menu[1];
  assert.equal(socketItem?.kind, 'action');
  if (socketItem?.kind === 'action') {
    assert.deepEqual(socketItem.command, {
      type: 'open-target',
      target: { kind: 'process', process: { pid: 4711, startedAt: nc.process!.startedAt }, seq: null, socketId: nc.id },
    });
  }
});

test('checkboxes reflect settings and their commands flip them', () => {
  const model = buildTrayModel(makeAppState({ settings: { startAtLogin: true, notifications: { enabled: false, onAppeared: true, onDisappeared: false } } }));
  const boxes = model.menu.filter((i) => i.kind === 'checkbox');
  assert.deepEqual(
    boxes.map((b) => b.kind === 'checkbox' && [b.label, b.checked, b.command]),
    [
      ['Notifications', false, { type: 'set-notifications', enabled: true }],
      ['Start at login', true, { type: 'set-start-at-login', enabled: false }],
    ],
  );
});

test('unsupported notifications are said in the menu', () => {
  const model = buildTrayModel(makeAppState({ notificationsSupported: false }));
  assert.ok(labels(model.menu).includes('Notifications (unavailable on this desktop)'));
});

test('many sockets: the menu is capped and the tooltip fits Windows', () => {
  const many = Array.from({ length: 30 }, (_, i) =>
    makeSocket({ id: `s${i}`, process: makeProcess({ pid: 1000 + i, name: `some-long-process-name-${i}` }) }),
  );
  const model = buildTrayModel(makeAppState({ snapshot: makeSnapshot({ sockets: many }) }), { maxMenuSockets: 5 });
  assert.ok(model.tooltip.length <= TOOLTIP_MAX, `${model.tooltip.length}`);
  assert.ok(model.tooltip.startsWith('30 sockets on port 596: '));
  assert.ok(model.tooltip.endsWith('…'));
  assert.equal(model.menu.filter((i) => i.kind === 'action' && i.command.type === 'open-target').length, 5);
  assert.ok(labels(model.menu).includes('25 more…'));
});

test('hostile process names cannot inject mnemonics or control characters', () => {
  const evil = makeSocket({ process: makeProcess({ name: 'a&b\u202ecod.exe\nx' }) });
  const model = buildTrayModel(makeAppState({ snapshot: makeSnapshot({ sockets: [evil] }) }));
  assert.equal(model.tooltip, '1 socket on port 596: a&b\\u202ecod.exe\\nx (pid 4711)');
  assert.ok(labels(model.menu)[1]?.startsWith('a&&b\\u202ecod.exe\\nx (pid 4711)'));
});

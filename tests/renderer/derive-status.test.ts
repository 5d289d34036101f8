import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveStatus } from '../../renderer/src/state/derive-status.ts';
import { makeAppState, makeProcess, makeSnapshot, makeSocket, makeStatus } from '../common/desktop-fixtures.ts';
import type { AppState } from '#common/ipc-contract.ts';
import type { PortSocket, Snapshot } from '#common/model.ts';

const SCAN_TIME = Date.parse(makeSnapshot().scannedAt);
const listener = (pid: number, over: Partial<PortSocket> = {}): PortSocket => makeSocket({ id: `tcp|${pid}`, process: makeProcess({ pid }), ...over });
const snapshot = (sockets: readonly PortSocket[], over: Partial<Snapshot> = {}): Snapshot => makeSnapshot({ sockets, ...over });
const appState = (snap: Snapshot | null, over: Parameters<typeof makeAppState>[0] = {}): AppState => makeAppState({ snapshot: snap, ...over });

test('nothing loaded yet: connecting, no verdict', () => {
  const status = deriveStatus(null, SCAN_TIME);
  assert.equal(status.tone, 'loading');
  assert.equal(status.banners.length, 0);
});

test('no sockets on a healthy scan: clear', () => {
  const status = deriveStatus(appState(snapshot([])), SCAN_TIME + 1000);
  assert.equal(status.tone, 'clear');
  assert.equal(status.title, 'Clear');
  assert.equal(status.detail, 'Nothing is using port 596.');
  assert.deepEqual(status.banners, []);
});

test('sockets: counted, with distinct owners, as an alert', () => {
  const status = deriveStatus(appState(snapshot([listener(10), listener(10, { id: 'b', protocol: 'udp' }), listener(11, { id: 'c' })])), SCAN_TIME);
  assert.equal(status.tone, 'alert');
  assert.equal(status.title, '3 sockets on the port');
  assert.equal(status.detail, '2 processes on port 596.');
  assert.equal(deriveStatus(appState(snapshot([listener(10)])), SCAN_TIME).title, '1 socket on the port');
});

test('allowlisted programs are counted and soften the verdict only when all are allowed', () => {
  const settings = { allowlist: [{ by: 'path' as const, path: '/usr/bin/nc', argsPrefix: [], port: 596 }] };
  const allAllowed = deriveStatus(appState(snapshot([listener(10)]), { settings }), SCAN_TIME);
  assert.equal(allAllowed.tone, 'allowed');
  assert.equal(allAllowed.allowedCount, 1);
  const other = listener(11, { id: 'x', process: { ...listener(11).process!, path: '/tmp/evil', name: 'evil' } });
  const mixed = deriveStatus(appState(snapshot([listener(10), other]), { settings }), SCAN_TIME);
  assert.equal(mixed.tone, 'alert');
  assert.match(mixed.detail, /1 allowed by you/);
});

test('blind is never shown as clear, and its issues become banners', () => {
  const issue = { code: 'no-socket-source' as const, message: 'Neither ss nor netstat is installed.', hint: 'Install iproute2.' };
  const status = deriveStatus(appState(snapshot([], { health: 'blind', issues: [issue] })), SCAN_TIME);
  assert.equal(status.tone, 'blind');
  assert.notEqual(status.title, 'Clear');
  assert.deepEqual(
    status.banners.map((b) => [b.id, b.severity, b.message, b.hint]),
    [['issue:no-socket-source', 'error', issue.message, issue.hint]],
  );
});

test('degraded (owners hidden) keeps the verdict and says why', () => {
  const issue = { code: 'not-elevated' as const, message: 'Owners of other users\u2019 sockets are hidden.', hint: 'Run as root.' };
  const status = deriveStatus(appState(snapshot([], { health: 'degraded', issues: [issue] })), SCAN_TIME);
  assert.equal(status.tone, 'clear');
  assert.equal(status.banners[0]?.severity, 'warning');
});

test('paused: a banner offering resume; failing scans: a banner offering a scan', () => {
  const paused = deriveStatus(appState(snapshot([]), { status: makeStatus({ paused: true }) }), SCAN_TIME + 60_000);
  assert.equal(paused.paused, true);
  assert.deepEqual(paused.banners.map((b) => [b.id, b.action]), [['paused', 'resume']]);
  assert.equal(paused.stale, false, 'a paused monitor is not stale');
  assert.equal(paused.tone, 'paused', 'paused shows as paused, not in the last state\u2019s colours');
  assert.equal(paused.title, 'Paused');
  assert.match(paused.detail, /^Not watching port 596\. The last scan found: clear\.$/);
  const failing = deriveStatus(appState(snapshot([]), { status: makeStatus({ consecutiveFailures: 3, lastError: 'ss timed out' }) }), SCAN_TIME);
  assert.equal(failing.banners[0]?.id, 'scan-failing');
  assert.match(failing.banners[0]?.message ?? '', /last 3 scans failed: ss timed out/);
});

test('a scan older than a few intervals is flagged as stale', () => {
  assert.equal(deriveStatus(appState(snapshot([])), SCAN_TIME + 9_000).stale, false);
  const stale = deriveStatus(appState(snapshot([])), SCAN_TIME + 11_000);
  assert.equal(stale.stale, true);
  assert.equal(stale.banners[0]?.action, 'scan');
});

test('while kernel events cover a clear port, the scan is stale only after a few safety-net intervals', () => {
  const covered = snapshot([], { sight: { kernelEvents: true, note: 'Kernel events report…', safetyNetMs: 30_000 } });
  assert.equal(deriveStatus(appState(covered), SCAN_TIME + 60_000).stale, false, 'two safety-net intervals');
  assert.equal(deriveStatus(appState(covered), SCAN_TIME + 91_000).stale, true);
});

test('before the first scan: waiting, with what is watched', () => {
  const status = deriveStatus(appState(null, { status: makeStatus({ ports: [596, 8080], lastScanAt: null }) }), SCAN_TIME);
  assert.equal(status.tone, 'loading');
  assert.match(status.detail, /^Watching ports 596\b.*8080/);
});

test('through the service: an info banner says so, first; the local app says nothing of it', () => {
  const viaService = deriveStatus(appState(snapshot([]), { source: 'service' }), SCAN_TIME);
  assert.equal(viaService.tone, 'clear');
  assert.deepEqual(viaService.banners[0], {
    id: 'service',
    severity: 'info',
    message: 'Watching through the Ghostport service: full sight.',
    hint: "Every owner and the host's history come from ghostport serve; its own settings choose the ports.",
    action: null,
  });
  assert.equal(deriveStatus(appState(snapshot([])), SCAN_TIME).banners.some((b) => b.id === 'service' || b.id === 'local'), false);
  const quiet = deriveStatus(appState(snapshot([]), { source: 'service', status: makeStatus({ lastScanAt: '2026-01-31T09:00:00.000Z' }) }), SCAN_TIME);
  assert.equal(quiet.stale, false, 'the service streams only changes: a quiet stream is not a stale scan');
});

test('on its own engine (the service is not there): the banner states the limits', () => {
  const sight = { kernelEvents: false, note: 'Polling every 2 s: sockets that live less than one interval can be missed.' };
  const limited = deriveStatus(appState(snapshot([], { sight }), { source: 'local', elevated: false }), SCAN_TIME);
  assert.deepEqual(limited.banners[0], {
    id: 'local',
    severity: 'info',
    message: "Watching with this app's own engine: owners of other users' sockets are hidden. Polling every 2 s: sockets that live less than one interval can be missed.",
    hint: 'For full sight, run the Ghostport service (sudo systemctl enable --now ghostport) and join its group: the app switches to it by itself, and back when it stops.',
    action: null,
  });
  const root = deriveStatus(appState(snapshot([], { sight: { kernelEvents: true, note: 'Kernel events…' } }), { source: 'local', elevated: true }), SCAN_TIME);
  assert.equal(root.banners[0]?.message, "Watching with this app's own engine.");
  const mac = deriveStatus(appState(snapshot([]), { source: 'local', platform: 'darwin' }), SCAN_TIME);
  assert.match(mac.banners[0]?.hint ?? '', /\(sudo ghostport serve\)/, 'systemd is Linux only');
});

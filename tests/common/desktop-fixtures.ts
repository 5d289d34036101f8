/**
 * Builders of model values for the desktop-side unit tests: a socket, an event, an app state,
 * each with sensible defaults and any field overridable.
 */
import type { AppState } from '#common/ipc-contract.ts';
import type { EngineStatus, PortEvent, PortSocket, ProcessInfo, Snapshot } from '#common/model.ts';
import { DEFAULT_SETTINGS } from '#common/settings.ts';
import type { Settings } from '#common/settings.ts';

/** A process, `nc` pid 4711 by default. */
export function makeProcess(overrides: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    pid: 4711,
    name: 'nc',
    path: '/usr/bin/nc',
    command: 'nc -l 596',
    user: 'bob',
    parentPid: 1000,
    startedAt: '2026-01-31T10:00:00.000Z',
    ...overrides,
  };
}

/** A TCP listener on 0.0.0.0:596 owned by `process` (nc by default; null for a hidden owner). */
export function makeSocket(overrides: Partial<PortSocket> = {}): PortSocket {
  const process = overrides.process === undefined ? makeProcess() : overrides.process;
  const base: PortSocket = {
    id: `tcp|4|0.0.0.0|596|*|*|${process?.pid ?? '-'}|${process?.startedAt ?? '-'}|1`,
    protocol: 'tcp',
    family: 4,
    localAddress: '0.0.0.0',
    localPort: 596,
    remoteAddress: null,
    remotePort: null,
    state: 'LISTEN',
    pid: process?.pid ?? null,
    process,
    watchedPort: 596,
    side: 'local',
    inode: 1,
    firstSeenAt: '2026-01-31T10:00:01.000Z',
  };
  return { ...base, ...overrides, process };
}

let nextSeq = 1;

/** An event about a socket (appeared by default). */
export function makeEvent(overrides: Partial<PortEvent> = {}): PortEvent {
  return {
    seq: nextSeq++,
    type: 'appeared',
    at: '2026-01-31T10:00:01.000Z',
    socket: makeSocket(),
    flapping: false,
    ...overrides,
  };
}

/** A snapshot of the given sockets, healthy by default. */
export function makeSnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    scannedAt: '2026-01-31T10:00:02.000Z',
    ports: [596],
    sockets: [],
    lingering: [],
    health: 'ok',
    issues: [],
    durationMs: 12,
    ...overrides,
  };
}

/** A running engine's status. */
export function makeStatus(overrides: Partial<EngineStatus> = {}): EngineStatus {
  return {
    running: true,
    paused: false,
    intervalMs: 2000,
    ports: [596],
    lastScanAt: '2026-01-31T10:00:02.000Z',
    nextScanAt: '2026-01-31T10:00:04.000Z',
    consecutiveFailures: 0,
    lastError: null,
    ...overrides,
  };
}

/** An app state around a snapshot. */
export function makeAppState(
  overrides: Omit<Partial<AppState>, 'settings'> & { readonly settings?: Partial<Settings> } = {},
): AppState {
  const { settings, ...rest } = overrides;
  return {
    snapshot: makeSnapshot(),
    status: makeStatus(),
    notices: [],
    notificationsSupported: true,
    elevated: true,
    platform: 'linux',
    version: '0.1.0',
    ...rest,
    settings: { ...DEFAULT_SETTINGS, ...settings },
  };
}

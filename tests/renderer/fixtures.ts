/** Plain data for the renderer's unit tests: an app state, sockets and events shaped like the engine's. */
import type { EngineStatus, PortEvent, PortSocket, ProcessInfo, Snapshot } from '../../electron/common/model.ts';
import type { AppState } from '../../electron/common/ipc-contract.ts';
import { DEFAULT_SETTINGS } from '../../electron/common/settings.ts';

/** A process as the engine captures it. */
export function processInfo(pid: number, over: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    pid,
    name: 'nc',
    path: '/usr/bin/nc.openbsd',
    command: `nc -l 596 # ${pid}`,
    user: 'root',
    parentPid: 1,
    startedAt: '2026-01-01T10:00:00.000Z',
    ...over,
  };
}

/** A listener on 596 owned by `pid`. */
export function listener(pid: number, over: Partial<PortSocket> = {}): PortSocket {
  return {
    id: `tcp|0.0.0.0:596|${pid}`,
    protocol: 'tcp',
    family: 4,
    localAddress: '0.0.0.0',
    localPort: 596,
    remoteAddress: null,
    remotePort: null,
    state: 'LISTEN',
    pid,
    process: processInfo(pid),
    watchedPort: 596,
    side: 'local',
    firstSeenAt: '2026-01-01T10:00:01.000Z',
    ...over,
  };
}

/** An event about a socket. */
export function event(seq: number, socket: PortSocket, type: PortEvent['type'] = 'appeared'): PortEvent {
  return { seq, type, at: new Date(Date.parse('2026-01-01T10:00:00.000Z') + seq * 1000).toISOString(), socket, flapping: false };
}

/** The engine's status. */
export function engineStatus(over: Partial<EngineStatus> = {}): EngineStatus {
  return {
    running: true,
    paused: false,
    intervalMs: 2000,
    ports: [596],
    lastScanAt: '2026-01-01T10:00:10.000Z',
    nextScanAt: null,
    consecutiveFailures: 0,
    lastError: null,
    ...over,
  };
}

/** A snapshot holding `sockets`. */
export function snapshot(sockets: readonly PortSocket[], over: Partial<Snapshot> = {}): Snapshot {
  return { scannedAt: '2026-01-01T10:00:10.000Z', ports: [596], sockets, lingering: [], health: 'ok', issues: [], durationMs: 3, ...over };
}

/** An app state around a snapshot. */
export function appState(snap: Snapshot | null, over: Partial<AppState> = {}): AppState {
  return {
    snapshot: snap,
    status: engineStatus(),
    settings: DEFAULT_SETTINGS,
    notices: [],
    notificationsSupported: true,
    elevated: true,
    platform: 'linux',
    version: '0.0.0',
    ...over,
  };
}

/** The time of the fixtures' last scan, in ms. */
export const SCAN_TIME = Date.parse('2026-01-01T10:00:10.000Z');

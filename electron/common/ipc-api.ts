/**
 * The request table: every request the window (and the service's socket) can make, as one entry
 * keyed by method name: its wire channel, its argument kinds, its result type and whether it only
 * reads. The preload bridge, the main-side dispatch, the renderer's typed client and the service's
 * HTTP transport are all derived from it, so adding a request is one entry here plus its handler.
 * Zod-free (the schemas behind the argument kinds are in ipc-contract.ts), so the sandboxed
 * preload can import it without bundling zod.
 */
import type { EngineStatus, HealthIssue, PortEvent, PortSocket, ProcessInfo, Snapshot } from './model.ts';
import type { HistoryPage, HistoryQuery, TimelineBucket, TimelineQuery } from './history-query.ts';
import type { AllowlistEntry, Settings, SettingsPatch } from './settings.ts';
import type { LateEvidence } from './late-evidence.ts';

/** An expected failure, carried as a value (errors thrown through `handle` lose everything but their message). */
export interface ApiError {
  readonly code: ApiErrorCode;
  readonly message: string;
}

/** Kinds of expected failure. */
export type ApiErrorCode =
  | 'invalid-argument'
  | 'forbidden-sender'
  | 'not-found'
  | 'process-changed'
  | 'cancelled'
  | 'permission-denied'
  | 'unavailable'
  | 'internal';

/** Every request's answer. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError };

/** Builds a success result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** Builds a failure result. */
export function fail<T = never>(code: ApiErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

/** A process named by its identity: pid plus start time, because pids get reused. */
export interface ProcessRef {
  readonly pid: number;
  readonly startedAt: string | null;
}

/** Everything the window shows about one process. */
export interface ProcessDetails {
  /** As captured when its socket was first seen. */
  readonly captured: ProcessInfo;
  /** Whether a process with this pid and start time is running now. */
  readonly running: boolean;
  /** Live CPU/memory where it is still running. */
  readonly live: ProcessInfo | null;
  /** Parents from the nearest up to init, as far as they can be read. */
  readonly parents: readonly ProcessInfo[];
  /** Its sockets on the watched ports right now. */
  readonly sockets: readonly PortSocket[];
  /** Whether its program is on the allowlist for any of the watched ports. */
  readonly allowlisted: boolean;
}

/** Where the engine behind the window runs: in this app, or in the privileged `ghostport serve`. */
export type EngineSource = 'local' | 'service';

/** What the window needs to draw its header and "Now". Pushed on every change. */
export interface AppState {
  readonly snapshot: Snapshot | null;
  readonly status: EngineStatus;
  readonly settings: Settings;
  /** Problems of the app itself (settings or history recovered, notifications unavailable). */
  readonly notices: readonly HealthIssue[];
  readonly notificationsSupported: boolean;
  readonly elevated: boolean;
  readonly platform: string;
  readonly version: string;
  /** 'service' when the snapshots come from `ghostport serve` (full sight); absent means local. */
  readonly source?: EngineSource;
}

/** What to open when a notification or a tray item is clicked. */
export interface OpenTarget {
  readonly kind: 'process' | 'event';
  readonly process: ProcessRef | null;
  readonly seq: number | null;
  readonly socketId: string | null;
}

/** An export request: the filter currently shown, and a format. */
export interface ExportRequest {
  readonly query: HistoryQuery;
  readonly format: 'csv' | 'json';
}

/** Which socket's evidence to export: its process, and the live socket or history event it was seen as. */
export interface EvidenceTarget {
  readonly process: ProcessRef;
  readonly socketId: string | null;
  readonly seq: number | null;
}

/** The kinds of argument a request takes; ipc-contract.ts holds one schema per kind. */
export interface ArgumentKinds {
  historyQuery: HistoryQuery;
  timelineQuery: TimelineQuery;
  exportRequest: ExportRequest;
  settingsPatch: SettingsPatch;
  processRef: ProcessRef;
  allowlistEntry: AllowlistEntry;
  evidenceTarget: EvidenceTarget;
}

/** One request: its IPC channel, its arguments (by kind), its result type, and whether it only reads. */
interface RequestSpec {
  readonly channel: `${string}:${string}`;
  readonly args: readonly (keyof ArgumentKinds)[];
  /** Phantom: carries the result type only. */
  readonly result: unknown;
  /** 'read' requests change nothing and are served on the service's read-only socket too. */
  readonly access: 'read' | 'control';
}

/** Declares a request's result type (the value is never read). */
function returns<T>(): T {
  return undefined as T;
}

/** The request table. */
export const REQUESTS = {
  getState: { channel: 'state:get', args: [], result: returns<AppState>(), access: 'read' },
  queryHistory: { channel: 'history:query', args: ['historyQuery'], result: returns<HistoryPage>(), access: 'read' },
  getTimeline: { channel: 'history:timeline', args: ['timelineQuery'], result: returns<readonly TimelineBucket[]>(), access: 'read' },
  exportHistory: { channel: 'history:export', args: ['exportRequest'], result: returns<{ readonly path: string; readonly count: number }>(), access: 'control' },
  updateSettings: { channel: 'settings:set', args: ['settingsPatch'], result: returns<Settings>(), access: 'control' },
  scanNow: { channel: 'monitor:scan-now', args: [], result: returns<Snapshot>(), access: 'control' },
  pauseMonitoring: { channel: 'monitor:pause', args: [], result: returns<EngineStatus>(), access: 'control' },
  resumeMonitoring: { channel: 'monitor:resume', args: [], result: returns<EngineStatus>(), access: 'control' },
  getProcessDetails: { channel: 'process:details', args: ['processRef'], result: returns<ProcessDetails>(), access: 'read' },
  revealExecutable: { channel: 'process:reveal', args: ['processRef'], result: returns<{ readonly path: string }>(), access: 'control' },
  exportEvidence: { channel: 'process:export-evidence', args: ['evidenceTarget'], result: returns<{ readonly path: string }>(), access: 'control' },
  endProcess: { channel: 'process:end', args: ['processRef'], result: returns<{ readonly ended: boolean }>(), access: 'control' },
  addToAllowlist: { channel: 'allowlist:add', args: ['allowlistEntry'], result: returns<Settings>(), access: 'control' },
  removeFromAllowlist: { channel: 'allowlist:remove', args: ['allowlistEntry'], result: returns<Settings>(), access: 'control' },
} as const satisfies Record<string, RequestSpec>;

/** Main-to-window pushes: subscription method, channel, payload type. */
export const PUSHES = {
  onStateChanged: { channel: 'state:changed', payload: returns<AppState>() },
  onEvents: { channel: 'events:appended', payload: returns<readonly PortEvent[]>() },
  /** Evidence still being computed at detection, now filled in: the events of that process complete with it (completeProcess). */
  onEvidenceCompleted: { channel: 'evidence:completed', payload: returns<LateEvidence>() },
  onOpenTarget: { channel: 'window:open-target', payload: returns<OpenTarget>() },
} as const;

/** A request's method name. */
export type RequestName = keyof typeof REQUESTS;

/** A request/response channel name. */
export type InvokeChannel = (typeof REQUESTS)[RequestName]['channel'];

/** The validated arguments of a request. */
export type RequestArgs<M extends RequestName> = ArgumentsOf<(typeof REQUESTS)[M]['args']>;

type ArgumentsOf<T extends readonly (keyof ArgumentKinds)[]> = { -readonly [I in keyof T]: T[I] extends keyof ArgumentKinds ? ArgumentKinds[T[I]] : never };

/** What a request answers when it succeeds. */
export type RequestResult<M extends RequestName> = (typeof REQUESTS)[M]['result'];

/** One function per request: what the renderer calls, and what the main side implements. */
export type Requests = { [M in RequestName]: (...args: RequestArgs<M>) => Promise<Result<RequestResult<M>>> };

/** A push channel name. */
export type PushChannel = (typeof PUSHES)[keyof typeof PUSHES]['channel'];

/** Each push channel's payload. */
export type PushPayloads = { [K in keyof typeof PUSHES as (typeof PUSHES)[K]['channel']]: (typeof PUSHES)[K]['payload'] };

/** Subscriptions: each returns the function that unsubscribes. */
export type Subscriptions = { [K in keyof typeof PUSHES]: (listener: (payload: (typeof PUSHES)[K]['payload']) => void) => () => void };

/** The API the preload exposes as `window.ghostport`: one function per request, one `onX` per push. */
export type GhostportApi = Requests & Subscriptions;

/** The request whose wire channel this is, or null (own keys only: `__proto__` names nothing). */
export function requestOfChannel(channel: unknown): RequestName | null {
  return typeof channel === 'string' && Object.hasOwn(CHANNEL_TO_REQUEST, channel) ? CHANNEL_TO_REQUEST[channel]! : null;
}

const CHANNEL_TO_REQUEST: Record<string, RequestName> = Object.fromEntries(
  Object.entries(REQUESTS).map(([name, spec]) => [spec.channel, name as RequestName]),
);

/** Every name on `window.ghostport`, for the security test. */
export const API_METHOD_NAMES: readonly (keyof GhostportApi)[] = [...Object.keys(REQUESTS), ...Object.keys(PUSHES)].sort() as (keyof GhostportApi)[];

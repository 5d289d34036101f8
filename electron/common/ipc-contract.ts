/**
 * The IPC contract between the main process and the window: channel names, argument schemas,
 * result types and the `GhostportApi` that the preload implements and the renderer consumes.
 * The one place where both sides meet; pure (zod and types only).
 */
import { z } from 'zod';
import type { EngineStatus, HealthIssue, PortEvent, PortSocket, ProcessInfo, Snapshot } from './model.ts';
import type { HistoryPage, HistoryQuery, TimelineBucket, TimelineQuery } from './history-query.ts';
import { historyQuerySchema, timelineQuerySchema } from './history-query.ts';
import type { AllowlistEntry, Settings, SettingsPatch } from './settings.ts';
import { allowlistEntrySchema, settingsPatchSchema } from './settings.ts';
import type { apiInvokeMethods, apiPushMethods } from './ipc-api.ts';

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
export const processRefSchema = z
  .object({
    pid: z.number().int().min(1).max(4_194_304),
    startedAt: z.string().max(64).nullable(),
  })
  .strict();

/** A process identity. */
export type ProcessRef = z.infer<typeof processRefSchema>;

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
}

/** What to open when a notification or a tray item is clicked. */
export interface OpenTarget {
  readonly kind: 'process' | 'event';
  readonly process: ProcessRef | null;
  readonly seq: number | null;
  readonly socketId: string | null;
}

/** Export formats. */
export const exportFormatSchema = z.enum(['csv', 'json']);

/** An export request: the filter currently shown, and a format. */
export const exportRequestSchema = z.object({ query: historyQuerySchema, format: exportFormatSchema }).strict();

/** An export request. */
export type ExportRequest = z.infer<typeof exportRequestSchema>;

/** Request/response channels, their argument schemas (a tuple of each argument). */
export const invokeChannels = {
  'state:get': z.tuple([]),
  'history:query': z.tuple([historyQuerySchema]),
  'history:timeline': z.tuple([timelineQuerySchema]),
  'history:export': z.tuple([exportRequestSchema]),
  'settings:set': z.tuple([settingsPatchSchema]),
  'monitor:scan-now': z.tuple([]),
  'monitor:pause': z.tuple([]),
  'monitor:resume': z.tuple([]),
  'process:details': z.tuple([processRefSchema]),
  'process:reveal': z.tuple([processRefSchema]),
  'process:end': z.tuple([processRefSchema]),
  'allowlist:add': z.tuple([allowlistEntrySchema]),
  'allowlist:remove': z.tuple([allowlistEntrySchema]),
} as const;

/** A request/response channel name. */
export type InvokeChannel = keyof typeof invokeChannels;

/** What each request channel answers. */
export interface InvokeResults {
  'state:get': AppState;
  'history:query': HistoryPage;
  'history:timeline': readonly TimelineBucket[];
  'history:export': { readonly path: string; readonly count: number };
  'settings:set': Settings;
  'monitor:scan-now': Snapshot;
  'monitor:pause': EngineStatus;
  'monitor:resume': EngineStatus;
  'process:details': ProcessDetails;
  'process:reveal': { readonly path: string };
  'process:end': { readonly ended: boolean };
  'allowlist:add': Settings;
  'allowlist:remove': Settings;
}

/** Main-to-window pushes and their payloads. */
export interface PushPayloads {
  'state:changed': AppState;
  'events:appended': readonly PortEvent[];
  'window:open-target': OpenTarget;
}

/** A push channel name. */
export type PushChannel = keyof PushPayloads;

/** Every push channel, for the preload's allowlist of what it listens to. */
export const pushChannels: readonly PushChannel[] = ['state:changed', 'events:appended', 'window:open-target'];

/** Validates the raw arguments of a request; a one-line reason when they do not fit. */
export function parseInvokeArgs<C extends InvokeChannel>(
  channel: C,
  args: unknown,
): { ok: true; args: z.infer<(typeof invokeChannels)[C]> } | { ok: false; reason: string } {
  const schema = invokeChannels[channel];
  if (!schema) return { ok: false, reason: `unknown channel ${String(channel)}` };
  const parsed = schema.safeParse(args);
  if (parsed.success) return { ok: true, args: parsed.data as z.infer<(typeof invokeChannels)[C]> };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `argument ${issue.path.join('.')}` : 'arguments';
  return { ok: false, reason: `${where}: ${issue?.message ?? 'invalid'}` };
}

/**
 * The API the preload exposes as `window.ghostport`: one function per operation.
 * Subscriptions return a function that unsubscribes.
 */
export interface GhostportApi {
  getState(): Promise<Result<AppState>>;
  queryHistory(query: HistoryQuery): Promise<Result<HistoryPage>>;
  getTimeline(query: TimelineQuery): Promise<Result<readonly TimelineBucket[]>>;
  exportHistory(request: ExportRequest): Promise<Result<{ readonly path: string; readonly count: number }>>;
  updateSettings(patch: SettingsPatch): Promise<Result<Settings>>;
  scanNow(): Promise<Result<Snapshot>>;
  pauseMonitoring(): Promise<Result<EngineStatus>>;
  resumeMonitoring(): Promise<Result<EngineStatus>>;
  getProcessDetails(ref: ProcessRef): Promise<Result<ProcessDetails>>;
  revealExecutable(ref: ProcessRef): Promise<Result<{ readonly path: string }>>;
  endProcess(ref: ProcessRef): Promise<Result<{ readonly ended: boolean }>>;
  addToAllowlist(entry: AllowlistEntry): Promise<Result<Settings>>;
  removeFromAllowlist(entry: AllowlistEntry): Promise<Result<Settings>>;
  onStateChanged(listener: (state: AppState) => void): () => void;
  onEvents(listener: (events: readonly PortEvent[]) => void): () => void;
  onOpenTarget(listener: (target: OpenTarget) => void): () => void;
}

export { apiInvokeMethods, apiPushMethods, API_METHOD_NAMES } from './ipc-api.ts';

// Compile-time: the method maps name exactly the API's methods, no more, no fewer.
type MappedMethod = keyof typeof apiInvokeMethods | keyof typeof apiPushMethods;
type ExactlyTheApi = [Exclude<keyof GhostportApi, MappedMethod>, Exclude<MappedMethod, keyof GhostportApi>] extends [never, never] ? true : false;
/** True by construction; tsc fails here when the API and its channel maps drift apart. */
export const API_MAPS_MATCH: ExactlyTheApi = true;

/**
 * The one implementation of every request in the request table (`REQUESTS`), and of the
 * state and event streams the window subscribes to. Electron-free: the main process's IPC
 * handlers are "check sender -> `invoke(channel, rawArgs)`", and the browser tests bridge the
 * very same service to Chromium. Native UI (dialogs, the file manager, login items) comes in
 * through `AppServiceHooks`.
 *
 * Expected failures are values (`Result`); an unexpected throw becomes `internal`, logged with
 * its context, so the window shows "something went wrong" instead of dying.
 */
import { addAllowlistEntry, allowingEntries, removeAllowlistEntry } from '#common/allowlist.ts';
import { displayText } from '#common/display-text.ts';
import { csvHeaderLine, csvLine, defaultExportFileName, jsonClosing, jsonEvent, jsonOpening } from '#common/export-format.ts';
import { evidenceDocument, evidenceFileName } from '#common/evidence-export.ts';
import { fail, ok, parseRequestArgs, requestOfChannel, REQUESTS } from '#common/ipc-contract.ts';
import type { AppState, EngineSource, EvidenceTarget, ExportRequest, ProcessDetails, ProcessRef, RequestName, Requests, Result } from '#common/ipc-contract.ts';
import type { HealthIssue, PortEvent, PortSocket, ProcessInfo } from '#common/model.ts';
import { sameProcessRef } from '#common/open-target.ts';
import { applySettingsPatch } from '#common/settings.ts';
import type { AllowlistEntry, Settings, SettingsPatch } from '#common/settings.ts';
import type { Engine } from './engine.ts';
import { createOwnerReader, isElevated, type OwnerReader } from './os-source.ts';
import type { History } from './history.ts';
import type { SettingsStore } from './settings-store.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { errorMessage } from '#common/error-message.ts';
import { samePorts } from '#common/ports.ts';
import { Listeners } from '#common/listeners.ts';
import type { LateEvidence } from '#common/late-evidence.ts';

/** What the service needs from the engine; `source` where it may be `ghostport serve`'s (the tray's EngineSwitch). */
export type ServiceEngine = Pick<
  Engine,
  'snapshot' | 'status' | 'onScan' | 'onStatus' | 'onEvidenceCompleted' | 'pause' | 'resume' | 'scanNow' | 'setPorts' | 'setIntervalMs'
> & { readonly source?: EngineSource };

/** What the service needs from the history. */
export type ServiceHistory = Pick<History, 'query' | 'iterate' | 'timeline' | 'prune' | 'issues'>;

/** What the service needs from the settings store. */
export type ServiceSettings = Pick<SettingsStore, 'settings' | 'issues' | 'save' | 'onChange'>;

/** Native UI and OS integration, injected by the Electron main process (or a test). */
export interface AppServiceHooks {
  /** Asks the user to confirm ending this process (a native dialog naming it); true to go ahead. */
  confirmEndProcess(process: ProcessInfo): Promise<boolean>;
  /** Shows the file in the OS file manager. */
  revealInFolder(path: string): Promise<void> | void;
  /** Asks where to save an export; null when the user cancels. */
  chooseExportPath(suggestedName: string, format: ExportRequest['format']): Promise<string | null>;
  /** Registers or removes Ghostport as a login item; throws with a readable message on failure. */
  setStartAtLogin(enabled: boolean): Promise<void>;
  /** Whether the OS can show notifications (false: no daemon, or unsupported). */
  notificationsSupported(): boolean;
}

/**
 * The hooks where nobody sits at a desktop (`ghostport serve`, `ghostport ui`): no dialogs, no
 * notifications, never ending a process on one click, no login item; `startAtLogin` names the way.
 */
export function headlessHooks(startAtLogin: string, overrides: Partial<AppServiceHooks> = {}): AppServiceHooks {
  return {
    confirmEndProcess: async () => false,
    revealInFolder: () => undefined,
    chooseExportPath: async () => null,
    setStartAtLogin: async () => {
      throw new Error(startAtLogin);
    },
    notificationsSupported: () => false,
    ...overrides,
  };
}

/** The OS facts the service reports, and who it asks about processes (the machine's by default). */
export interface AppServiceEnvironment {
  readonly version: string;
  readonly platform?: NodeJS.Platform;
  readonly elevated?: boolean;
  /** The engine's own owner reader (its OS source's), so both capture evidence alike. */
  readonly owners?: OwnerReader;
  /** How long `process:end` waits for the process to exit before answering `ended: false`. */
  readonly endWaitMs?: number;
}

/** Everything the service is built from. */
export interface AppServiceDeps {
  readonly engine: ServiceEngine;
  readonly history: ServiceHistory;
  readonly settings: ServiceSettings;
  readonly hooks: AppServiceHooks;
  readonly environment: AppServiceEnvironment;
}

/** The app's request handlers and its state and event streams. */
export interface AppService {
  /**
   * Validates raw arguments and runs the request named by its channel: what every transport calls
   * (the IPC handler after checking the sender, the service's socket with `access: 'read'`).
   */
  invoke(channel: string, rawArgs: unknown, access?: 'read' | 'control'): Promise<Result<unknown>>;
  /** Every request, arguments already validated (the tray's menu calls these). */
  readonly requests: Requests;
  /** The state the window draws (also what `state:get` answers). */
  getState(): AppState;
  /** Subscribes to state changes (coalesced: at most one call per tick); returns the unsubscribe. */
  onStateChanged(listener: (state: AppState) => void): () => void;
  /** Subscribes to new events (already persisted), one call per scan that had any. */
  onEvents(listener: (events: readonly PortEvent[]) => void): () => void;
  /** Subscribes to evidence that finished after detection (the events of its process complete with it). */
  onEvidenceCompleted(listener: (late: LateEvidence) => void): () => void;
  /** Adds or clears an app notice (e.g. notifications found unavailable at runtime). */
  setNotice(code: HealthIssue['code'], issue: HealthIssue | null): void;
  /** Unsubscribes from the engine and settings. */
  dispose(): void;
}

type AnyRequest = (...args: unknown[]) => Promise<Result<unknown>>;

/** Builds the service around a running engine, its history and the settings store. */
export function createAppService(deps: AppServiceDeps): AppService {
  const { engine, history, settings: store, hooks, environment } = deps;
  const platform = environment.platform ?? process.platform;
  const elevated = environment.elevated ?? isElevated();
  const processes = environment.owners ?? createOwnerReader({ platform });
  const endWaitMs = environment.endWaitMs ?? 3000;
  const stateListeners = new Listeners<[AppState]>('state listener');
  const eventListeners = new Listeners<[readonly PortEvent[]]>('event listener');
  const completedListeners = new Listeners<[LateEvidence]>('completed-evidence listener');
  const notices = new Map<HealthIssue['code'], HealthIssue>();
  let emitQueued = false;

  function getState(): AppState {
    const supported = hooks.notificationsSupported();
    const appNotices: HealthIssue[] = [...store.issues, ...history.issues, ...notices.values()];
    if (!supported && !notices.has('notifications-unavailable')) {
      appNotices.push({
        code: 'notifications-unavailable',
        message: 'This desktop cannot show notifications; the tray icon and its tooltip still show what is on the port.',
        hint: 'On Linux, a notification daemon (e.g. the one of GNOME, KDE or dunst) must be running.',
      });
    }
    return {
      snapshot: engine.snapshot,
      status: engine.status,
      settings: store.settings,
      notices: appNotices,
      notificationsSupported: supported,
      // The service sees every owner, whoever runs this app.
      elevated: elevated || engine.source === 'service',
      platform,
      version: environment.version,
      ...(engine.source ? { source: engine.source } : {}),
    };
  }

  function queueStateEmit(): void {
    if (emitQueued) return;
    emitQueued = true;
    // A scan fires onStatus and onScan back to back; one push per tick is enough for the window.
    queueMicrotask(() => {
      emitQueued = false;
      if (stateListeners.size > 0) stateListeners.emit(getState());
    });
  }

  const unsubscribers = [
    engine.onScan((_snapshot, events) => {
      queueStateEmit();
      if (events.length > 0) eventListeners.emit(events);
    }),
    engine.onStatus(() => queueStateEmit()),
    engine.onEvidenceCompleted((late) => completedListeners.emit(late)),
    store.onChange(() => queueStateEmit()),
  ];

  async function updateSettings(patch: SettingsPatch): Promise<Result<Settings>> {
    const before = store.settings;
    const next = applySettingsPatch(before, patch);
    if (next.startAtLogin !== before.startAtLogin) {
      try {
        await hooks.setStartAtLogin(next.startAtLogin);
      } catch (error) {
        return fail('unavailable', `Could not ${next.startAtLogin ? 'turn on' : 'turn off'} start at login: ${errorMessage(error)}`);
      }
    }
    let saved: Settings;
    try {
      saved = await store.save(next);
    } catch (error) {
      return fail('unavailable', errorMessage(error));
    }
    if (!samePorts(saved.ports, before.ports)) engine.setPorts(saved.ports);
    if (saved.intervalMs !== before.intervalMs) engine.setIntervalMs(saved.intervalMs);
    if (saved.retention.maxAgeDays !== before.retention.maxAgeDays || saved.retention.maxEvents !== before.retention.maxEvents) {
      try {
        history.prune(saved.retention);
      } catch (error) {
        console.error('ghostport: pruning the history after a retention change failed', error);
      }
    }
    return ok(saved);
  }

  /** The process as captured when its socket was first seen: live snapshot first, then the history. */
  function findCaptured(ref: ProcessRef): ProcessInfo | null {
    const live = engine.snapshot?.sockets.find((s) => s.process && sameProcessRef(s.process, ref));
    if (live?.process) return live.process;
    const page = history.query({ process: String(ref.pid), order: 'desc', limit: 200 });
    return page.events.find((e) => e.socket.process && sameProcessRef(e.socket.process, ref))?.socket.process ?? null;
  }

  async function processDetails(ref: ProcessRef): Promise<Result<ProcessDetails>> {
    const running = await processes.isStillRunning(ref);
    const live = running ? await processes.readProcessInfo(ref.pid) : null;
    const captured = findCaptured(ref) ?? live;
    if (!captured) return fail('not-found', `Ghostport has no record of process ${ref.pid} started at ${ref.startedAt ?? 'an unknown time'}.`);
    const settings = store.settings;
    return ok({
      captured,
      running,
      live,
      parents: running ? await processes.readParentChain(ref.pid) : [],
      sockets: (engine.snapshot?.sockets ?? []).filter((s) => s.process !== null && sameProcessRef(s.process, ref)),
      allowlisted: allowingEntries(settings.allowlist, captured, settings.ports, platform).length > 0,
    });
  }

  async function revealExecutable(ref: ProcessRef): Promise<Result<{ readonly path: string }>> {
    const captured = findCaptured(ref) ?? ((await processes.isStillRunning(ref)) ? await processes.readProcessInfo(ref.pid) : null);
    if (!captured) return fail('not-found', `Ghostport has no record of process ${ref.pid}.`);
    // Only a path Ghostport itself captured is ever shown: the window names a process, never a path.
    const path = captured.path;
    if (path === null) return fail('unavailable', `The executable of ${describeProcess(captured)} is hidden: run Ghostport as root or Administrator to see it.`);
    if (captured.exeDeleted === true || path.endsWith(' (deleted)')) return fail('not-found', `The executable of ${describeProcess(captured)} was deleted or replaced after it started.`);
    await hooks.revealInFolder(path);
    return ok({ path });
  }

  async function endProcess(ref: ProcessRef): Promise<Result<{ readonly ended: boolean }>> {
    if (ref.pid === process.pid) return fail('invalid-argument', 'Ghostport will not end itself; use Quit.');
    if (ref.pid <= 1) return fail('invalid-argument', `Ghostport will not end pid ${ref.pid}.`);
    const changed = (info: ProcessInfo | null) =>
      fail<{ readonly ended: boolean }>(
        'process-changed',
        `Process ${ref.pid} is no longer the ${info ? describeProcess(info) : 'process'} Ghostport saw: it has ended, or its pid now belongs to another program. Nothing was done.`,
      );
    const captured = findCaptured(ref);
    // Identity is pid plus start time: a pid reused by another program must never be signalled.
    if (ref.startedAt === null || !(await processes.isStillRunning(ref))) return changed(captured);
    const live = (await processes.readProcessInfo(ref.pid)) ?? captured;
    if (!live) return changed(captured);
    if (!(await hooks.confirmEndProcess(live))) return fail('cancelled', 'Nothing was done.');
    // The dialog may have been open for minutes: check again right before signalling.
    if (!(await processes.isStillRunning(ref))) return changed(live);
    try {
      process.kill(ref.pid, 'SIGTERM');
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ESRCH') return changed(live);
      if (code === 'EPERM') {
        return fail('permission-denied', `Not allowed to end ${describeProcess(live)}: it belongs to another user. Run Ghostport as root or Administrator.`);
      }
      throw error;
    }
    const ended = await waitForExit(ref, endWaitMs, processes);
    // Rescan so the tray and the window stop showing its sockets without waiting for the next poll.
    void engine.scanNow().catch(() => undefined);
    return ok({ ended });
  }

  async function exportHistory(request: ExportRequest): Promise<Result<{ readonly path: string; readonly count: number }>> {
    const target = await hooks.chooseExportPath(defaultExportFileName(request.format, new Date()), request.format);
    if (target === null) return fail('cancelled', 'Export cancelled.');
    const { offset: _offset, limit: _limit, order: _order, ...filter } = request.query;
    let count = 0;
    try {
      // Written beside the target and renamed: the user never finds a half-written export.
      await writeFileAtomic(
        target,
        async (handle) => {
          const chunk: string[] = [];
          const flush = async () => {
            if (chunk.length > 0) await handle.write(chunk.splice(0).join(''));
          };
          chunk.push(
            request.format === 'csv'
              ? csvHeaderLine()
              : jsonOpening({ exportedAt: new Date().toISOString(), app: 'Ghostport', version: environment.version, query: filter }),
          );
          for (const event of history.iterate(filter)) {
            chunk.push(request.format === 'csv' ? csvLine(event) : jsonEvent(event, count));
            count++;
            if (chunk.length >= 1000) await flush();
          }
          if (request.format === 'json') chunk.push(jsonClosing(count));
          await flush();
        },
        0o600,
      );
    } catch (error) {
      return fail('unavailable', `Could not write ${target}: ${errorMessage(error)}`);
    }
    return ok({ path: target, count });
  }

  /** The socket and event a target names: the live snapshot first, then the history. */
  function findRecord(target: EvidenceTarget): { socket: PortSocket; event: PortEvent | null } | null {
    const live = engine.snapshot?.sockets.find((s) => s.id === target.socketId && s.process && sameProcessRef(s.process, target.process));
    const events = history.query({ process: String(target.process.pid), order: 'desc', limit: 200 }).events;
    const event =
      events.find((e) => e.seq === target.seq) ??
      events.find((e) => e.type === 'appeared' && e.socket.id === (live?.id ?? target.socketId)) ??
      null;
    const socket = live ?? event?.socket ?? null;
    return socket?.process && sameProcessRef(socket.process, target.process) ? { socket, event } : null;
  }

  async function exportEvidence(target: EvidenceTarget): Promise<Result<{ readonly path: string }>> {
    const record = findRecord(target);
    if (!record) return fail('not-found', `Ghostport has no record of that socket of process ${target.process.pid}.`);
    const running = await processes.isStillRunning(target.process);
    const live = running ? await processes.readProcessInfo(target.process.pid) : null;
    const now = new Date();
    const path = await hooks.chooseExportPath(evidenceFileName(record.socket, now), 'json');
    if (path === null) return fail('cancelled', 'Export cancelled.');
    const text = `${JSON.stringify(evidenceDocument({ ...record, running, live }, now, environment.version), null, 2)}\n`;
    try {
      await writeFileAtomic(path, (handle) => handle.write(text).then(() => undefined), 0o600);
    } catch (error) {
      return fail('unavailable', `Could not write ${path}: ${errorMessage(error)}`);
    }
    return ok({ path });
  }

  async function changeAllowlist(entry: AllowlistEntry, add: boolean): Promise<Result<Settings>> {
    const current = store.settings.allowlist;
    const allowlist = add ? addAllowlistEntry(current, entry) : removeAllowlistEntry(current, entry);
    if (add && allowlist.length > 1000) return fail('invalid-argument', 'The allowlist is full (1000 entries).');
    return updateSettings({ allowlist });
  }

  const requests: Requests = {
    getState: async () => ok(getState()),
    queryHistory: async (query) => ok(history.query(query)),
    getTimeline: async (query) => ok(history.timeline(query)),
    exportHistory,
    updateSettings,
    scanNow: async () => ok(await engine.scanNow()),
    pauseMonitoring: async () => (engine.pause(), ok(engine.status)),
    resumeMonitoring: async () => (engine.resume(), ok(engine.status)),
    getProcessDetails: processDetails,
    revealExecutable,
    exportEvidence,
    endProcess,
    addToAllowlist: (entry) => changeAllowlist(entry, true),
    removeFromAllowlist: (entry) => changeAllowlist(entry, false),
  };
  // An unexpected throw becomes `internal`, logged with its context, never a dead window.
  const guarded = Object.fromEntries(
    Object.entries(requests).map(([name, handler]) => [
      name,
      async (...args: unknown[]) => {
        try {
          return await (handler as unknown as AnyRequest)(...args);
        } catch (error) {
          const channel = REQUESTS[name as RequestName].channel;
          console.error(`ghostport: ${channel} failed`, error);
          return fail('internal', `Something went wrong (${channel}): ${errorMessage(error)}`);
        }
      },
    ]),
  ) as unknown as Requests;

  return {
    async invoke(channel, rawArgs, access = 'control') {
      const name = requestOfChannel(channel);
      if (name === null) return fail('invalid-argument', `Unknown request ${JSON.stringify(String(channel)).slice(0, 80)}.`);
      if (access === 'read' && REQUESTS[name].access !== 'read') return fail('permission-denied', `${REQUESTS[name].channel} changes the monitor; this connection may only read.`);
      const parsed = parseRequestArgs(name, rawArgs);
      if (!parsed.ok) return fail('invalid-argument', `Invalid ${REQUESTS[name].channel} request: ${parsed.reason}`);
      return (guarded[name] as unknown as AnyRequest)(...(parsed.args as unknown[]));
    },
    requests: guarded,
    getState,
    onStateChanged: (listener) => stateListeners.add(listener),
    onEvents: (listener) => eventListeners.add(listener),
    onEvidenceCompleted: (listener) => completedListeners.add(listener),
    setNotice(code, issue) {
      if (issue) notices.set(code, issue);
      else notices.delete(code);
      queueStateEmit();
    },
    dispose() {
      for (const unsubscribe of unsubscribers) unsubscribe();
      stateListeners.clear();
      eventListeners.clear();
      completedListeners.clear();
    },
  };
}

async function waitForExit(ref: ProcessRef, waitMs: number, processes: OwnerReader): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (!(await processes.isStillRunning(ref))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** "nc (pid 4711)", escaped: process names are attacker-chosen text. */
function describeProcess(info: ProcessInfo): string {
  return `${displayText(info.name, 64)} (pid ${info.pid})`;
}

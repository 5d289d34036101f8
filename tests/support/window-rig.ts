/**
 * The real back end for the app service's tests, the browser tests and the history-view
 * benchmark: the engine polling the real socket tables, a SQLite history and a settings file in
 * a temp directory, and the app service over them. Only the native UI hooks (dialogs, file
 * manager, login items) are recorded instead of shown: that is the seam the Electron main
 * process fills.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAppService } from '#node/app-service.ts';
import type { AppService, AppServiceHooks } from '#node/app-service.ts';
import { Engine, type EventSink } from '#node/engine.ts';
import { EngineSwitch, type SwitchedEngine } from '#node/service/engine-switch.ts';
import { History } from '#node/history.ts';
import { SettingsStore } from '#node/settings-store.ts';
import { createOsSource, type OwnerReader } from '#node/os-source.ts';
import type { EvidenceOptions } from '#node/process-evidence.ts';
import type { ProcessInfo } from '#common/model.ts';
import { DEFAULT_SETTINGS } from '#common/settings.ts';

/** What the native UI hooks were asked to do, and what they answer next. */
export interface RecordedHooks {
  readonly confirms: ProcessInfo[];
  readonly reveals: string[];
  readonly exports: string[];
  readonly loginItems: boolean[];
  /** The answer of the next "end this process?" dialog. */
  confirmAnswer: (info: ProcessInfo) => boolean | Promise<boolean>;
  /** The answer of the next save dialog: a path, or null (cancelled); unset, a fresh file in the data directory. */
  exportPath?: string | null;
  /** Set: turning start at login on or off fails with this message. */
  loginItemError: string | null;
  notificationsSupported: boolean;
}

/** A running back end. */
export interface WindowRig {
  readonly dir: string;
  readonly engine: SwitchedEngine;
  /** Who holds the sockets: the engine's and the app service's owner reader. */
  readonly owners: OwnerReader;
  readonly history: History;
  readonly store: SettingsStore;
  readonly service: AppService;
  readonly hooks: RecordedHooks;
  close(): Promise<void>;
}

/** Options of the rig. */
export interface WindowRigOptions {
  readonly intervalMs?: number;
  /** Start polling right away (the benchmark does not need the engine running). */
  readonly start?: boolean;
  /** Open an existing data directory (the benchmark's pre-seeded history) instead of a fresh one. */
  readonly dataDir?: string;
  /** How evidence is captured (a test asserting the hash and package lets detection wait for them). */
  readonly evidence?: EvidenceOptions;
  /** How long ending a process waits for it to exit. */
  readonly endWaitMs?: number;
  /** As the tray app: the `ghostport serve` at this socket whenever it answers, else the local engine (EngineSwitch). */
  readonly serviceSocket?: string;
}

/** The version the rig's app service reports. */
export const RIG_VERSION = '0.0.0-test';

/** Builds and starts the back end in a fresh temp directory. */
export async function startWindowRig(options: WindowRigOptions = {}): Promise<WindowRig> {
  const dir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'ghostport-window-')));
  const history = History.open({ dataDir: dir });
  const store = await SettingsStore.open({ dataDir: dir });
  const intervalMs = options.intervalMs ?? 400;
  if (store.settings.intervalMs !== intervalMs) await store.save({ ...DEFAULT_SETTINGS, ...store.settings, intervalMs });
  const os = createOsSource({ evidence: options.evidence ?? {} });
  const local = (sink: EventSink) => new Engine({ os, ports: store.settings.ports, intervalMs: store.settings.intervalMs, history: sink });
  const engine = options.serviceSocket ? new EngineSwitch({ socketPath: options.serviceSocket, history, probeMs: 200, createLocal: local }) : local(history);
  const hooks: RecordedHooks = { confirms: [], reveals: [], exports: [], loginItems: [], confirmAnswer: () => true, loginItemError: null, notificationsSupported: true };
  const serviceHooks: AppServiceHooks = {
    async confirmEndProcess(info) {
      hooks.confirms.push(info);
      return hooks.confirmAnswer(info);
    },
    revealInFolder(path) {
      hooks.reveals.push(path);
    },
    async chooseExportPath(suggestedName) {
      const path = hooks.exportPath === undefined ? join(dir, `${hooks.exports.length + 1}-${suggestedName}`) : hooks.exportPath;
      if (path !== null) hooks.exports.push(path);
      return path;
    },
    async setStartAtLogin(enabled) {
      if (hooks.loginItemError) throw new Error(hooks.loginItemError);
      hooks.loginItems.push(enabled);
    },
    notificationsSupported: () => hooks.notificationsSupported,
  };
  const environment = { version: RIG_VERSION, owners: os.owners, ...(options.endWaitMs ? { endWaitMs: options.endWaitMs } : {}) };
  const service = createAppService({ engine, history, settings: store, hooks: serviceHooks, environment });
  os.owners.warm();
  if (options.start !== false) engine.start();
  return {
    dir,
    engine,
    owners: os.owners,
    history,
    store,
    service,
    hooks,
    async close() {
      service.dispose();
      await engine.stop();
      os.dispose();
      history.close();
      if (!options.dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

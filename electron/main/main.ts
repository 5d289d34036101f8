/**
 * The composition root of the Ghostport desktop app: creates the settings store, the history,
 * the engine (whose poll loop runs here, in the main process: hidden renderers get throttled,
 * electron #28293), the app service, the window, the tray and the notifier, and wires them.
 * One `setupX()` per feature; no logic of its own.
 */
import { Notification, app, dialog, session, shell } from 'electron';
import { locateHistory, resolveDataDir, resolveDataDirs } from '#node/data-dir.ts';
import { Engine } from '#node/engine.ts';
import { DEFAULT_SOCKET_PATH } from '#node/service/paths.ts';
import { EngineSwitch } from '#node/service/engine-switch.ts';
import { createOsSource } from '#node/os-source.ts';
import { History } from '#node/history.ts';
import { SettingsStore } from '#node/settings-store.ts';
import { createAppService } from '#node/app-service.ts';
import type { AppService } from '#node/app-service.ts';
import { APP_USER_MODEL_ID } from './app-identity.ts';
import { registerAppScheme, setupAppProtocol } from './app-protocol.ts';
import { chooseExportPath, confirmEndProcess } from './dialogs.ts';
import { enableSandboxEverywhere, setupHardening } from './hardening.ts';
import { setupIpc } from './ipc.ts';
import { launchedAtLogin, setStartAtLogin } from './login-item.ts';
import { setupNotifier } from './notifier.ts';
import type { NotifierHandle } from './notifier.ts';
import { appPaths } from './paths.ts';
import { setupTray } from './tray.ts';
import type { TrayHandle } from './tray.ts';
import { createWindowController } from './window.ts';
import type { WindowController } from './window.ts';
import { errorMessage } from '#common/error-message.ts';

const DAY_MS = 86_400_000;

// Module-level on purpose: a Tray or Notification that is garbage-collected disappears.
let mainWindow: WindowController | null = null;
let tray: TrayHandle | null = null;
let notifier: NotifierHandle | null = null;
let shutdown: (() => Promise<void>) | null = null;
let quitting = false;
let shutDown = false;

function setupPlatformIdentity(): string {
  if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);
  const dataDir = resolveDataDir();
  // The single-instance lock is per userData (electron #29068): pointing userData at the data
  // directory (the one the CLI reads too) makes it one Ghostport per data directory.
  app.setPath('userData', dataDir);
  return dataDir;
}

function setupSingleInstance(): boolean {
  if (!app.requestSingleInstanceLock()) return false;
  app.on('second-instance', () => mainWindow?.show());
  return true;
}

function setupLifecycle(): void {
  // Living in the tray: the last window closing is not a reason to quit.
  app.on('window-all-closed', () => undefined);
  app.on('activate', () => mainWindow?.show());
  app.on('before-quit', (event) => {
    quitting = true;
    if (shutDown || !shutdown) return;
    // Stop the poll loop and flush the history before Electron tears the process down.
    event.preventDefault();
    const run = shutdown;
    shutdown = null;
    void run()
      .catch((error: unknown) => console.error('ghostport: clean shutdown failed', error))
      .finally(() => {
        shutDown = true;
        app.quit();
      });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
}

function setupRetention(history: History, store: SettingsStore): () => void {
  const prune = () => {
    try {
      history.prune(store.settings.retention);
    } catch (error) {
      console.error('ghostport: pruning the history failed', error);
    }
  };
  prune();
  const timer = setInterval(prune, DAY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function setupLoginItemRefresh(store: SettingsStore): void {
  // Re-register at every start: an AppImage that moved, or an autostart file a desktop deleted,
  // would otherwise leave "Start at login" checked but dead.
  if (!store.settings.startAtLogin) return;
  setStartAtLogin(true).catch((error: unknown) => console.error('ghostport: refreshing start at login failed', error));
}

function setupEndToEndProbe(service: AppService): void {
  // Only for Playwright's _electron tests (tests/electron/): lets them read what the tray and
  // the notifier show, which no DOM exposes. Off unless the launcher sets the variable.
  if (process.env.GHOSTPORT_E2E !== '1') return;
  Object.assign(globalThis, {
    ghostportE2E: {
      trayModel: () => tray?.model ?? null,
      trayExists: () => tray !== null && !tray.tray.isDestroyed(),
      notifications: () => notifier?.live.map((entry) => entry.spec) ?? [],
      clickNotification: (index: number) => notifier?.live[index]?.notification.emit('click'),
      state: () => service.getState(),
    },
  });
}

async function onReady(dataDir: string): Promise<void> {
  const paths = appPaths(app.getAppPath());
  setupHardening(session.defaultSession);
  setupAppProtocol(session.defaultSession, paths.rendererDir);

  const store = await SettingsStore.open({ dataDir });
  // The history lives in the XDG state folder on Linux (moved there once from the data directory).
  const located = locateHistory(resolveDataDirs(), true);
  if (located.note) console.info(`ghostport: ${located.note}`);
  const history = History.open({ dataDir: located.dir, label: 'tray' });
  // The privileged service, whenever it runs and lets this user read it, sees more than this app can.
  const os = createOsSource();
  const engine = new EngineSwitch({
    socketPath: process.env.GHOSTPORT_SOCKET || DEFAULT_SOCKET_PATH,
    history,
    createLocal: (sink) => new Engine({ os, ports: store.settings.ports, intervalMs: store.settings.intervalMs, history: sink }),
  });
  const stopRetention = setupRetention(history, store);
  setupLoginItemRefresh(store);

  const win = createWindowController({ preloadPath: paths.preload, iconPath: paths.appIcon, isQuitting: () => quitting });
  mainWindow = win;
  const service = createAppService({
    engine,
    history,
    settings: store,
    hooks: {
      confirmEndProcess: (info) => confirmEndProcess(win.current, info),
      revealInFolder: (path) => shell.showItemInFolder(path),
      chooseExportPath: (name, format) => chooseExportPath(win.current, name, format),
      setStartAtLogin,
      notificationsSupported: () => Notification.isSupported(),
    },
    environment: { version: app.getVersion(), owners: os.owners },
  });
  const stopIpc = setupIpc(service, win);
  tray = setupTray({ service, window: win, assetsDir: paths.assetsDir, quit: () => app.quit() });
  notifier = setupNotifier({ service, window: win, iconPath: paths.appIcon });
  setupEndToEndProbe(service);

  shutdown = async () => {
    notifier?.dispose();
    tray?.dispose();
    tray = null;
    stopIpc();
    stopRetention();
    service.dispose();
    await engine.stop();
    os.dispose();
    history.close();
  };

  os.owners.warm();
  engine.start();
  if (!launchedAtLogin(process.argv)) win.show();
}

function main(): void {
  registerAppScheme();
  enableSandboxEverywhere();
  const dataDir = setupPlatformIdentity();
  if (!setupSingleInstance()) {
    app.quit();
    return;
  }
  setupLifecycle();
  app
    .whenReady()
    .then(() => onReady(dataDir))
    .catch((error: unknown) => {
      console.error('ghostport: failed to start', error);
      dialog.showErrorBox('Ghostport could not start', errorMessage(error));
      // 2, as everywhere: 0 and 1 mean clear and found (e.g. a store refused as a link: UnsafePathError).
      app.exit(2);
    });
}

main();

/**
 * The Ghostport window: created on demand, hidden (not destroyed) when closed, shown,
 * restored and focused when something asks for it, and told what to open.
 */
import { BrowserWindow } from 'electron';
import { APP_ENTRY_URL } from '#common/app-origin.ts';
import type { OpenTarget, PushChannel, PushPayloads } from '#common/ipc-contract.ts';
import { secureWebPreferences } from './security-policy.ts';

/** How the window is built. */
export interface WindowOptions {
  readonly preloadPath: string;
  readonly iconPath: string;
  /** True once the app is quitting: closing then really closes. */
  readonly isQuitting: () => boolean;
}

/** The one window and what the rest of the app may do with it. */
export interface WindowController {
  /** Shows, restores and focuses the window (creating it if needed), then opens the target. */
  show(target?: OpenTarget): void;
  /** Sends a push to the window if it exists. */
  send<C extends PushChannel>(channel: C, payload: PushPayloads[C]): void;
  /** The window, if created (parent of dialogs). */
  readonly current: BrowserWindow | null;
  /** Web contents ids allowed to call the IPC API. */
  readonly trustedIds: ReadonlySet<number>;
}

/** Creates the controller; the window itself is created the first time it is shown. */
export function createWindowController(options: WindowOptions): WindowController {
  let window: BrowserWindow | null = null;
  const trustedIds = new Set<number>();

  function create(): BrowserWindow {
    const win = new BrowserWindow({
      width: 1100,
      height: 720,
      minWidth: 720,
      minHeight: 480,
      show: false,
      title: 'Ghostport',
      icon: options.iconPath,
      autoHideMenuBar: true,
      webPreferences: secureWebPreferences(options.preloadPath),
    });
    const id = win.webContents.id;
    trustedIds.add(id);
    win.on('close', (event) => {
      // The app lives in the tray: closing the window only hides it.
      if (!options.isQuitting()) {
        event.preventDefault();
        win.hide();
      }
    });
    win.on('closed', () => {
      trustedIds.delete(id);
      if (window === win) window = null;
    });
    win.once('ready-to-show', () => win.show());
    void win.loadURL(APP_ENTRY_URL).catch((error: unknown) => console.error('ghostport: the window failed to load', error));
    return win;
  }

  return {
    show(target) {
      const win = window ?? (window = create());
      if (win.isMinimized()) win.restore();
      if (win.webContents.isLoading()) {
        win.once('ready-to-show', () => win.focus());
      } else {
        win.show();
        win.focus();
      }
      if (!target) return;
      // Before the page has loaded its preload is not listening yet; after that, the preload
      // keeps the target until the page subscribes.
      if (win.webContents.isLoading()) win.webContents.once('did-finish-load', () => win.webContents.send('window:open-target', target));
      else win.webContents.send('window:open-target', target);
    },
    send(channel, payload) {
      if (window && !window.isDestroyed()) window.webContents.send(channel, payload);
    },
    get current() {
      return window;
    },
    trustedIds,
  };
}

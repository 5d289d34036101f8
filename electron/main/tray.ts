/**
 * The tray icon: its image, tooltip and menu are rendered from `buildTrayModel(state)` on every
 * state change (and only when the model changed). Linux needs `setContextMenu` again after any
 * change, and a click on the icon may do nothing there (electron #6773), so every action is in
 * the menu.
 */
import { Menu, Tray, dialog, nativeImage } from 'electron';
import type { MenuItemConstructorOptions, NativeImage } from 'electron';
import { join } from 'node:path';
import type { AppState } from '#common/ipc-contract.ts';
import { trayIconFileName, trayIconVariant } from '#common/tray-icons.ts';
import { buildTrayModel } from '#common/tray-model.ts';
import type { TrayCommand, TrayModel, TrayState } from '#common/tray-model.ts';
import type { AppService } from '#node/app-service.ts';
import type { WindowController } from './window.ts';

/** What the tray needs. */
export interface TrayDeps {
  readonly service: AppService;
  readonly window: WindowController;
  readonly assetsDir: string;
  readonly quit: () => void;
}

/** The live tray; keep it referenced for the app's lifetime (a collected Tray vanishes, electron #5941). */
export interface TrayHandle {
  readonly tray: Tray;
  /** The model currently shown (for the end-to-end probe). */
  readonly model: TrayModel;
  dispose(): void;
}

/** Creates the tray and keeps it in step with the app state. */
export function setupTray(deps: TrayDeps): TrayHandle {
  const variant = trayIconVariant(process.platform);
  const icons = new Map<TrayState, NativeImage>();
  const iconFor = (state: TrayState): NativeImage => {
    let image = icons.get(state);
    if (!image) {
      // Loading the 1x file also loads its @2x sibling for HiDPI screens.
      image = nativeImage.createFromPath(join(deps.assetsDir, 'tray', trayIconFileName(state, variant)));
      if (variant === 'template') image.setTemplateImage(true);
      icons.set(state, image);
    }
    return image;
  };

  let model = buildTrayModel(deps.service.getState());
  let shownKey = '';
  const tray = new Tray(iconFor(model.state));
  tray.on('click', () => deps.window.show());

  const render = (state: AppState) => {
    const next = buildTrayModel(state);
    const key = JSON.stringify(next);
    if (key === shownKey) return;
    if (next.state !== model.state || shownKey === '') tray.setImage(iconFor(next.state));
    tray.setToolTip(next.tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(next.menu.map(toMenuItem)));
    model = next;
    shownKey = key;
  };

  const toMenuItem = (item: TrayModel['menu'][number]): MenuItemConstructorOptions => {
    switch (item.kind) {
      case 'label':
        return { label: item.label, enabled: false };
      case 'separator':
        return { type: 'separator' };
      case 'action':
        return { label: item.label, click: () => void run(item.command) };
      case 'checkbox':
        return { type: 'checkbox', label: item.label, checked: item.checked, click: () => void run(item.command) };
    }
  };

  const run = async (command: TrayCommand): Promise<void> => {
    const { service } = deps;
    let failure: string | null = null;
    switch (command.type) {
      case 'open-window':
        deps.window.show();
        return;
      case 'open-target':
        deps.window.show(command.target);
        return;
      case 'quit':
        deps.quit();
        return;
      case 'scan-now':
        failure = failureMessage(await service.requests.scanNow());
        break;
      case 'pause':
        failure = failureMessage(await service.requests.pauseMonitoring());
        break;
      case 'resume':
        failure = failureMessage(await service.requests.resumeMonitoring());
        break;
      case 'set-notifications': {
        const notifications = { ...service.getState().settings.notifications, enabled: command.enabled };
        failure = failureMessage(await service.requests.updateSettings({ notifications }));
        break;
      }
      case 'set-start-at-login':
        failure = failureMessage(await service.requests.updateSettings({ startAtLogin: command.enabled }));
        break;
    }
    // A checkbox flips itself when clicked: re-render from the real state either way.
    shownKey = '';
    render(service.getState());
    if (failure) dialog.showErrorBox('Ghostport', failure);
  };

  render(deps.service.getState());
  const unsubscribe = deps.service.onStateChanged(render);
  return {
    tray,
    get model() {
      return model;
    },
    dispose() {
      unsubscribe();
      tray.destroy();
    },
  };
}

function failureMessage(result: { readonly ok: boolean; readonly error?: { readonly message: string } }): string | null {
  return result.ok ? null : (result.error?.message ?? 'Something went wrong.');
}

/**
 * Start at login: Electron's login items on macOS and Windows; on Linux, which Electron does
 * not support (electron #15198), the XDG autostart entry.
 */
import { app } from 'electron';
import { setLinuxAutostart } from '#node/autostart-linux.ts';

/** Argument that marks a launch at login: start in the tray without opening the window. */
export const HIDDEN_ARG = '--hidden';

/** Registers or removes Ghostport as a login item. */
export async function setStartAtLogin(enabled: boolean): Promise<void> {
  if (process.platform === 'linux') {
    // An AppImage runs from a temporary mount: autostart must point at the .AppImage file itself.
    const execPath = process.env.APPIMAGE ?? process.execPath;
    const args = app.isPackaged ? [HIDDEN_ARG] : [app.getAppPath(), HIDDEN_ARG];
    await setLinuxAutostart(enabled, { execPath, args });
    return;
  }
  app.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_ARG] });
}

/** True when this launch came from the login item (so the window stays closed). */
export function launchedAtLogin(argv: readonly string[]): boolean {
  if (argv.includes(HIDDEN_ARG)) return true;
  return process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin === true;
}

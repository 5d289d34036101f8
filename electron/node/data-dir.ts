/**
 * Where Ghostport keeps its history and settings: one directory shared by the tray app and the
 * CLI. The per-OS app-data folder (the same one Electron's `userData` uses for an app named
 * Ghostport), unless `--data-dir` or `GHOSTPORT_DATA_DIR` says otherwise.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The application's folder name inside the OS app-data folder. */
export const APP_DIR_NAME = 'Ghostport';

/** Resolves the data directory: explicit option, then the environment, then the OS default. */
export function resolveDataDir(
  explicit?: string | null,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (explicit) return resolve(explicit);
  if (env.GHOSTPORT_DATA_DIR) return resolve(env.GHOSTPORT_DATA_DIR);
  const home = env.HOME || env.USERPROFILE || homedir();
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), APP_DIR_NAME);
}

/**
 * Where Ghostport keeps its history and settings: one directory shared by the tray app and the
 * CLI. The per-OS app-data folder (the same one Electron's `userData` uses for an app named
 * Ghostport), unless `--data-dir` or `GHOSTPORT_DATA_DIR` says otherwise.
 *
 * Also the checks made before anything in it is opened, the way ssh treats its files: no file
 * of the store is reached through a symbolic link, and as root a directory or file owned by
 * another user, or a directory others may write to, is refused (another user could swap a file
 * for a link to anything root can write).
 */
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
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

/**
 * Where the settings (configuration) and the history (state) live. On Linux they follow the XDG
 * base directories: $XDG_CONFIG_HOME/Ghostport (~/.config) and $XDG_STATE_HOME/Ghostport
 * (~/.local/state). Elsewhere, and with --data-dir or GHOSTPORT_DATA_DIR, both are one folder.
 */
export interface DataDirs {
  readonly config: string;
  readonly state: string;
}

/** Resolves both folders, with the same precedence as resolveDataDir. */
export function resolveDataDirs(explicit?: string | null, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): DataDirs {
  const config = resolveDataDir(explicit, env, platform);
  if (explicit || env.GHOSTPORT_DATA_DIR || platform === 'win32' || platform === 'darwin') return { config, state: config };
  const home = env.HOME || env.USERPROFILE || homedir();
  return { config, state: join(env.XDG_STATE_HOME || join(home, '.local', 'state'), APP_DIR_NAME) };
}

/** The folder whose history to open, and what to tell the user about it (a move, or why not yet). */
export interface HistoryLocation {
  readonly dir: string;
  readonly note: string | null;
}

/**
 * Where the history is, moving it once from the configuration folder (where Ghostport kept it
 * before the XDG split) to the state folder when `move` (commands that write). Loses nothing:
 * it moves only when the state folder has no history yet, and never while another Ghostport has
 * the old store open (its write-ahead log exists): then the old place is used this time.
 */
export function locateHistory(dirs: DataDirs, move: boolean): HistoryLocation {
  const legacy = join(dirs.config, 'history.db');
  const target = join(dirs.state, 'history.db');
  if (dirs.config === dirs.state || existsSync(target) || !existsSync(legacy)) return { dir: dirs.state, note: null };
  if (!move) return { dir: dirs.config, note: null };
  if (existsSync(`${legacy}-wal`)) return { dir: dirs.config, note: `The history stays in ${dirs.config} for now: another Ghostport has it open. It moves to ${dirs.state} (XDG state folder) once that one stops.` };
  checkStoreFile(legacy);
  checkDataDir(dirs.state, true);
  try {
    // Without a write-ahead log the database file is the whole store (a stale -shm is rebuilt).
    renameSync(legacy, target);
  } catch (error) {
    return { dir: dirs.config, note: `The history stays in ${dirs.config}: it could not be moved to ${dirs.state} (${(error as NodeJS.ErrnoException).code ?? String(error)}).` };
  }
  return { dir: dirs.state, note: `Moved the history from ${legacy} to ${target} (the XDG state folder); nothing else changed.` };
}

/** A data directory or store file Ghostport refuses to use; the message says why and what to do. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
}

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** The effective uid, or null where there are none (Windows). */
function currentUid(): number | null {
  return typeof process.geteuid === 'function' ? process.geteuid() : null;
}

/**
 * Checks the data directory (creating it, private, when `create` and missing). Returns false
 * when it is missing and not created. Throws `UnsafePathError` for a directory that as root
 * belongs to another user or is writable by group or others.
 */
export function checkDataDir(dir: string, create: boolean, uid = currentUid()): boolean {
  let info;
  try {
    info = statSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!create) return false;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    info = statSync(dir);
  }
  if (!info.isDirectory()) throw new UnsafePathError(`The data directory ${dir} is not a directory. Choose another with --data-dir.`);
  if (uid === 0 && info.uid !== 0) {
    throw new UnsafePathError(`Refusing the data directory ${dir}: it belongs to uid ${info.uid}, and Ghostport runs as root. Use a directory owned by root (chown root ${dir}) or another --data-dir.`);
  }
  if (uid === 0 && (info.mode & 0o022) !== 0) {
    throw new UnsafePathError(`Refusing the data directory ${dir}: others can write to it (mode ${(info.mode & 0o777).toString(8)}), and Ghostport runs as root. Run chmod go-w ${dir}.`);
  }
  return true;
}

/**
 * Checks one file of the store without following links: false when missing. Throws
 * `UnsafePathError` for a symbolic link, anything but a regular file, or (as root) another
 * user's file.
 */
export function checkStoreFile(path: string, uid = currentUid()): boolean {
  let info;
  try {
    info = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (info.isSymbolicLink()) throw new UnsafePathError(`Refusing ${path}: it is a symbolic link, and Ghostport never follows links for its own files. Remove the link, or choose another --data-dir.`);
  if (!info.isFile()) throw new UnsafePathError(`Refusing ${path}: it is not a regular file. Move it away, or choose another --data-dir.`);
  if (uid === 0 && info.uid !== 0) throw new UnsafePathError(`Refusing ${path}: it belongs to uid ${info.uid}, and Ghostport runs as root. Move it away, or choose another --data-dir.`);
  return true;
}

/** Creates an empty private file, failing (ELOOP/EEXIST) rather than following a link planted in its place. */
export function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600));
  } catch (error) {
    // Another Ghostport created it meanwhile: fine, as long as it passes the same checks.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  checkStoreFile(path);
}

/** Opens a file for reading without following a link (and without blocking on a FIFO). */
export function openNoFollow(path: string): number {
  return openSync(path, constants.O_RDONLY | O_NOFOLLOW | (constants.O_NONBLOCK ?? 0));
}

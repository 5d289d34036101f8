/**
 * The settings file, `<dataDir>/settings.json`: loaded and validated once at start, written
 * atomically on every change. A file that cannot be trusted (unparsable, invalid, too large,
 * not a regular file) is moved aside as `settings.json.corrupt-<timestamp>` (never deleted),
 * defaults are used, and a `settings-recovered` issue tells the window. A symbolic link in its
 * place, or (as root) a data dir or file of another user, is refused with `UnsafePathError`:
 * never followed, never moved.
 */
import { closeSync, fstatSync, readFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HealthIssue } from '#common/model.ts';
import { DEFAULT_SETTINGS, parseSettings } from '#common/settings.ts';
import type { Settings } from '#common/settings.ts';
import { moveAside, writeFileAtomic } from './atomic-file.ts';
import { checkDataDir, checkStoreFile, openNoFollow } from './data-dir.ts';
import { errorMessage } from '#common/error-message.ts';
import { Listeners } from '#common/listeners.ts';

/** File name of the settings inside the data directory. */
export const SETTINGS_FILE = 'settings.json';

// Real settings are a few hundred bytes (a full allowlist is ~4 MB at worst); anything far
// larger is not ours, and reading it whole would be a memory attack.
const MAX_SETTINGS_BYTES = 8 * 1024 * 1024;

/** How to open the store. */
export interface SettingsStoreOptions {
  readonly dataDir: string;
  /** Clock for the corrupt-file timestamp (tests). */
  readonly now?: () => Date;
}

/** The loaded settings and the file behind them. */
export class SettingsStore {
  readonly #dir: string;
  readonly #path: string;
  readonly #issues: HealthIssue[];
  readonly #listeners = new Listeners<[Settings]>('settings listener');
  #settings: Settings;
  /** Why saving is refused (a bad file that could not be moved aside must not be overwritten). */
  #readOnlyReason: string | null;
  #writes: Promise<void> = Promise.resolve();

  private constructor(dir: string, settings: Settings, issues: HealthIssue[], readOnlyReason: string | null) {
    this.#dir = dir;
    this.#path = join(dir, SETTINGS_FILE);
    this.#settings = settings;
    this.#issues = issues;
    this.#readOnlyReason = readOnlyReason;
  }

  /** Loads the settings; never throws for a bad file (it recovers and reports), only for an unsafe one. */
  static async open(options: SettingsStoreOptions): Promise<SettingsStore> {
    const now = options.now ?? (() => new Date());
    const path = join(options.dataDir, SETTINGS_FILE);
    checkDataDir(options.dataDir, false);
    const loaded = await readSettingsFile(path);
    if (loaded.kind === 'ok') return new SettingsStore(options.dataDir, loaded.settings, [], null);
    if (loaded.kind === 'missing') return new SettingsStore(options.dataDir, DEFAULT_SETTINGS, [], null);
    if (loaded.kind === 'unreadable') {
      const issue: HealthIssue = {
        code: 'settings-recovered',
        message: `The settings file ${path} cannot be read (${loaded.reason}); default settings are in use and changes will not be saved.`,
        hint: 'Check the permissions of the data directory, then restart Ghostport.',
      };
      return new SettingsStore(options.dataDir, DEFAULT_SETTINGS, [issue], `the settings file cannot be read (${loaded.reason})`);
    }
    try {
      const aside = moveAside(path, now());
      const issue: HealthIssue = {
        code: 'settings-recovered',
        message: `The settings file was invalid (${loaded.reason}); it was moved to ${aside} and default settings are in use.`,
        hint: 'Nothing was deleted: open the old file to copy anything you need back into Settings.',
      };
      return new SettingsStore(options.dataDir, DEFAULT_SETTINGS, [issue], null);
    } catch (error) {
      const why = errorText(error);
      const issue: HealthIssue = {
        code: 'settings-recovered',
        message: `The settings file ${path} is invalid (${loaded.reason}) and could not be moved aside (${why}); default settings are in use and changes will not be saved.`,
        hint: 'Move or fix the file by hand, then restart Ghostport.',
      };
      return new SettingsStore(options.dataDir, DEFAULT_SETTINGS, [issue], `the invalid settings file could not be moved aside (${why})`);
    }
  }

  /** The current settings. */
  get settings(): Settings {
    return this.#settings;
  }

  /** Problems met while loading (file moved aside, unreadable). */
  get issues(): readonly HealthIssue[] {
    return this.#issues;
  }

  /** Path of the settings file. */
  get path(): string {
    return this.#path;
  }

  /** Subscribes to saved changes; returns the unsubscribe function. */
  onChange(listener: (settings: Settings) => void): () => void {
    return this.#listeners.add(listener);
  }

  /**
   * Validates and writes new settings (temp file, fsync, rename, fsync of the directory), then
   * makes them current. Rejects with a readable message when the disk refuses; the current
   * settings are unchanged then. Saves are serialised: the last one called wins.
   */
  async save(next: Settings): Promise<Settings> {
    const parsed = parseSettings(next);
    if (!parsed.ok) throw new Error(`invalid settings: ${parsed.reason}`);
    if (this.#readOnlyReason) throw new Error(`Settings are not saved: ${this.#readOnlyReason}.`);
    const run = this.#writes.then(() => this.#write(parsed.settings));
    this.#writes = run.catch(() => undefined);
    await run;
    this.#settings = parsed.settings;
    this.#listeners.emit(parsed.settings);
    return parsed.settings;
  }

  async #write(settings: Settings): Promise<void> {
    checkDataDir(this.#dir, true);
    try {
      await writeFileAtomic(this.#path, (handle) => handle.writeFile(`${JSON.stringify(settings, null, 2)}\n`, 'utf8'), 0o600);
    } catch (error) {
      throw new Error(`Could not save the settings to ${this.#path}: ${errorText(error)}`);
    }
  }
}

/** What reading the settings file found. */
export type Loaded =
  | { readonly kind: 'ok'; readonly settings: Settings }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'unreadable'; readonly reason: string };

/** Reads and validates the settings file without changing anything on disk. */
export async function readSettingsFile(path: string): Promise<Loaded> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', reason: errorText(error) };
  }
  // A symlink could point anywhere: refused (throws), like another user's file when root.
  if (info.isSymbolicLink() || info.isFile()) checkStoreFile(path);
  // A FIFO would block the read forever.
  if (!info.isFile()) return { kind: 'invalid', reason: 'not a regular file' };
  if (info.size > MAX_SETTINGS_BYTES) return { kind: 'invalid', reason: `${info.size} bytes is far too large` };
  let text: string;
  try {
    // Opened without following a link, and checked again on the open file: nothing swapped in between.
    const fd = openNoFollow(path);
    try {
      const opened = fstatSync(fd);
      if (!opened.isFile() || opened.size > MAX_SETTINGS_BYTES) return { kind: 'invalid', reason: 'replaced while being read' };
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return { kind: 'unreadable', reason: errorText(error) };
  }
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { kind: 'invalid', reason: `not JSON: ${errorText(error)}` };
  }
  const parsed = parseSettings(data);
  return parsed.ok ? { kind: 'ok', settings: parsed.settings } : { kind: 'invalid', reason: parsed.reason };
}
function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function errorText(error: unknown): string {
  const code = codeOf(error);
  const message = errorMessage(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * One configuration for the CLI: the data directory's settings.json (the tray app's ports,
 * interval and allowlist), overridden by flags. Commands that only read never create the
 * data directory; settings are validated (zod) only when a file exists, so a plain scan does not
 * load the validator.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_INTERVAL_MS, DEFAULT_PORT, type PortSocket } from '#common/model.ts';
import type { AllowlistEntry } from '#common/settings.ts';
import { isSocketAllowed } from '#common/allowlist.ts';
import { escapeUnsafe } from '#common/display-text.ts';
import { checkDataDir, locateHistory, resolveDataDirs } from '#node/data-dir.ts';
import type { CliOptions } from './args.ts';
import { CliError, type CliIo } from './io.ts';
import { errorMessage } from '#common/error-message.ts';

/** What a command runs with: settings from the file, then flags on top. */
export interface CliConfig {
  /** The settings' folder (and everything else's, unless Linux's XDG split applies). */
  readonly dataDir: string;
  /** The history's folder: the XDG state folder on Linux, moved there once from the old place. */
  readonly historyDir: string;
  /** True when the directory exists (or was just created by a command that writes). */
  readonly dataDirExists: boolean;
  readonly ports: readonly number[];
  readonly intervalMs: number;
  readonly allowlist: readonly AllowlistEntry[];
  /** True when the socket's owner is allowlisted on its port. */
  readonly allowed: (s: PortSocket) => boolean;
}

/**
 * Resolves the data directory and the settings. `create` (commands that write) makes a missing
 * directory (0700); otherwise a directory named with --data-dir or $GHOSTPORT_DATA_DIR must
 * exist, so a typo is an error rather than an empty result.
 */
export async function loadConfig(options: CliOptions, io: CliIo, create: boolean): Promise<CliConfig> {
  const chosen = options['data-dir'] || io.env.GHOSTPORT_DATA_DIR || null;
  const dirs = resolveDataDirs(options['data-dir'] ?? null, io.env);
  const dataDir = dirs.config;
  let exists: boolean;
  try {
    exists = checkDataDir(dataDir, create);
  } catch (error) {
    if ((error as Error).name === 'UnsafePathError') throw error;
    throw new CliError(`cannot ${create ? 'create or use' : 'use'} the data directory ${escapeUnsafe(dataDir)} (${reason(error)}): fix its permissions or choose another with --data-dir`);
  }
  if (!exists && chosen !== null) {
    throw new CliError(`the data directory ${escapeUnsafe(dataDir)} does not exist: check the path given with ${options['data-dir'] ? '--data-dir' : 'GHOSTPORT_DATA_DIR'}`);
  }
  const settings = exists ? await readSettings(dataDir, io) : null;
  const history = locateHistory(dirs, create);
  if (history.note) io.err(`ghostport: ${escapeUnsafe(history.note)}\n`);
  const allowlist = settings?.allowlist ?? [];
  return {
    dataDir,
    historyDir: history.dir,
    dataDirExists: exists,
    ports: options.port ?? settings?.ports ?? [DEFAULT_PORT],
    intervalMs: options.interval ?? settings?.intervalMs ?? DEFAULT_INTERVAL_MS,
    allowlist,
    allowed: (s) => isSocketAllowed(allowlist, s, process.platform),
  };
}

async function readSettings(dir: string, io: CliIo) {
  if (!existsSync(join(dir, 'settings.json'))) return null;
  const { readSettingsFile } = await import('#node/settings-store.ts');
  const loaded = await readSettingsFile(join(dir, 'settings.json'));
  if (loaded.kind === 'ok') return loaded.settings;
  if (loaded.kind !== 'missing') {
    io.err(`ghostport: ignoring ${escapeUnsafe(join(dir, 'settings.json'))} (${escapeUnsafe(loaded.reason)}); using the default settings. Fix it in the tray app's Settings or by hand.\n`);
  }
  return null;
}

function reason(error: unknown): string {
  return escapeUnsafe((error as NodeJS.ErrnoException).code ?? (errorMessage(error)));
}

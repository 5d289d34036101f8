/**
 * Start at login on Linux: Electron's login items are macOS/Windows only (electron #15198), so
 * Ghostport writes an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/ghostport.desktop`,
 * itself (freedesktop Desktop Application Autostart spec). The Exec line is quoted per the
 * Desktop Entry spec, so an install path with spaces, quotes or `$` launches exactly.
 */
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';

/** File name of the autostart entry. */
export const AUTOSTART_FILE = 'ghostport.desktop';

/** What the entry launches. */
export interface AutostartCommand {
  /** Absolute path of the executable (for an AppImage: `$APPIMAGE`, not the temporary mount). */
  readonly execPath: string;
  /** Arguments after the executable (in development: the app folder for the electron binary). */
  readonly args?: readonly string[];
}

/** Where the entry lives: `$XDG_CONFIG_HOME/autostart`, else `~/.config/autostart`. */
export function autostartFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const configHome = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(configHome, 'autostart', AUTOSTART_FILE);
}

// Desktop Entry spec, "The Exec key": characters that force an argument to be quoted.
const RESERVED = /[\s"'\\><~|&;$*?#()`]/;

/**
 * One Exec argument, as it must appear in the file. Two layers, applied in this order when
 * reading: the string-value escape (`\\` -> `\`), then the Exec quoting (inside double quotes,
 * `"` `` ` `` `$` `\` are backslash-escaped). `%` is a field code, so a literal one is `%%`.
 * Throws for characters a desktop file cannot carry (line breaks, other controls).
 */
export function quoteExecArgument(arg: string): string {
  if (arg.length === 0) return '""';
  if (/[\u0000-\u001f\u007f]/.test(arg)) {
    throw new Error(`cannot put ${JSON.stringify(arg)} in a desktop entry: it contains a control character`);
  }
  const percent = arg.replaceAll('%', '%%');
  if (!RESERVED.test(percent)) return percent;
  const quoted = `"${percent.replace(/["`$\\]/g, (c) => `\\${c}`)}"`;
  // The string-value layer: every backslash written so far must itself be escaped.
  return quoted.replaceAll('\\', '\\\\');
}

/** The whole autostart entry for a command. */
export function desktopEntry(command: AutostartCommand): string {
  const exec = [command.execPath, ...(command.args ?? [])].map(quoteExecArgument).join(' ');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=Ghostport',
    'Comment=Watches port 596 and tells you when anything uses it',
    `Exec=${exec}`,
    'Icon=ghostport',
    'Terminal=false',
    'Categories=Network;Monitor;',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** Writes or removes the autostart entry. Throws with a readable message when the disk refuses. */
export async function setLinuxAutostart(enabled: boolean, command: AutostartCommand, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const path = autostartFilePath(env);
  if (!enabled) {
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw new Error(`could not remove ${path}: ${error.message}`);
    });
    return;
  }
  const text = desktopEntry(command);
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFileAtomic(path, (handle) => handle.writeFile(text, 'utf8'), 0o644);
  } catch (error) {
    throw new Error(`could not write ${path}: ${(error as Error).message}`);
  }
}

/** True when Ghostport's autostart entry exists and is not disabled. */
export async function isLinuxAutostartEnabled(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(autostartFilePath(env), 'utf8');
  } catch {
    return false;
  }
  // Desktops disable an entry in place rather than deleting it.
  return !/^Hidden\s*=\s*true\s*$/m.test(text) && !/^X-GNOME-Autostart-enabled\s*=\s*false\s*$/m.test(text);
}

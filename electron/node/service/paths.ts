/**
 * Where `ghostport serve` lives on a host: its socket, its state directory, and the groups that
 * gate the socket. Node only; everything injectable for tests.
 */
import { readFileSync } from 'node:fs';
import { locateHistory, resolveDataDir, resolveDataDirs } from '#node/data-dir.ts';

/** The socket the service listens on and clients try first. */
export const DEFAULT_SOCKET_PATH = '/run/ghostport/ghostport.sock';

/** Version of the service's HTTP API (the `/v1` in its paths). */
export const API_VERSION = 1;

/** Where the service keeps its settings and its history, and what moving the history said. */
export interface ServiceDirs {
  readonly settings: string;
  readonly history: string;
  readonly note: string | null;
}

/**
 * The service's folders: explicit (--data-dir), then systemd's $STATE_DIRECTORY, then
 * /var/lib/ghostport as root, each one folder for both; else the user's own, as the CLI and the
 * tray app use them: the settings in the data directory, the history in the XDG state folder on
 * Linux (moved there once from the data directory), where `ghostport history` reads it.
 */
export function resolveServiceDirs(explicit: string | null, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): ServiceDirs {
  // systemd passes one path per StateDirectory= entry, colon-separated.
  const one = explicit ? resolveDataDir(explicit) : env.STATE_DIRECTORY?.split(':')[0] || (uid === 0 ? '/var/lib/ghostport' : null);
  if (one) return { settings: one, history: one, note: null };
  const dirs = resolveDataDirs(null, env);
  const located = locateHistory(dirs, true);
  return { settings: dirs.config, history: located.dir, note: located.note };
}

/** A group from /etc/group (Node has no getgrnam): by name or by gid, or null. */
export function findGroup(match: string | number, groupFile = '/etc/group'): { readonly name: string; readonly gid: number } | null {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (!name || gid === undefined || !/^\d+$/.test(gid)) continue;
    if (match === name || match === Number(gid)) return { name, gid: Number(gid) };
  }
  return null;
}

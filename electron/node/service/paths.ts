/**
 * Where `ghostport serve` lives on a host: its socket, its state directory, and the groups that
 * gate the socket. Node only; everything injectable for tests.
 */
import { readFileSync } from 'node:fs';
import { resolveDataDir } from '#node/data-dir.ts';

/** The socket the service listens on and clients try first. */
export const DEFAULT_SOCKET_PATH = '/run/ghostport/ghostport.sock';

/** Version of the service's HTTP API (the `/v1` in its paths). */
export const API_VERSION = 1;

/** The state directory: explicit, then systemd's $STATE_DIRECTORY, then /var/lib/ghostport as root, else the data dir. */
export function resolveStateDir(explicit: string | null, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): string {
  if (explicit) return resolveDataDir(explicit);
  // systemd passes one path per StateDirectory= entry, colon-separated.
  const fromSystemd = env.STATE_DIRECTORY?.split(':')[0];
  if (fromSystemd) return fromSystemd;
  return uid === 0 ? '/var/lib/ghostport' : resolveDataDir(null, env);
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

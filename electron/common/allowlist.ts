/**
 * The one allowlist decision: is this process, on this port, one the user chose not to be
 * alerted about? Used by the engine's service, the tray, the window, the notifications and the
 * CLI, with the platform's path case rule. Also the precise choices offered when allowing from
 * a socket, and how entries are added, removed and described. Pure.
 */
import type { AllowlistEntry } from './settings.ts';
import type { PortSocket, ProcessInfo } from './model.ts';

/** Windows and macOS file systems are case-insensitive by default; Linux and the BSDs are not. */
export function pathsIgnoreCase(platform: string): boolean {
  return platform === 'win32' || platform === 'darwin';
}

function samePath(a: string, b: string, platform: string): boolean {
  return pathsIgnoreCase(platform) ? a.toLowerCase() === b.toLowerCase() : a === b;
}

type Matcher<K extends AllowlistEntry['by']> = (entry: Extract<AllowlistEntry, { by: K }>, p: ProcessInfo, platform: string) => boolean;

// A deleted or replaced executable, or a packaged file that no longer matches its package, is
// never covered by a path or package entry: that is exactly what a responder must see.
const MATCHERS: { readonly [K in AllowlistEntry['by']]: Matcher<K> } = {
  hash: (e, p) => p.exeSha256 === e.sha256,
  package: (e, p) => p.exeDeleted !== true && p.package?.manager === e.manager && p.package.name === e.name && p.package.modified === false,
  path: (e, p, platform) =>
    p.path !== null && p.exeDeleted !== true && samePath(e.path, p.path, platform) && e.argsPrefix.every((arg, i) => p.argv?.[i + 1] === arg),
  user: (e, p) => p.user === e.user,
  unit: (e, p) => p.unit === e.unit,
  // Kept for entries made before version 2: a bare name is easy to spoof.
  name: (e, p) => p.name === e.name,
};

// Which kinds of entry decide by the evidence captured at detection (hash, package, unit, a
// deleted executable), not only by what the basic read gives (path, argv, user, name).
const NEEDS_EVIDENCE: { readonly [K in AllowlistEntry['by']]: boolean } = { hash: true, package: true, path: true, unit: true, user: false, name: false };

/** True when deciding this entry needs the evidence captured (a one-shot scan may skip capturing it otherwise). */
export function entryNeedsEvidence(entry: AllowlistEntry): boolean {
  return NEEDS_EVIDENCE[entry.by];
}

/** True when one entry covers this process on this port. An unknown owner never matches. */
export function entryMatches(entry: AllowlistEntry, process: ProcessInfo | null, port: number, platform: string): boolean {
  if (!process || (entry.port !== null && entry.port !== port)) return false;
  return (MATCHERS[entry.by] as Matcher<AllowlistEntry['by']>)(entry, process, platform);
}

/** THE decision: true when any entry covers the process on this port. */
export function isAllowed(allowlist: readonly AllowlistEntry[], process: ProcessInfo | null, port: number, platform: string): boolean {
  return allowlist.some((entry) => entryMatches(entry, process, port, platform));
}

/** The decision for a socket: its owner on its watched port. */
export function isSocketAllowed(allowlist: readonly AllowlistEntry[], socket: PortSocket, platform: string): boolean {
  return isAllowed(allowlist, socket.process, socket.watchedPort, platform);
}

/** The entries that cover a process on any of these ports (what "Alert me again" removes). */
export function allowingEntries(allowlist: readonly AllowlistEntry[], process: ProcessInfo | null, ports: readonly number[], platform: string): AllowlistEntry[] {
  return allowlist.filter((entry) => ports.some((port) => entryMatches(entry, process, port, platform)));
}

/** One precise way to allow a process, as the window offers it. */
export interface AllowChoice {
  readonly label: string;
  readonly entry: AllowlistEntry;
}

/** The precise choices for allowing this process, narrowest first; each scoped to `port` (null: any watched port). */
export function allowChoices(p: ProcessInfo, port: number | null): AllowChoice[] {
  const choices: AllowChoice[] = [];
  if (p.exeSha256) choices.push({ label: 'This exact binary (its SHA-256)', entry: { by: 'hash', sha256: p.exeSha256, port } });
  if (p.path && p.exeDeleted !== true) {
    const args = (p.argv ?? []).slice(1, 9);
    if (args.length > 0) choices.push({ label: 'This program with these arguments', entry: { by: 'path', path: p.path, argsPrefix: args, port } });
    choices.push({ label: 'This program, any arguments', entry: { by: 'path', path: p.path, argsPrefix: [], port } });
  }
  if (p.package && !p.package.modified && p.exeDeleted !== true) {
    choices.push({ label: `Anything from package ${p.package.name}`, entry: { by: 'package', manager: p.package.manager, name: p.package.name, port } });
  }
  if (p.unit) choices.push({ label: `Anything in ${p.unit}`, entry: { by: 'unit', unit: p.unit, port } });
  if (p.user) choices.push({ label: `Anything run by ${p.user}`, entry: { by: 'user', user: p.user, port } });
  if (choices.length === 0) choices.push({ label: `Any process named ${p.name}`, entry: { by: 'name', name: p.name, port } });
  return choices;
}

const DESCRIBE: { readonly [K in AllowlistEntry['by']]: (e: Extract<AllowlistEntry, { by: K }>) => string } = {
  hash: (e) => `binary with SHA-256 ${e.sha256.slice(0, 16)}…`,
  package: (e) => `anything from ${e.manager} package ${e.name}`,
  path: (e) => (e.argsPrefix.length > 0 ? `${e.path} ${e.argsPrefix.join(' ')}…` : e.path),
  user: (e) => `anything run by user ${e.user}`,
  unit: (e) => `anything in ${e.unit}`,
  name: (e) => `any process named ${e.name}`,
};

/** What the entry allows, in words, without its port (untrusted parts unescaped: escape before display). */
export function describeAllowed(entry: AllowlistEntry): string {
  return (DESCRIBE[entry.by] as (e: AllowlistEntry) => string)(entry);
}

/** The entry in words, with its port. */
export function describeEntry(entry: AllowlistEntry): string {
  return `${describeAllowed(entry)}, ${entry.port === null ? 'any watched port' : `port ${entry.port}`}`;
}

/** True when two entries are the same rule. */
export function sameEntry(a: AllowlistEntry, b: AllowlistEntry): boolean {
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

/** The allowlist with the entry added (unchanged when already present). */
export function addAllowlistEntry(list: readonly AllowlistEntry[], entry: AllowlistEntry): AllowlistEntry[] {
  return list.some((e) => sameEntry(e, entry)) ? [...list] : [...list, entry];
}

/** The allowlist without the entry (unchanged when absent). */
export function removeAllowlistEntry(list: readonly AllowlistEntry[], entry: AllowlistEntry): AllowlistEntry[] {
  return list.filter((e) => !sameEntry(e, entry));
}

/**
 * Allowlist matching: which sockets belong to programs the user chose not to be alerted about,
 * and how entries are added and removed. Pure.
 */
import type { AllowlistEntry } from './settings.ts';
import type { PortSocket, ProcessInfo } from './model.ts';

/** Options for matching; Windows and macOS file systems are usually case-insensitive. */
export interface AllowlistMatchOptions {
  readonly caseInsensitivePaths?: boolean;
}

/** True when the program text names a path rather than a bare process name. */
export function isPathProgram(program: string): boolean {
  return program.includes('/') || program.includes('\\');
}

/**
 * True when an entry covers this process on this port. A path entry matches only the
 * executable's path (a bare name is easy to spoof: anyone can call their binary `sshd`);
 * a name entry matches the process name exactly. An unknown owner never matches.
 */
export function entryMatches(
  entry: AllowlistEntry,
  process: ProcessInfo | null,
  port: number,
  options: AllowlistMatchOptions = {},
): boolean {
  if (!process) return false;
  if (entry.port !== null && entry.port !== port) return false;
  if (isPathProgram(entry.program)) {
    if (process.path === null) return false;
    return options.caseInsensitivePaths
      ? entry.program.toLowerCase() === process.path.toLowerCase()
      : entry.program === process.path;
  }
  return entry.program === process.name;
}

/** True when any entry covers the socket's owner on the socket's watched port. */
export function isAllowlisted(
  allowlist: readonly AllowlistEntry[],
  socket: PortSocket,
  options: AllowlistMatchOptions = {},
): boolean {
  return allowlist.some((entry) => entryMatches(entry, socket.process, socket.watchedPort, options));
}

/** True when any entry covers the process on any of the given ports. */
export function isProcessAllowlisted(
  allowlist: readonly AllowlistEntry[],
  process: ProcessInfo,
  ports: readonly number[],
  options: AllowlistMatchOptions = {},
): boolean {
  return ports.some((port) => allowlist.some((entry) => entryMatches(entry, process, port, options)));
}

/** The entry that allowlists a process: by executable path when known (harder to spoof), else by name. */
export function allowlistEntryFor(process: ProcessInfo, port: number | null): AllowlistEntry {
  return { program: process.path ?? process.name, port };
}

/** True when two entries are the same rule. */
export function sameEntry(a: AllowlistEntry, b: AllowlistEntry): boolean {
  return a.program === b.program && a.port === b.port;
}

/** The allowlist with the entry added (unchanged when already present). */
export function addAllowlistEntry(list: readonly AllowlistEntry[], entry: AllowlistEntry): AllowlistEntry[] {
  return list.some((e) => sameEntry(e, entry)) ? [...list] : [...list, entry];
}

/** The allowlist without the entry (unchanged when absent). */
export function removeAllowlistEntry(list: readonly AllowlistEntry[], entry: AllowlistEntry): AllowlistEntry[] {
  return list.filter((e) => !sameEntry(e, entry));
}

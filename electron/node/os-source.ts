/**
 * Everything the engine asks of the operating system, as one object per platform: the socket
 * source, the owner reader, whether other users' owners are visible, and the clock. The engine
 * receives one (tests and the service pass their own) and never asks which OS it is on; this
 * file is the one place that decides.
 */
import type { NetnsRef, ProcessInfo } from '#common/model.ts';
import { createTracefsEvents, type KernelEventSource } from './kernel-events.ts';
import { netnsOfPid } from './netns.ts';
import { COMMAND_TIMEOUT_MS } from './run-command.ts';
import { createLinuxScanner, createPortableScanner, type Scanner } from './scanner.ts';
import { readLinuxProcess, readLinuxStartTime, readPortableProcess, splitCmdline } from './process-info.ts';
import { readFileSync } from 'node:fs';

/** Reads who holds a socket. */
export interface OwnerReader {
  /** Everything shown about a process, or null when it is gone (or invisible). */
  readProcessInfo(pid: number): Promise<ProcessInfo | null>;
  /** The process's start time (its identity with the pid), or null when it is gone. */
  readStartTime(pid: number): Promise<string | null>;
  /** The process's network namespace, read at once, where the platform has them. */
  readNetns?(pid: number): NetnsRef | null;
  /** The command line, read synchronously (a process seen by a kernel event may be gone next tick). */
  readCommandNow?(pid: number): string | null;
}

/** Wall-clock time in epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** The engine's view of one operating system. */
export interface OsSource {
  /** What this source is, for health messages ("linux", "portable"). */
  readonly name: string;
  readonly scanner: Scanner;
  readonly owners: OwnerReader;
  /** Whether owners of other users' sockets can be seen (root / Administrator). */
  readonly elevated: boolean;
  readonly clock: Clock;
  /** Socket changes as the kernel makes them, between polls; null where only polling exists. */
  readonly kernelEvents: KernelEventSource | null;
  /** Stops whatever helper processes the source started. */
  dispose(): void;
}

/** Options of the system's source; any field of the source itself may be replaced (tests). */
export interface OsSourceOptions extends Partial<OsSource> {
  readonly platform?: NodeJS.Platform;
  /** Bound on each tool the scanner runs. */
  readonly timeoutMs?: number;
}

function readCommandNow(pid: number): string | null {
  try {
    const argv = splitCmdline(readFileSync(`/proc/${pid}/cmdline`));
    return argv.length > 0 ? argv.join(' ') : null;
  } catch {
    return null;
  }
}

/** True when this process can see every process's sockets. */
export function isElevated(platform: NodeJS.Platform = process.platform): boolean {
  // Windows: netstat -ano reports every pid without elevation.
  return platform === 'win32' || process.getuid?.() === 0;
}

const systemClock: Clock = { now: () => Date.now() };

type PlatformParts = Pick<OsSource, 'name' | 'scanner' | 'owners' | 'kernelEvents'>;

const PLATFORMS: Partial<Record<NodeJS.Platform, (timeoutMs: number) => PlatformParts>> = {
  linux: (timeoutMs) => ({
    name: 'linux',
    scanner: createLinuxScanner(timeoutMs),
    owners: { readProcessInfo: (pid) => readLinuxProcess(pid), readStartTime: readLinuxStartTime, readNetns: (pid) => netnsOfPid(pid), readCommandNow },
    kernelEvents: createTracefsEvents(),
  }),
};

// macOS, Windows and the rest: systeminformation, slow but everywhere.
function portable(timeoutMs: number): PlatformParts {
  return {
    name: 'portable',
    kernelEvents: null,
    scanner: createPortableScanner(timeoutMs),
    owners: { readProcessInfo: readPortableProcess, readStartTime: async (pid) => (await readPortableProcess(pid))?.startedAt ?? null },
  };
}

/** The source for this machine (or `platform`), with any part replaced by `options`. */
export function createOsSource(options: OsSourceOptions = {}): OsSource {
  const { platform = process.platform, timeoutMs = COMMAND_TIMEOUT_MS, ...overrides } = options;
  const base = (PLATFORMS[platform] ?? portable)(timeoutMs);
  const scanner = overrides.scanner ?? base.scanner;
  return {
    ...base,
    // Kernel events complement the platform's own scanner: a replaced scanner (tests) goes without.
    kernelEvents: overrides.scanner ? null : base.kernelEvents,
    elevated: isElevated(platform),
    clock: systemClock,
    dispose: () => scanner.dispose?.(),
    ...overrides,
  };
}

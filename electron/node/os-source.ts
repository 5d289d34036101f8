/**
 * Everything the engine asks of the operating system, as one object per platform: the socket
 * source, the owner reader, whether other users' owners are visible, and the clock. The engine
 * receives one (tests and the service pass their own) and never asks which OS it is on; this
 * file is the one place that decides.
 */
import type { ProcessRef } from '#common/ipc-contract.ts';
import type { NetnsRef, ProcessInfo } from '#common/model.ts';
import type { LateEvidence } from '#common/late-evidence.ts';
import { combineKernelEvents, createTracefsEvents, type KernelEventSource } from './kernel-events.ts';
import { createBpfEvents } from './bpf-events.ts';
import { restartOnFailure } from './kernel-restarts.ts';
import { netnsOfPid } from './netns.ts';
import { COMMAND_TIMEOUT_MS } from './run-command.ts';
import { createLinuxScanner, createPortableScanner, type Scanner } from './scanner.ts';
import { EvidenceCollector, type EvidenceOptions } from './process-evidence.ts';
import { isStillRunning, linuxStartTimeResolutionMs, readLinuxProcess, readLinuxStartTime, readParentChain, readPortableProcess, splitCmdline } from './process-info.ts';
import { readFileSync } from 'node:fs';

/** Reads who holds a socket. */
export interface OwnerReader {
  /** Everything shown about a process, with the evidence captured now, or null when it is gone (or invisible). */
  readProcessInfo(pid: number): Promise<ProcessInfo | null>;
  /** The process's start time (its identity with the pid), or null when it is gone. */
  readStartTime(pid: number): Promise<string | null>;
  /** True when a process with this pid AND start time runs: guards against pid reuse. */
  isStillRunning(ref: ProcessRef): Promise<boolean>;
  /** The chain of parents from the nearest up, as far as they can be read (without the evidence). */
  readParentChain(pid: number): Promise<ProcessInfo[]>;
  /** Builds the evidence's indexes now, so the first detection finds them ready (the monitor calls it at start). */
  warm(): void;
  /** The process's network namespace, read at once, where the platform has them. */
  readNetns?(pid: number): NetnsRef | null;
  /** The command line, read synchronously (a process seen by a kernel event may be gone next tick). */
  readCommandNow?(pid: number): string | null;
  /** Subscribes to evidence that finished after detection (a large binary's hash...); returns the unsubscribe function. */
  onLateEvidence?(listener: (late: LateEvidence) => void): () => void;
  /** Stops the helper process its evidence capture started, if any. */
  dispose?(): void;
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

/** Options of the owner reader. */
export interface OwnerOptions {
  readonly platform?: NodeJS.Platform;
  /**
   * How evidence is captured: the one-shot CLI scan waits longer for the hash and the package
   * than the monitor (which must not delay detection), or captures none (`null`) where nothing
   * shows or needs it; tests point at fixtures.
   */
  readonly evidence?: EvidenceOptions | null;
}

/** Options of the system's source; any field of the source itself may be replaced (tests). */
export interface OsSourceOptions extends Partial<OsSource>, OwnerOptions {
  /** Bound on each tool the scanner runs. */
  readonly timeoutMs?: number;
  /** For one scan, not a watch: the cheapest read that starts no process where it can (see createLinuxScanner). */
  readonly oneShot?: boolean;
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

type PlatformParts = Pick<OsSource, 'name' | 'scanner' | 'kernelEvents'>;

/** One platform: its sockets and kernel events, and who holds them (apart, so the owners alone start nothing). */
interface Platform {
  readonly parts: (timeoutMs: number, oneShot: boolean) => PlatformParts;
  readonly owners: (evidence: EvidenceOptions | null) => OwnerReader;
}

const LINUX: Platform = {
  // TCP from tracefs, UDP from eBPF: each says what goes unseen where it cannot run.
  parts: (timeoutMs, oneShot) => ({ name: 'linux', scanner: createLinuxScanner(timeoutMs, undefined, { oneShot }), kernelEvents: combineKernelEvents([createTracefsEvents(), createBpfEvents()].map((source) => restartOnFailure(source))) }),
  owners: (options) => {
    const evidence = options === null ? null : new EvidenceCollector(options);
    return {
      readProcessInfo: (pid) => readLinuxProcess(pid, evidence),
      readStartTime: readLinuxStartTime,
      isStillRunning: (ref) => isStillRunning(readLinuxStartTime, linuxStartTimeResolutionMs(), ref),
      readParentChain: (pid) => readParentChain((p) => readLinuxProcess(p, null), pid),
      warm: () => evidence?.warm(),
      onLateEvidence: (listener) => evidence?.onLate(listener) ?? (() => undefined),
      dispose: () => evidence?.dispose(),
      readNetns: (pid) => netnsOfPid(pid),
      readCommandNow,
    };
  },
};

const readPortableStartTime = async (pid: number) => (await readPortableProcess(pid))?.startedAt ?? null;

// macOS, Windows and the rest: systeminformation, slow but everywhere.
const PORTABLE: Platform = {
  parts: (timeoutMs) => ({ name: 'portable', scanner: createPortableScanner(timeoutMs), kernelEvents: null }),
  owners: () => ({
    readProcessInfo: readPortableProcess,
    readStartTime: readPortableStartTime,
    // systeminformation gives start times to the second.
    isStillRunning: (ref) => isStillRunning(readPortableStartTime, 1000, ref),
    readParentChain: (pid) => readParentChain(readPortableProcess, pid),
    warm: () => undefined,
  }),
};

const PLATFORMS: Partial<Record<NodeJS.Platform, Platform>> = { linux: LINUX };

/** Who holds sockets on this machine (or `platform`): the owner part of its OS source alone. */
export function createOwnerReader(options: OwnerOptions = {}): OwnerReader {
  return (PLATFORMS[options.platform ?? process.platform] ?? PORTABLE).owners(options.evidence === undefined ? {} : options.evidence);
}

/** The source for this machine (or `platform`), with any part replaced by `options`. */
export function createOsSource(options: OsSourceOptions = {}): OsSource {
  const { platform = process.platform, timeoutMs = COMMAND_TIMEOUT_MS, evidence = {}, oneShot = false, ...overrides } = options;
  const chosen = PLATFORMS[platform] ?? PORTABLE;
  const base = { ...chosen.parts(timeoutMs, oneShot), owners: overrides.owners ?? chosen.owners(evidence) };
  const scanner = overrides.scanner ?? base.scanner;
  // Only what this source made is stopped with it; injected parts belong to their maker.
  const owners = overrides.owners ? null : base.owners;
  return {
    ...base,
    // Kernel events complement the platform's own scanner: a replaced scanner (tests) goes without.
    kernelEvents: overrides.scanner ? null : base.kernelEvents,
    elevated: isElevated(platform),
    clock: systemClock,
    dispose: () => {
      scanner.dispose?.();
      owners?.dispose?.();
    },
    ...overrides,
  };
}

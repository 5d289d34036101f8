/**
 * Reads who owns a socket: pid, name, executable, command line, user, parent, start time, CPU
 * and memory. On Linux straight from /proc/PID (about 0.1 ms a process); elsewhere from
 * systeminformation's process list (slow, so only called when the set of sockets changes).
 * Which one applies is the OS source's decision (os-source.ts), never this file's.
 */
import { readFile, readlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import type { AncestorInfo, ProcessInfo } from '#common/model.ts';
import type { ProcessRef } from '#common/ipc-contract.ts';
import type { EvidenceCollector } from './process-evidence.ts';

let clockTicks: number | null = null;
function ticksPerSecond(): number {
  return (clockTicks ??= readClockTicks());
}

/**
 * USER_HZ, the unit of /proc/PID/stat's times, from the kernel's auxiliary vector (AT_CLKTCK,
 * what `getconf CLK_TCK` reads) without starting a process; 100, every mainstream Linux build's
 * value, when it cannot be read.
 */
export function readClockTicks(auxv: Buffer | null = readAuxv(), word = process.arch.endsWith('64') ? 8 : 4, littleEndian = endianness() === 'LE'): number {
  const AT_CLKTCK = 17;
  if (auxv === null) return 100;
  const read = (at: number) => Number(word === 8 ? (littleEndian ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at)) : littleEndian ? auxv.readUInt32LE(at) : auxv.readUInt32BE(at));
  // Pairs of native words (type, value), ended by type 0.
  for (let at = 0; at + 2 * word <= auxv.length; at += 2 * word) {
    const type = read(at);
    if (type === 0) break;
    if (type === AT_CLKTCK) return read(at + word) || 100;
  }
  return 100;
}

function readAuxv(): Buffer | null {
  try {
    return readFileSync('/proc/self/auxv');
  } catch {
    return null;
  }
}

let bootTimeMs: number | null = null;
function bootTime(): number {
  if (bootTimeMs === null) {
    const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    bootTimeMs = match?.[1] ? Number(match[1]) * 1000 : 0;
  }
  return bootTimeMs;
}

let users: Map<number, string> | null = null;
/** Login name for a uid from /etc/passwd, or the uid as text. */
export function userName(uid: number): string {
  if (users === null) {
    users = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id && /^\d+$/.test(id) && !users.has(Number(id))) users.set(Number(id), name);
      }
    } catch {
      // No passwd file (containers): show uids.
    }
  }
  return users.get(uid) ?? String(uid);
}

/** Parsed /proc/PID/stat: the fields Ghostport uses. */
export interface ProcStat {
  readonly comm: string;
  readonly ppid: number;
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  readonly startTicks: number;
}

/** Parses /proc/PID/stat; the name is between the first `(` and the LAST `)` since names may hold `)`. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const start = Number(rest[19]);
  if (![ppid, utime, stime, start].every(Number.isFinite)) return null;
  return { comm: text.slice(open + 1, close), ppid, utimeTicks: utime, stimeTicks: stime, startTicks: start };
}

/** The start time from /proc/PID/stat (Linux): with the pid, the process's identity. */
export async function readLinuxStartTime(pid: number): Promise<string | null> {
  try {
    const stat = parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
    return stat ? startTimeIso(stat.startTicks) : null;
  } catch {
    return null;
  }
}

/** How precise Linux start times are: one clock tick. */
export function linuxStartTimeResolutionMs(): number {
  return 1000 / ticksPerSecond();
}

function startTimeIso(startTicks: number): string {
  return new Date(bootTime() + Math.round((startTicks * 1000) / ticksPerSecond())).toISOString();
}

/** Everything shown about a process on Linux: /proc/PID, plus the evidence (`evidence: null` for the basic fields only); null when it is gone. */
export async function readLinuxProcess(pid: number, evidence: EvidenceCollector | null): Promise<ProcessInfo | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const base = `/proc/${pid}`;
  let statText: string;
  try {
    statText = await readFile(`${base}/stat`, 'utf8');
  } catch {
    return null;
  }
  const stat = parseProcStat(statText);
  if (!stat) return null;
  const [cmdline, status, exe] = await Promise.all([
    readFile(`${base}/cmdline`).catch(() => null),
    readFile(`${base}/status`, 'utf8').catch(() => ''),
    readlink(`${base}/exe`).catch(() => null),
  ]);
  const argv = cmdline ? splitCmdline(cmdline) : [];
  const uidMatch = /^Uid:\s+(\d+)/m.exec(status);
  const rssMatch = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  const uid = uidMatch?.[1] ? Number(uidMatch[1]) : null;
  const startedMs = bootTime() + (stat.startTicks * 1000) / ticksPerSecond();
  const ageSeconds = Math.max((Date.now() - startedMs) / 1000, 0.001);
  const cpuSeconds = (stat.utimeTicks + stat.stimeTicks) / ticksPerSecond();
  const parentPid = stat.ppid > 0 ? stat.ppid : null;
  const startedAt = startTimeIso(stat.startTicks);
  const found = evidence ? await evidence.capture({ pid, parentPid, startedAt, exeLink: exe }, readAncestor) : {};
  return {
    pid,
    name: chooseName(stat.comm, argv[0] ?? null, exe),
    // readlink says "/usr/bin/nc (deleted)" when the binary was removed: the path without it, and exeDeleted.
    path: exe?.endsWith(' (deleted)') ? exe.slice(0, -' (deleted)'.length) : exe,
    command: argv.length > 0 ? argv.join(' ') : `[${stat.comm}]`,
    argv,
    user: uid === null ? null : userName(uid),
    uid,
    parentPid,
    startedAt,
    cpuPercent: Math.round((cpuSeconds / ageSeconds) * 1000) / 10,
    memoryBytes: rssMatch?.[1] ? Number(rssMatch[1]) * 1024 : null,
    uptimeSeconds: Math.round(ageSeconds * 10) / 10,
    ...found,
  };
}

/**
 * One parent for an ancestry: who, what and when, and its own parent. Synchronous reads: the
 * chain is walked one parent after the other, and three small /proc reads cost ~30 µs this way
 * against ~0.7 ms through the thread pool on a busy machine.
 */
async function readAncestor(pid: number): Promise<(AncestorInfo & { readonly parentPid: number | null }) | null> {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (!stat) return null;
    const argv = splitCmdline(readFileSync(`/proc/${pid}/cmdline`));
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return {
      pid,
      name: chooseName(stat.comm, argv[0] ?? null, null),
      // Parents' command lines are context, not the evidence itself: bounded, so a history row stays small.
      command: (argv.length > 0 ? argv.join(' ') : `[${stat.comm}]`).slice(0, 1024),
      user: uid === undefined ? null : userName(Number(uid)),
      startedAt: startTimeIso(stat.startTicks),
      parentPid: stat.ppid > 0 ? stat.ppid : null,
    };
  } catch {
    return null; // Exited meanwhile: the chain ends here.
  }
}

/**
 * The short name to show. Usually comm, but runtimes rename their main thread (Node 24's comm is
 * "MainThread"), so when comm matches neither argv[0] nor the executable, argv[0]'s base name wins.
 */
export function chooseName(comm: string, argv0: string | null, exe: string | null): string {
  const base = (p: string | null) => (p ? (p.split('/').pop() ?? p).replace(/ \(deleted\)$/, '') : '');
  const fromArgv = base(argv0);
  const fromExe = base(exe);
  // comm is truncated to 15 bytes by the kernel.
  if ((fromArgv && fromArgv.slice(0, 15) === comm) || (fromExe && fromExe.startsWith(comm))) return comm;
  return fromArgv || fromExe || comm;
}

/** Splits /proc/PID/cmdline (NUL-separated, bytes) into arguments, decoding invalid UTF-8 visibly. */
export function splitCmdline(bytes: Uint8Array): string[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Everything shown about a process elsewhere: systeminformation's process list. */
export async function readPortableProcess(pid: number): Promise<ProcessInfo | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  // Loaded on first use: Linux reads /proc and never needs it.
  const { default: si } = await import('systeminformation');
  const { list } = await si.processes();
  const p = list.find((row) => row.pid === pid);
  if (!p) return null;
  const started = Date.parse(p.started.replace(' ', 'T'));
  return {
    pid,
    name: p.name,
    path: p.path ? `${p.path}` : null,
    command: [p.command, p.params].filter(Boolean).join(' '),
    user: p.user || null,
    parentPid: p.parentPid > 0 ? p.parentPid : null,
    startedAt: Number.isNaN(started) ? null : new Date(started).toISOString(),
    cpuPercent: p.cpu,
    memoryBytes: p.memRss ? p.memRss * 1024 : null,
    ...PORTABLE_EVIDENCE,
  };
}

// What systeminformation cannot tell is null, never guessed.
const PORTABLE_EVIDENCE = {
  cwd: null,
  exeDeleted: null,
  exeSha256: null,
  package: null,
  unit: null,
  container: null,
  netns: null,
  otherSockets: null,
  reasons: { evidence: 'Ghostport captures this evidence on Linux only so far' },
} as const;

/**
 * True when a process with this pid AND start time is running: guards against pid reuse. Start
 * times read by `readStartTime` closer than `resolutionMs` are the same.
 */
export async function isStillRunning(readStartTime: (pid: number) => Promise<string | null>, resolutionMs: number, ref: ProcessRef): Promise<boolean> {
  if (!Number.isInteger(ref.pid) || ref.pid <= 0 || ref.startedAt === null) return false;
  const startedAt = await readStartTime(ref.pid);
  return startedAt !== null && Math.abs(Date.parse(startedAt) - Date.parse(ref.startedAt)) < resolutionMs;
}

/** The chain of parents from the nearest up (at most `limit`), each read by `read`, as far as they can be read. */
export async function readParentChain(read: (pid: number) => Promise<ProcessInfo | null>, pid: number, limit = 16): Promise<ProcessInfo[]> {
  const chain: ProcessInfo[] = [];
  let current = await read(pid);
  const seen = new Set<number>([pid]);
  while (current?.parentPid && chain.length < limit && !seen.has(current.parentPid)) {
    seen.add(current.parentPid);
    const parent = await read(current.parentPid);
    if (!parent) break;
    chain.push(parent);
    current = parent;
  }
  return chain;
}

/**
 * Reads CPU time and resident memory of a process from Linux /proc. Used both for the bench
 * process itself (the CPU of the tools its scans spawn shows up only in cutime/cstime, once
 * they are reaped) and for the engine child (its poll loop including every `ss` it runs).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time of a process in milliseconds, its own and that of its reaped children. */
export interface CpuTimes {
  readonly selfMs: number;
  readonly childrenMs: number;
}

let ticksPerSecond: number | null = null;

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every mainstream kernel). */
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Reads utime+stime and cutime+cstime of a pid ('self' for this process). */
export function readCpuTimes(pid: number | 'self'): CpuTimes {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime..cstime are fields 14..17.
  const tick = 1000 / clockTicks();
  const num = (i: number): number => Number.parseInt(fields[i - 3] ?? '0', 10);
  return { selfMs: (num(14) + num(15)) * tick, childrenMs: (num(16) + num(17)) * tick };
}

/** Children's CPU of this process so far, in milliseconds (reaped children only). */
export function readChildrenCpuMs(): number {
  return readCpuTimes('self').childrenMs;
}

/** Resident set size of a pid in megabytes (VmRSS), or null when it has gone. */
export function readRssMb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number.parseInt(match[1] as string, 10) / 1024 : null;
  } catch {
    return null;
  }
}

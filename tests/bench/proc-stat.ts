/**
 * Reads CPU time and resident memory of a process from Linux /proc. Used both for the bench
 * process itself (the CPU of the tools its scans spawn shows up only in cutime/cstime, once
 * they are reaped) and for the engine child (its poll loop including every `ss` it runs).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

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

/** Pids of a process's live children (every thread's list). */
export function liveChildren(pid: number | 'self'): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/**
 * CPU of everything a process started, in milliseconds: its reaped children, plus every LIVE
 * descendant's own and reaped CPU. Long-lived helpers (the engine's probe shell and the ss it
 * runs) are counted as they go, not only once they exit.
 */
export function readDescendantsCpuMs(pid: number | 'self'): number {
  let total = readCpuTimes(pid).childrenMs;
  const stack = liveChildren(pid);
  while (stack.length > 0) {
    const child = stack.pop()!;
    try {
      const t = readCpuTimes(child);
      total += t.selfMs + t.childrenMs;
      stack.push(...liveChildren(child));
    } catch {
      // Exited meanwhile: its CPU moves to its parent's reaped children.
    }
  }
  return total;
}

/** Own CPU plus that of everything it started (see readDescendantsCpuMs), in milliseconds. */
export function readTreeCpuMs(pid: number | 'self'): number {
  return readCpuTimes(pid).selfMs + readDescendantsCpuMs(pid);
}

/** CPU of everything this process started, reaped or still running, in milliseconds. */
export function readChildrenCpuMs(): number {
  return readDescendantsCpuMs('self');
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

/**
 * Finds every socket on the watched ports and its owner.
 *
 * systeminformation's `networkConnections()` is the portable source on every platform. On Linux
 * its backend (`netstat -tunap | grep <states>`) misses unconnected UDP sockets, truncates long
 * IPv6 addresses and program names, and returns `[]` without error when neither netstat nor ss
 * exists. So on Linux `ss` (kernel socket diagnostics, filtered in the kernel to the watched
 * ports) fills exactly those gaps, and is also the cheap steady-state probe: while the set of
 * sockets on the watched ports is unchanged (typically: empty), a poll costs one filtered `ss`
 * without owners; the full scan with owners runs only when that set changes.
 */
import si from 'systeminformation';
import type { HealthIssue, HealthLevel } from '../common/model.ts';
import {
  endpointKey,
  fromSiConnection,
  parseSsOutput,
  touchesPorts,
  type RawSocket,
  type SiConnection,
} from '../common/socket-parse.ts';
import { runCommand, COMMAND_TIMEOUT_MS } from './run-command.ts';

/** What one scan saw, before owners are captured. */
export interface RawScan {
  readonly sockets: readonly RawSocket[];
  readonly health: HealthLevel;
  readonly issues: readonly HealthIssue[];
  /** Whether this came from the cheap probe (unchanged since the last full scan). */
  readonly reused: boolean;
}

/** A source of sockets on the watched ports. */
export interface Scanner {
  scan(ports: readonly number[]): Promise<RawScan>;
}

/** The arguments of a kernel-filtered ss for the watched ports. */
export function ssArgs(ports: readonly number[], withOwners: boolean): string[] {
  const filter = ports.map((p) => `sport = :${p} or dport = :${p}`).join(' or ');
  return [withOwners ? '-H -tuanpe' : '-H -tuane', `( ${filter} )`].flatMap((a, i) => (i === 0 ? a.split(' ') : [a]));
}

/** Runs the filtered ss; `null` when ss is not installed. Throws when it fails. */
async function runSs(ports: readonly number[], withOwners: boolean, timeoutMs: number): Promise<RawSocket[] | null> {
  const result = await runCommand('ss', ssArgs(ports, withOwners), { timeoutMs });
  if (result.kind === 'missing') return null;
  if (result.kind === 'failed') throw new Error(result.message);
  const portSet = new Set(ports);
  // The kernel filter already selects the ports; the check here guards against a filter ss ignored.
  return parseSsOutput(result.stdout).sockets.filter((s) => touchesPorts(s, portSet));
}

async function siConnections(ports: readonly number[], timeoutMs: number): Promise<RawSocket[]> {
  const portSet = new Set(ports);
  let timer: NodeJS.Timeout | undefined;
  // systeminformation's exec has no timeout of its own; bound the wait (its child is left to finish).
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`systeminformation did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const rows = (await Promise.race([si.networkConnections(), timeout])) as SiConnection[];
    return rows.flatMap((row) => {
      const s = fromSiConnection(row);
      return s && touchesPorts(s, portSet) ? [s] : [];
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Merges systeminformation's rows with ss's: ss's untruncated fields win, nothing is dropped. */
export function mergeSources(siRows: readonly RawSocket[], ssRows: readonly RawSocket[]): RawSocket[] {
  const merged = new Map<string, RawSocket>();
  for (const row of ssRows) merged.set(endpointKey(row), row);
  const ssShapes = new Set(ssRows.map((r) => `${r.protocol}|${r.localPort}|${r.remotePort}|${r.pid}`));
  for (const row of siRows) {
    const key = endpointKey(row);
    const twin = merged.get(key);
    if (twin) {
      if (twin.pid === null && row.pid !== null) merged.set(key, { ...twin, pid: row.pid, pids: [row.pid] });
      continue;
    }
    // netstat truncates long IPv6 addresses; such a row has an ss twin with the same ports and pid.
    if (ssShapes.has(`${row.protocol}|${row.localPort}|${row.remotePort}|${row.pid}`)) continue;
    merged.set(key, row);
  }
  return [...merged.values()];
}

function probeKey(rows: readonly RawSocket[]): string {
  return rows
    .map((r) => `${endpointKey(r)}|${r.state}|${r.inode ?? ''}`)
    .sort()
    .join('\n');
}

/** Options of the system scanner. */
export interface SystemScannerOptions {
  readonly platform?: NodeJS.Platform;
  readonly timeoutMs?: number;
}

/** The real scanner for this machine. */
export function createSystemScanner(options: SystemScannerOptions = {}): Scanner {
  const platform = options.platform ?? process.platform;
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  return platform === 'linux' ? createLinuxScanner(timeoutMs) : createPortableScanner(timeoutMs);
}

function createPortableScanner(timeoutMs: number): Scanner {
  return {
    async scan(ports) {
      const sockets = await siConnections(ports, timeoutMs);
      return { sockets, health: 'ok', issues: [], reused: false };
    },
  };
}

function createLinuxScanner(timeoutMs: number): Scanner {
  let last: { key: string; portsKey: string; scan: RawScan } | null = null;
  return {
    async scan(ports) {
      const portsKey = ports.join(',');
      const probe = await runSs(ports, false, timeoutMs);
      if (probe !== null && last && last.portsKey === portsKey && last.key === probeKey(probe)) {
        return { ...last.scan, reused: true };
      }
      const [siRows, ssRows] = await Promise.all([siConnections(ports, timeoutMs), runSs(ports, true, timeoutMs)]);
      const scan = await finishLinuxScan(siRows, ssRows);
      // Key the cache on what the owner-less probe would print, so the next poll can compare.
      last = ssRows === null ? null : { key: probeKey(ssRows.map((r) => ({ ...r, pid: null, pids: [] }))), portsKey, scan };
      return scan;
    },
  };
}

async function finishLinuxScan(siRows: RawSocket[], ssRows: RawSocket[] | null): Promise<RawScan> {
  if (ssRows !== null) return { sockets: mergeSources(siRows, ssRows), health: 'ok', issues: [], reused: false };
  const netstat = await runCommand('netstat', ['--version'], { timeoutMs: 5000 });
  if (netstat.kind === 'missing') {
    return {
      sockets: [],
      health: 'blind',
      issues: [
        {
          code: 'no-socket-source',
          message: 'Cannot see sockets: neither ss nor netstat is installed, so port 596 cannot be checked.',
          hint: 'Install iproute2 (ss), e.g. `sudo apt install iproute2`, then scan again.',
        },
      ],
      reused: false,
    };
  }
  return {
    sockets: siRows,
    health: 'degraded',
    issues: [
      {
        code: 'partial-socket-source',
        message: 'ss is not installed: unconnected UDP sockets and long IPv6 addresses cannot be seen.',
        hint: 'Install iproute2 (ss), e.g. `sudo apt install iproute2`.',
      },
    ],
    reused: false,
  };
}

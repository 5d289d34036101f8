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
import { escapeUnsafe } from '../common/display-text.ts';

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

/** Runs the filtered ss; `null` when ss is not installed. Throws when it fails or prints only what cannot be read. */
async function runSs(ports: readonly number[], withOwners: boolean, timeoutMs: number): Promise<SsRows | null> {
  const result = await runCommand('ss', ssArgs(ports, withOwners), { timeoutMs });
  if (result.kind === 'missing') return null;
  if (result.kind === 'failed') throw new Error(result.message);
  const portSet = new Set(ports);
  const parsed = parseSsOutput(result.stdout);
  // Output that does not parse is not "nothing there": an empty answer would be a false "clear".
  if (parsed.skipped > 0 && parsed.sockets.length === 0) {
    const first = result.stdout.split('\n').find((l) => l.trim() !== '') ?? '';
    throw new Error(`ss printed ${parsed.skipped} line(s) Ghostport cannot read, e.g. "${escapeUnsafe(first).slice(0, 80)}"`);
  }
  // The kernel filter already selects the ports; the check here guards against a filter ss ignored.
  return { rows: parsed.sockets.filter((s) => touchesPorts(s, portSet)), skipped: parsed.skipped };
}

/** What ss gave: the rows on the watched ports, and how many lines could not be read. */
interface SsRows {
  readonly rows: RawSocket[];
  readonly skipped: number;
}

// systeminformation runs `netstat | grep` through a shell with no timeout and does not expose the
// child, so it cannot be killed: at most one query is in flight, and a scan never waits on (nor
// uses the stale answer of) one started by an earlier scan.
let siInFlight: Promise<SiConnection[]> | null = null;

/** Why systeminformation gave no rows this scan. */
class SiUnavailable extends Error {}

async function siConnections(ports: readonly number[], timeoutMs: number): Promise<RawSocket[]> {
  if (siInFlight) throw new SiUnavailable('systeminformation is still busy with an earlier query that did not answer');
  const query = (si.networkConnections() as Promise<SiConnection[]>).finally(() => {
    if (siInFlight === query) siInFlight = null;
  });
  siInFlight = query;
  const portSet = new Set(ports);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SiUnavailable(`systeminformation did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const rows = await Promise.race([query, timeout]);
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
      if (probe !== null && probe.skipped === 0 && last && last.portsKey === portsKey && last.key === probeKey(probe.rows)) {
        return { ...last.scan, reused: true };
      }
      const [siResult, ss] = await Promise.all([
        siConnections(ports, timeoutMs).then(
          (rows) => ({ rows, error: null }),
          (error: unknown) => ({ rows: [] as RawSocket[], error }),
        ),
        runSs(ports, true, timeoutMs),
      ]);
      // Without ss, systeminformation is the only source: its failure is the scan's failure.
      if (siResult.error && (ss === null || !(siResult.error instanceof SiUnavailable))) throw siResult.error;
      const scan = await finishLinuxScan(siResult.rows, ss, siResult.error);
      // Key the cache on what the owner-less probe would print, so the next poll can compare.
      last = ss === null || scan.health !== 'ok' ? null : { key: probeKey(ss.rows.map((r) => ({ ...r, pid: null, pids: [] }))), portsKey, scan };
      return scan;
    },
  };
}

async function finishLinuxScan(siRows: RawSocket[], ss: SsRows | null, siError: unknown): Promise<RawScan> {
  if (ss !== null) {
    const issues: HealthIssue[] = [];
    if (ss.skipped > 0) {
      issues.push({
        code: 'partial-socket-source',
        message: `ss printed ${ss.skipped} line(s) Ghostport cannot read: a socket on the watched ports may be missing from this list.`,
        hint: 'Check that `ss -tuanpe` works in a terminal; Ghostport keeps retrying.',
      });
    }
    if (siError) {
      issues.push({
        code: 'partial-socket-source',
        message: `${siError instanceof Error ? siError.message : String(siError)}; sockets are read from ss alone.`,
        hint: 'netstat (used through systeminformation) seems stuck; Ghostport keeps watching with ss.',
      });
    }
    return { sockets: mergeSources(siRows, ss.rows), health: issues.length > 0 ? 'degraded' : 'ok', issues, reused: false };
  }
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

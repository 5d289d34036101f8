/**
 * The CLI's JSON: the public contract of `ghostport scan --json`, `watch --json` and
 * `history --json`. Every document and line carries `schema`, bumped on any change a reader
 * could notice (README, "JSON output"). Pure.
 */
import type { AncestorInfo, ContainerInfo, HealthIssue, HealthLevel, NetnsRef, OtherSockets, PackageInfo, PortEvent, PortSocket, ProcessInfo, Snapshot, SocketEndpoints } from './model.ts';

/** Version of the JSON shape; bump it when a field changes meaning, type or goes away. */
export const JSON_SCHEMA = 2;

/** The JSON shape of a process in the CLI's output. */
export interface ProcessJson {
  readonly pid: number;
  readonly name: string;
  readonly path: string | null;
  readonly command: string;
  readonly user: string | null;
  readonly parentPid: number | null;
  readonly startedAt: string | null;
  readonly cpuPercent?: number | null;
  readonly memoryBytes?: number | null;
  // Schema 2: the evidence captured at detection (null where unknown, with the reason in `reasons`).
  readonly argv: readonly string[] | null;
  readonly uid: number | null;
  readonly cwd: string | null;
  readonly exeDeleted: boolean | null;
  readonly exeSha256: string | null;
  readonly package: PackageInfo | null;
  readonly unit: string | null;
  readonly container: ContainerInfo | null;
  readonly netns: number | null;
  readonly ancestry: readonly AncestorInfo[] | null;
  readonly otherSockets: OtherSockets | null;
  readonly uptimeSeconds: number | null;
  /** When evidence still being computed at detection was filled in; null: everything was there at detection. */
  readonly evidenceCompletedAt: string | null;
  readonly reasons: Readonly<Record<string, string>>;
}

/** The JSON shape of a socket in the CLI's output. */
export interface SocketJson extends SocketEndpoints {
  readonly pid: number | null;
  readonly process: ProcessJson | null;
  readonly ownerUnknownReason?: string;
  readonly netns?: NetnsRef;
  readonly id: string;
  readonly firstSeenAt: string;
}

/** A process as the CLI's JSON writes it. */
export function toProcessJson(p: ProcessInfo | null): ProcessJson | null {
  if (!p) return null;
  return {
    pid: p.pid,
    name: p.name,
    path: p.path,
    command: p.command,
    user: p.user,
    parentPid: p.parentPid,
    startedAt: p.startedAt,
    cpuPercent: p.cpuPercent ?? null,
    memoryBytes: p.memoryBytes ?? null,
    argv: p.argv ?? null,
    uid: p.uid ?? null,
    cwd: p.cwd ?? null,
    exeDeleted: p.exeDeleted ?? null,
    exeSha256: p.exeSha256 ?? null,
    package: p.package ?? null,
    unit: p.unit ?? null,
    container: p.container ?? null,
    netns: p.netns ?? null,
    ancestry: p.ancestry ?? null,
    otherSockets: p.otherSockets ?? null,
    uptimeSeconds: p.uptimeSeconds ?? null,
    evidenceCompletedAt: p.evidenceCompletedAt ?? null,
    reasons: p.reasons ?? {},
  };
}

/** A socket as the CLI's JSON writes it. */
export function toSocketJson(s: PortSocket): SocketJson {
  return {
    protocol: s.protocol,
    family: s.family,
    localAddress: s.localAddress,
    localPort: s.localPort,
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    state: s.state,
    pid: s.pid,
    process: toProcessJson(s.process),
    ...(s.ownerUnknownReason ? { ownerUnknownReason: s.ownerUnknownReason } : {}),
    ...(s.netns ? { netns: { inode: s.netns.inode, host: s.netns.host, label: s.netns.label } } : {}),
    id: s.id,
    firstSeenAt: s.firstSeenAt,
  };
}

/** The document `ghostport scan --json` prints. */
export function toScanJson(snapshot: Snapshot): object {
  return {
    schema: JSON_SCHEMA,
    scannedAt: snapshot.scannedAt,
    ports: snapshot.ports,
    sockets: snapshot.sockets.map(toSocketJson),
    lingering: snapshot.lingering.map(toSocketJson),
    health: snapshot.health,
    issues: snapshot.issues,
    ...(snapshot.sight ? { sight: snapshot.sight } : {}),
  };
}

/** The line `ghostport watch --json` and `history --json` print for an event. */
export function toEventJson(e: PortEvent): object {
  return { schema: JSON_SCHEMA, type: e.type, at: e.at, socket: toSocketJson(e.socket), seq: e.seq, flapping: e.flapping, ...(e.unwatched ? { unwatched: e.unwatched } : {}), ...(e.source ? { source: e.source } : {}), ...(e.previous !== undefined ? { previous: toProcessJson(e.previous) } : {}) };
}

/** The line `ghostport watch --json` prints at start and whenever what it can see changes. */
export function toHealthJson(health: HealthLevel, issues: readonly HealthIssue[], at: string): object {
  return { schema: JSON_SCHEMA, type: 'health', health, issues, at };
}

/**
 * The one vocabulary of Ghostport: sockets, processes, snapshots, events and health.
 * Shared by the engine, the history, the CLI, the Electron main process, the IPC contract
 * and the renderer. Pure types and tiny pure helpers only: no Node, no Electron, no DOM.
 */

/** The port Ghostport exists for: IANA's SMSD, a DEC protocol nothing speaks today. */
export const DEFAULT_PORT = 596;

/** Default poll interval of the engine, in milliseconds. */
export const DEFAULT_INTERVAL_MS = 2000;

/** Smallest and largest poll intervals a user may choose, in milliseconds. */
export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 3_600_000;

/** How often the full scan runs while kernel events cover every socket and the port is clear (never more often than the interval). */
export const SAFETY_NET_MS = 60_000;

/** Transport protocol of a socket. */
export type Protocol = 'tcp' | 'udp';

/** Address family of a socket (a dual-stack `[::]` listener is family 6). */
export type Family = 4 | 6;

/** The owner of a socket, as captured at the moment Ghostport first saw the socket. */
export interface ProcessInfo {
  readonly pid: number;
  /** Short name (comm), e.g. `nc`. May hold any character: always escape before display. */
  readonly name: string;
  /** Absolute path of the executable, or null where privileges hide it. */
  readonly path: string | null;
  /** Full command line, arguments joined by spaces (as `ps` shows it). */
  readonly command: string;
  /** The arguments as the process received them, where known. */
  readonly argv?: readonly string[];
  /** Login name of the owner, or the numeric uid as text if it has no name. */
  readonly user: string | null;
  readonly uid?: number | null;
  readonly parentPid: number | null;
  /** ISO-8601 start time: with the pid, the process's identity (pids get reused). */
  readonly startedAt: string | null;
  /** Average CPU use over the process's life, percent of one core, where cheap. */
  readonly cpuPercent?: number | null;
  /** Resident memory in bytes, where cheap. */
  readonly memoryBytes?: number | null;
  // Evidence captured at detection (Linux; elsewhere null, never guessed). Optional: events
  // recorded before they existed lack them. Why a field is null is in `reasons`.
  /** Working directory of the process. */
  readonly cwd?: string | null;
  /** True when the executable was deleted or replaced after the process started. */
  readonly exeDeleted?: boolean | null;
  /** SHA-256 (hex) of the running executable, read through /proc/PID/exe. */
  readonly exeSha256?: string | null;
  /** The distribution package that installed the executable; null when it belongs to none (see `reasons.package`). */
  readonly package?: PackageInfo | null;
  /** systemd unit or session scope, e.g. `ssh.service`, `session-3.scope`. */
  readonly unit?: string | null;
  /** The container the process runs in, from its cgroup path. */
  readonly container?: ContainerInfo | null;
  /** Network namespace inode (`net:[N]`), the process's view of the network. */
  readonly netns?: number | null;
  /** Parents from the nearest up to init, as they were at detection (depth-limited). */
  readonly ancestry?: readonly AncestorInfo[];
  /** The process's other sockets at detection, summarised. */
  readonly otherSockets?: OtherSockets | null;
  /** How long the process had been running when it was captured, in seconds. */
  readonly uptimeSeconds?: number | null;
  /** When evidence still being computed at detection (the hash of a large binary, the package, the other sockets) was filled in (ISO-8601). */
  readonly evidenceCompletedAt?: string;
  /** Why evidence fields are null, keyed by field name (e.g. `exeSha256: "over the 256 MiB limit"`). */
  readonly reasons?: Readonly<Record<string, string>>;
}

/** The package that owns an executable. */
export interface PackageInfo {
  readonly manager: 'dpkg' | 'rpm';
  readonly name: string;
  readonly version: string | null;
  /** True when the file on disk differs from what the package installed. */
  readonly modified: boolean | null;
}

/** A container runtime and the container's id, as the cgroup path names them. */
export interface ContainerInfo {
  readonly runtime: string;
  readonly id: string;
}

/** One parent in a process's ancestry. */
export interface AncestorInfo {
  readonly pid: number;
  readonly name: string;
  readonly command: string;
  readonly user: string | null;
  readonly startedAt: string | null;
}

/** A short summary of a process's sockets; the lists are empty when the detected socket is its only one. */
export interface OtherSockets {
  /** Its listening (TCP) and bound (UDP) endpoints, e.g. `TCP 0.0.0.0:22` (at most 16). */
  readonly listening: readonly string[];
  /** The remote ends it is connected to, e.g. `TCP 203.0.113.9:443` (at most 16). */
  readonly peers: readonly string[];
  /** How many TCP and UDP sockets it had listening or connected, the detected one included (the lists may be cut). */
  readonly total: number;
}

/** What every source, and every shape of a socket, says of it: protocol, family, endpoints, state. */
export interface SocketEndpoints {
  readonly protocol: Protocol;
  readonly family: Family;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
  /** Upper case, as netstat names them: LISTEN, ESTABLISHED, TIME_WAIT...; unconnected UDP is UNCONN, a TCP socket only bound (neither listening nor connecting: it still holds the port) BOUND. */
  readonly state: string;
}

/** The network namespace a socket lives in (Linux). */
export interface NetnsRef {
  /**
   * The namespace's inode number (as in /proc/PID/ns/net); where that link may not be read (not
   * root), the inode of the namespace's /proc net/tcp entry, also one per namespace.
   */
  readonly inode: number;
  /** True for Ghostport's own namespace: the host's, as far as Ghostport sees. */
  readonly host: boolean;
  /** "host", "ip netns NAME", "RUNTIME container ID" (e.g. "docker container 3f2a…"), or "pid N (comm)" of a process inside. */
  readonly label: string;
}

/** One socket whose local or remote port is watched. */
export interface PortSocket extends SocketEndpoints {
  /** Stable identity: protocol, endpoints, owner pid and owner start time (and inode where known). */
  readonly id: string;
  readonly pid: number | null;
  readonly process: ProcessInfo | null;
  /** Why the owner is unknown, when it is (e.g. not elevated). */
  readonly ownerUnknownReason?: string;
  /** The watched port this socket matched on, and on which side. */
  readonly watchedPort: number;
  readonly side: 'local' | 'remote';
  /** Kernel inode of the socket where the platform reports it (Linux); 0 means no owner can exist. */
  readonly inode?: number | null;
  /** The network namespace it lives in, where the platform reports it (Linux). */
  readonly netns?: NetnsRef;
  /** When the engine first saw this socket (ISO-8601). */
  readonly firstSeenAt: string;
}

/** Something the user should know about the monitor itself. */
export type HealthIssueCode =
  | 'no-socket-source'
  | 'partial-socket-source'
  | 'not-elevated'
  | 'namespaces-hidden'
  | 'kernel-events-unavailable'
  | 'kernel-events-flood'
  | 'ownerless-socket'
  | 'scan-failed'
  | 'service-refused'
  | 'history-unavailable'
  | 'history-busy'
  | 'history-recovered'
  | 'settings-recovered'
  | 'notifications-unavailable';

/**
 * Whether each issue means the socket list itself may be incomplete (a socket could be in what
 * Ghostport cannot read), rather than something about owners, kernel events or the history.
 * After such an issue an empty list is not a clear.
 */
const HIDES_SOCKETS: Readonly<Record<HealthIssueCode, boolean>> = {
  'no-socket-source': true,
  'partial-socket-source': true,
  'namespaces-hidden': true,
  'scan-failed': true,
  'not-elevated': false,
  'kernel-events-unavailable': false,
  'kernel-events-flood': false,
  'ownerless-socket': false,
  'service-refused': false,
  'history-unavailable': false,
  'history-busy': false,
  'history-recovered': false,
  'settings-recovered': false,
  'notifications-unavailable': false,
};

/** True when a snapshot cannot vouch that its socket list is complete: blind, or an issue that may hide a socket. */
export function mayMissSockets(snapshot: Pick<Snapshot, 'health' | 'issues'>): boolean {
  return snapshot.health === 'blind' || snapshot.issues.some((i) => HIDES_SOCKETS[i.code]);
}

/** One problem with the monitor, in words a user can act on. */
export interface HealthIssue {
  readonly code: HealthIssueCode;
  /** What is wrong, one sentence. */
  readonly message: string;
  /** What to do about it, one sentence. */
  readonly hint?: string;
  /** History issues: events waiting in memory to be written (a count, kept out of the text so the text stays the same). */
  readonly pending?: number;
  /** History issues: older waiting events dropped to bound memory. */
  readonly dropped?: number;
}

/**
 * How far the monitor can be trusted right now.
 * - ok: sees every socket and every owner.
 * - degraded: sees sockets but not everything about them (e.g. owners hidden).
 * - blind: cannot see sockets at all; never to be shown as "clear".
 */
export type HealthLevel = 'ok' | 'degraded' | 'blind';

/** The result of one scan of the watched ports. */
export interface Snapshot {
  readonly scannedAt: string;
  readonly ports: readonly number[];
  /** Everything live on the watched ports. */
  readonly sockets: readonly PortSocket[];
  /** Ownerless kernel leftovers of closed connections (TIME_WAIT...): never alerted on. */
  readonly lingering: readonly PortSocket[];
  readonly health: HealthLevel;
  readonly issues: readonly HealthIssue[];
  /** How long the scan took, in milliseconds. */
  readonly durationMs: number;
  /** What the monitor can see between scans, and so what it can miss. */
  readonly sight?: Sight;
}

/** Which sources watch the ports, in words: the kernel's events between polls, or the poll alone. */
export interface Sight {
  /** True while kernel events report sockets between polls. */
  readonly kernelEvents: boolean;
  /** What is covered and what can be missed, one sentence. */
  readonly note: string;
  /**
   * Short-lived sockets the kernel reported that were counted, not reported one by one (more
   * than one on the same endpoint between two scans: a port flapping or hammered), since start.
   */
  readonly coalesced?: number;
  /** Times a kernel helper that died (the tracefs reader, the eBPF helper) was started again, since start. */
  readonly restarts?: number;
  /**
   * Present while kernel events cover every socket and the port is clear: the full scan is then
   * only the safety net and runs this often (ms) instead of every interval.
   */
  readonly safetyNetMs?: number;
}

/** Who told Ghostport about an event: the kernel as it happened, or a poll. */
export type EventSource = 'kernel' | 'poll';

/** What happened to a socket between two scans. */
export type EventType = 'appeared' | 'disappeared' | 'owner-changed';

/** A change on the watched ports. Persisted before it is announced. */
export interface PortEvent {
  /** Row id in the history (0 when the history is unavailable and the event lives only in memory). */
  readonly seq: number;
  readonly type: EventType;
  readonly at: string;
  readonly socket: PortSocket;
  /**
   * True when this socket's endpoint has changed state too often lately (see the engine's flap
   * control): the event is recorded, but must not be notified on its own.
   */
  readonly flapping: boolean;
  /**
   * Set on a `disappeared` found at start: the socket went while Ghostport was not watching,
   * some time after `lastSeenAt` (the last moment Ghostport was watching it).
   */
  readonly unwatched?: { readonly lastSeenAt: string };
  /** The kernel's event (or a scan it prompted), or the periodic poll. */
  readonly source?: EventSource;
  /**
   * On `owner-changed`: the process that held the socket before (the socket carries the new
   * holder, or none: a descriptor in flight or parked in a Unix socket's queue).
   */
  readonly previous?: ProcessInfo | null;
}

/** The poll loop's own state. */
export interface EngineStatus {
  readonly running: boolean;
  readonly paused: boolean;
  readonly intervalMs: number;
  readonly ports: readonly number[];
  readonly lastScanAt: string | null;
  readonly nextScanAt: string | null;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
}

/** True for a valid TCP/UDP port number. */
export function isValidPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

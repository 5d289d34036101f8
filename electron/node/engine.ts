/**
 * The detection engine: polls the scanner, captures owners the moment a socket is first seen,
 * turns consecutive snapshots into `appeared`/`disappeared` events, records them in the
 * history BEFORE telling anyone, and keeps going whatever fails.
 *
 * Contract (see also electron/common/flap-control.ts):
 * - Scans never overlap; `scanNow()` during a scan waits for it and then scans again.
 * - A failing scan, or one that does not finish within `scanTimeoutMs`, is reported
 *   (status.lastError, a blind snapshot with the reason) and retried with exponential backoff up
 *   to 60 s; the loop never stops on its own.
 * - A blind scan (no socket source, failure) produces no events: "cannot see" is not "gone".
 * - Listeners get one call per scan with that scan's events, already persisted, and one for each
 *   listener announced from its kernel event between scans (the last scan's snapshot with that
 *   socket added, and its `appeared`); the scans after it judge it like any socket they know.
 */
import type { EngineStatus, EventSource, HealthIssue, HealthLevel, PortEvent, PortSocket, ProcessInfo, Sight, Snapshot } from '#common/model.ts';
import { formatInterval } from '#common/display-text.ts';
import { DEFAULT_INTERVAL_MS, DEFAULT_PORT, SAFETY_NET_MS } from '#common/model.ts';
import { diffSockets, isLingering, socketIdentity } from '#common/socket-identity.ts';
import { DEFAULT_FLAP_OPTIONS, FlapTracker, type FlapOptions } from '#common/flap-control.ts';
import { endpointKey, type RawSocket } from '#common/socket-parse.ts';
import type { RawScan } from './scanner.ts';
import { createOsSource, type OsSource } from './os-source.ts';
import { failedStart, type KernelEventStatus, type KernelTransition } from './kernel-events.ts';
import { KernelSightings, type KernelOnlySocket } from './kernel-sightings.ts';
import { errorMessage } from '#common/error-message.ts';
import { EngineFeed } from '#common/listeners.ts';
import { completeProcess, type LateEvidence } from '#common/late-evidence.ts';
import { normalizePorts, samePorts } from '#common/ports.ts';

/** Where events are persisted before they are announced. */
export interface EventSink {
  record(events: readonly Omit<PortEvent, 'seq'>[]): readonly PortEvent[];
  /** Called with every full scan: closes what the store holds open but is gone (see History.reconcile). */
  reconcile?(sockets: readonly PortSocket[], ports: readonly number[]): readonly PortEvent[];
  /** Fills in evidence that finished after its events were recorded (see History.completeEvidence). */
  completeEvidence?(late: LateEvidence): readonly PortEvent[];
}

/** How to build an engine. */
export interface EngineOptions {
  readonly ports?: readonly number[];
  readonly intervalMs?: number;
  /** The operating system: sockets, owners, privilege, clock (default: this machine's). */
  readonly os?: OsSource;
  readonly history?: EventSink | null;
  readonly flap?: FlapOptions;
  readonly maxBackoffMs?: number;
  /** Bound on one whole scan (tools, owners): a scan that hangs longer counts as failed. */
  readonly scanTimeoutMs?: number;
  /**
   * How much earlier than the interval each poll may start, as a fraction of it (default 0.2:
   * up to 20 % early, never late, so the detection bound of one interval holds).
   * Polls on an exact beat never see a socket that comes and goes on the same beat.
   */
  readonly jitter?: number;
  /**
   * How often the full scan runs while kernel events cover every socket and the port is clear
   * (default a minute, never more often than the interval): it is then only the safety net.
   */
  readonly safetyNetMs?: number;
}

/** A socket whose holder changed, and the process that held it before. */
interface Moved {
  readonly socket: PortSocket;
  readonly previous: ProcessInfo | null;
}

export type { ScanListener } from '#common/listeners.ts';

const MAX_BACKOFF_MS = 60_000;
// Every tool the scanner runs is bounded (10 s each, see run-command.ts); this catches the rest,
// e.g. a /proc read stuck on a process in uninterruptible sleep.
const SCAN_TIMEOUT_MS = 45_000;
const DEFAULT_JITTER = 0.2;
/**
 * Short-lived sockets of one endpoint reported one by one per second, at most; more are counted
 * (a flapping or hammered port). Per second, not per scan: what is caught must not depend on how
 * long scans take on a busy machine.
 */
const MAX_PER_ENDPOINT_PER_SECOND = 5;
/** Listeners read from their kernel event between two scans, at most (the rest wait for the scan). */
const MAX_EARLY_READS = 32;

/** The poll loop and its state. */
export class Engine extends EngineFeed {
  #ports: readonly number[];
  #intervalMs: number;
  readonly #safetyNetMs: number;
  readonly #os: OsSource;
  readonly #history: EventSink | null;
  readonly #flaps: FlapTracker;
  readonly #maxBackoffMs: number;
  readonly #scanTimeoutMs: number;
  readonly #jitter: number;
  #snapshot: Snapshot | null = null;
  /** Sockets of the last scan that could see, so a blind spell produces no false events. */
  #known: readonly PortSocket[] = [];
  #running = false;
  #paused = false;
  #timer: NodeJS.Timeout | null = null;
  #nextScanAt: number | null = null;
  #inFlight: Promise<Snapshot> | null = null;
  #failures = 0;
  #lastError: string | null = null;
  #sightings: KernelSightings | null = null;
  #kernelStatus: KernelEventStatus | null = null;
  #kick: NodeJS.Timeout | null = null;
  /** The next scan was prompted by a kernel event: its events are the kernel's. */
  #kernelPrompted = false;
  /** Sockets the kernel saw that were counted into another of the same endpoint (a flapping port). */
  #coalesced = 0;
  /** Kernel events lost for want of room, as far as health has reported them. */
  #lostReported = 0;
  /** What the last scan that could see built (the snapshot may also hold sockets announced since). */
  #built: readonly PortSocket[] = [];
  /** Scans started so far: orders early announcements against scans. */
  #scansStarted = 0;
  /**
   * Listeners announced from their kernel event before any scan saw them, each with the number of
   * scans started when it was read: a scan started after that is the judge of whether it is still
   * there; an earlier one may have looked before it existed, so it stays announced past it.
   */
  #early = new Map<string, { readonly socket: PortSocket; readonly after: number }>();
  /** When each endpoint's short-lived sockets were last reported one by one (the last second's): the flood bound. */
  readonly #reportedAt = new Map<string, number[]>();
  /** Sockets read for kernel events since the last scan (each read walks a socket table): bounded. */
  #earlyReads = 0;
  /** Rows read for early announcements that no reconcile of the kernel's sightings has had yet. */
  #earlyRows: RawSocket[] = [];
  /** Early announcements being captured: a scan waits for them before it judges. */
  readonly #earlyCaptures = new Set<Promise<void>>();
  /** Unsubscribes from the owners' late evidence (while running). */
  #offLate: (() => void) | null = null;

  constructor(options: EngineOptions = {}) {
    super();
    this.#ports = normalizePorts(options.ports ?? [DEFAULT_PORT]);
    this.#intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.#os = options.os ?? createOsSource();
    this.#history = options.history ?? null;
    this.#flaps = new FlapTracker(options.flap ?? DEFAULT_FLAP_OPTIONS);
    this.#maxBackoffMs = options.maxBackoffMs ?? MAX_BACKOFF_MS;
    this.#scanTimeoutMs = options.scanTimeoutMs ?? SCAN_TIMEOUT_MS;
    this.#jitter = Math.min(Math.max(options.jitter ?? DEFAULT_JITTER, 0), 0.5);
    this.#safetyNetMs = options.safetyNetMs ?? SAFETY_NET_MS;
  }

  /** The latest snapshot, or null before the first scan. */
  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  /** The loop's state. */
  get status(): EngineStatus {
    return {
      running: this.#running,
      paused: this.#paused,
      intervalMs: this.#intervalMs,
      ports: this.#ports,
      lastScanAt: this.#snapshot?.scannedAt ?? null,
      nextScanAt: this.#nextScanAt === null ? null : new Date(this.#nextScanAt).toISOString(),
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
    };
  }

  /** Starts polling (the first scan runs at once). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#os.owners.warm?.();
    this.#offLate = this.#os.owners.onLateEvidence?.((late) => void this.#completeLate(late)) ?? null;
    this.#schedule(0);
    this.#emitStatus();
    this.#startKernelEvents();
  }

  #startKernelEvents(): void {
    const source = this.#os.kernelEvents;
    if (!source) return;
    const owners = this.#os.owners;
    this.#lostReported = 0;
    const sightings = new KernelSightings({
      readProcessInfo: (pid) => owners.readProcessInfo(pid),
      netnsOf: (pid) => owners.readNetns?.(pid) ?? null,
      readCommand: (pid) => owners.readCommandNow?.(pid) ?? null,
      hostNetns: () => owners.readNetns?.(process.pid)?.inode ?? null,
      now: () => this.#os.clock.now(),
    });
    void source
      .start(this.#ports, (batch) => this.#onKernel(batch))
      .catch(failedStart)
      .then((status) => {
        // Kept while running even when inactive: a source tried again may come up later.
        this.#kernelStatus = this.#running ? status : null;
        this.#sightings = this.#running ? sightings : null;
        if (!this.#running) void source.stop();
        // A scan now, so the snapshot says at once what the kernel covers, or why it cannot and
        // what can be missed (health degraded for a fault), not a poll interval later.
        else if (!this.#paused) void this.scanNow().catch(() => undefined);
      });
  }

  /** Whether kernel events flow now (a source tried again may have come up since start); null: not started. */
  #kernelNow(): KernelEventStatus | null {
    return this.#kernelStatus && (this.#os.kernelEvents?.status?.() ?? this.#kernelStatus);
  }

  #onKernel(batch: readonly KernelTransition[]): void {
    if (this.#sightings && this.#running && !this.#paused) for (const t of batch) this.#announceEarly(t);
    const news = this.#sightings?.take(batch) ?? false;
    const lost = (this.#os.kernelEvents?.condition?.().lost ?? 0) > this.#lostReported;
    // An empty batch: the source's condition changed (a helper died or runs again): health is news.
    if (!(news || lost || batch.length === 0) || this.#kick || !this.#running || this.#paused) return;
    // One scan for a burst of events; more events meanwhile are taken by it or prompt the next.
    // A listener being announced early goes first: the scan's own work would only slow it down.
    this.#kick = setTimeout(() => {
      void Promise.all(this.#earlyCaptures).then(() => {
        this.#kick = null;
        if (!this.#running) return;
        this.#kernelPrompted = true;
        return this.scanNow();
      }).catch(() => undefined);
    }, 1);
  }

  /**
   * A new listener, announced from its kernel event without waiting for a scan: the socket is read
   * at once from its process's namespace and descriptors (as a scan would report it, so the scans
   * that follow find the same identity), its owner captured, the `appeared` recorded and told.
   * The scan the event prompts still runs and judges what follows; anything this cannot pin down
   * (no process context, gone already, another holder) is left to it.
   */
  #announceEarly(t: KernelTransition): void {
    const last = this.#snapshot;
    const socketOf = this.#os.scanner.socketOf;
    if (t.newState !== 'LISTEN' || t.protocol === 'udp' || t.pid === null || !socketOf || !last || last.health === 'blind' || !this.#ports.includes(t.localPort)) return;
    if (this.#earlyReads >= MAX_EARLY_READS) return;
    this.#earlyReads++;
    const row = socketOf.call(this.#os.scanner, { pid: t.pid, family: t.family, localAddress: t.localAddress, localPort: t.localPort, state: 'LISTEN' });
    if (row === null) return;
    if (!this.#mayReport(endpointKey(row))) return;
    // Announced here, so never a kernel-only pair too (the kernel's sightings know it by the event's address).
    this.#earlyRows.push(row, { ...row, localAddress: t.localAddress });
    const after = this.#scansStarted;
    const capture: Promise<void> = this.#capture({ sockets: [row], health: 'ok', issues: [], reused: false }, this.#ports, [...this.#known, ...this.#earlySockets()])
      .then(({ sockets }) => {
        const socket = sockets[0];
        // A scan that finished meanwhile may have found it (it waits for captures that began before it judged).
        if (!socket || !this.#running || this.#early.has(socket.id) || this.#known.some((k) => k.id === socket.id)) return;
        this.#early.set(socket.id, { socket, after });
        const snapshot: Snapshot = { ...this.#snapshot!, sockets: [...this.#snapshot!.sockets, socket].sort(compareSockets) };
        this.#snapshot = snapshot;
        this.scans.emit(snapshot, this.#record({ appeared: [socket], disappeared: [] }, socket.firstSeenAt, 'kernel'));
      })
      .catch((error: unknown) => console.error('ghostport: announcing a listener from its kernel event failed', error))
      .finally(() => this.#earlyCaptures.delete(capture));
    this.#earlyCaptures.add(capture);
  }

  #earlySockets(): PortSocket[] {
    return [...this.#early.values()].map((e) => e.socket);
  }

  /**
   * Evidence that finished after detection: once the scans and announcements that captured it
   * have recorded their events, those events are completed in the history (same seq, no new
   * event) and the sockets holding the process in the snapshot too, which goes out again; then
   * `onEvidenceCompleted` hears of it.
   */
  async #completeLate(late: LateEvidence): Promise<void> {
    // Until none runs: a scan that started meanwhile holds the sockets as they were and would put them back.
    while (this.#inFlight || this.#earlyCaptures.size > 0) await Promise.all([this.#inFlight?.catch(() => undefined), ...this.#earlyCaptures]);
    let recorded = 0;
    try {
      recorded = this.#history?.completeEvidence?.(late).length ?? 0;
    } catch (error) {
      console.error('ghostport: recording late evidence failed', error);
    }
    const complete = (sockets: readonly PortSocket[]): readonly PortSocket[] => {
      if (!sockets.some((s) => completeProcess(s.process, late))) return sockets;
      return sockets.map((s) => {
        const process = completeProcess(s.process, late);
        return process ? { ...s, process } : s;
      });
    };
    this.#known = complete(this.#known);
    this.#built = complete(this.#built);
    for (const [id, entry] of this.#early) this.#early.set(id, { ...entry, socket: complete([entry.socket])[0]! });
    const snapshot = this.#snapshot;
    const sockets = snapshot && this.#running ? complete(snapshot.sockets) : null;
    if (snapshot && sockets && sockets !== snapshot.sockets) {
      this.#snapshot = { ...snapshot, sockets };
      // Same scan (same scannedAt), no events: the window shows the new snapshot.
      this.scans.emit(this.#snapshot, []);
    } else if (recorded === 0) return;
    this.completions.emit(late);
  }

  /** Stops polling and waits for a scan in flight to finish. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#offLate?.();
    this.#offLate = null;
    this.#clearTimer();
    if (this.#kick) clearTimeout(this.#kick);
    this.#kick = null;
    if (this.#kernelStatus) await this.#os.kernelEvents?.stop();
    this.#sightings = null;
    this.#kernelStatus = null;
    const inFlight = this.#inFlight;
    if (inFlight) await inFlight.catch(() => undefined);
    this.#emitStatus();
  }

  /** Pauses the poll loop (scan-now still works). */
  pause(): void {
    this.#paused = true;
    this.#clearTimer();
    this.#emitStatus();
  }

  /** Resumes the poll loop with an immediate scan. */
  resume(): void {
    this.#paused = false;
    if (this.#running) this.#schedule(0);
    this.#emitStatus();
  }

  /** Changes the watched ports and rescans. */
  setPorts(ports: readonly number[]): void {
    this.#ports = normalizePorts(ports);
    if (this.#kernelStatus) this.#os.kernelEvents?.setPorts(this.#ports);
    if (this.#running && !this.#paused) this.#schedule(0);
    this.#emitStatus();
  }

  /** Changes the poll interval (takes effect from the next poll). */
  setIntervalMs(intervalMs: number): void {
    this.#intervalMs = intervalMs;
    if (this.#running && !this.#paused && !this.#inFlight) this.#schedule(intervalMs);
    this.#emitStatus();
  }

  /** Scans now (after any scan in flight) and returns the snapshot. */
  async scanNow(): Promise<Snapshot> {
    if (this.#inFlight) await this.#inFlight.catch(() => undefined);
    return this.#runScan();
  }

  #schedule(delayMs: number): void {
    this.#clearTimer();
    if (!this.#running || this.#paused) return;
    this.#nextScanAt = this.#os.clock.now() + delayMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#inFlight) return; // The in-flight scan reschedules when it ends.
      void this.#runScan().catch(() => undefined);
    }, delayMs);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#nextScanAt = null;
  }

  #runScan(): Promise<Snapshot> {
    if (this.#inFlight) return this.#inFlight;
    this.#clearTimer();
    const startedAt = this.#os.clock.now();
    const run = this.#scanOnce().finally(() => {
      this.#inFlight = null;
      // Fixed rate: the next poll is due one interval after this one STARTED, so a socket is
      // seen at most one interval plus one scan after it appears. Jittered, and only ever EARLIER
      // (by up to `jitter` of the interval), so that something timed to the beat (up while
      // Ghostport is not looking) cannot stay out of sight, without loosening that bound.
      // While the kernel reports every change and the port is clear, the poll is the safety net (see #sight).
      const interval = (this.#snapshot?.sight?.safetyNetMs ?? this.#intervalMs) * (1 - this.#jitter * Math.random());
      const delay =
        this.#failures === 0
          ? Math.max(0, startedAt + interval - this.#os.clock.now())
          : Math.min(this.#intervalMs * 2 ** this.#failures, this.#maxBackoffMs);
      this.#schedule(delay);
      this.#emitStatus();
    });
    this.#inFlight = run;
    return run;
  }

  async #scanOnce(): Promise<Snapshot> {
    const started = performance.now();
    const scanNumber = ++this.#scansStarted;
    const ports = this.#ports;
    const source: EventSource = this.#kernelPrompted ? 'kernel' : 'poll';
    this.#kernelPrompted = false;
    let snapshot: Snapshot;
    let events: PortEvent[] = [];
    try {
      const seen = await this.#withinScanTimeout(async () => {
        const raw = await this.#os.scanner.scan(ports);
        if (raw.health === 'blind') return { raw, built: null };
        // Listeners being announced from their kernel event are known before this scan names owners.
        await Promise.all(this.#earlyCaptures);
        const previous = this.#snapshot && this.#snapshot.health !== 'blind' ? this.#snapshot : null;
        const reusable = raw.reused && previous !== null && samePorts(previous.ports, ports);
        // Unchanged live sockets keep the owners captured when they were first seen; the
        // ownerless leftovers (TIME_WAIT) are refreshed from the probe, with nothing to look up.
        // Sockets announced early are known by identity and inode like the rest.
        const built = reusable ? { sockets: this.#built, lingering: this.#leftovers(uniqueRows(raw.sockets), new Set(ports), this.#isoNow()), moved: [] } : await this.#capture(raw, ports, [...this.#known, ...this.#earlySockets()]);
        return { raw, built };
      });
      const { raw, built } = seen;
      if (built === null) {
        snapshot = this.#blindSnapshot(ports, raw.issues, started);
      } else {
        const ownerless = uniqueRows(raw.sockets).filter((r) => r.pid === null && !isLingering(r));
        const issues: HealthIssue[] = [...raw.issues];
        if (ownerless.some((r) => this.#ownerHidden(r))) {
          issues.push({
            code: 'not-elevated',
            message: this.#os.elevated
              ? 'Some owners are hidden: Ghostport runs as root without the capabilities to read every process\'s descriptors (CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH), and these sockets belong to processes it may not read.'
              : 'Some owners are hidden: Ghostport is not running as root, and these sockets belong to other users.',
            hint: this.#os.elevated
              ? 'Run Ghostport as root with its capabilities (plain sudo; the shipped systemd unit keeps the ones it needs).'
              : 'Run Ghostport as root (sudo) or Administrator to see which process owns them.',
          });
        }
        if (ownerless.some((r) => !this.#ownerHidden(r) && (r.inode ?? 0) > 0)) {
          issues.push({
            code: 'ownerless-socket',
            message: 'A socket on the watched ports is held by no process: its descriptor is in flight or parked in a Unix socket\'s queue (passed with SCM_RIGHTS), so whoever takes it next is not known yet.',
            hint: 'Ghostport looks again every poll and reports the new holder; `ss -xp` lists Unix sockets with queued data.',
          });
        }
        // Listeners being announced from their kernel event are told first, then judged here.
        await Promise.all(this.#earlyCaptures);
        const early = [...this.#early.values()];
        const claimed = this.#earlyRows.splice(0);
        const missed = this.#sightings ? await this.#sightings.reconcile([...built.sockets, ...built.lingering, ...claimed]) : [];
        // Announced before this scan started: it judges them like the known ones. Announced while
        // it ran: it may have looked before they existed, so they stay (the next scan judges them).
        const judged = early.filter((e) => e.after < scanNumber).map((e) => e.socket);
        const pending = early.filter((e) => e.after >= scanNumber).map((e) => e.socket);
        const announced = new Set(pending.map((p) => p.id));
        const full = diffSockets([...this.#known, ...judged], built.sockets);
        const diff = { appeared: full.appeared.filter((s) => !announced.has(s.id)), disappeared: full.disappeared };
        const between = this.#between(missed, new Set(ports));
        issues.push(...this.#kernelIssues());
        const health: HealthLevel = raw.health === 'degraded' || issues.length > 0 ? 'degraded' : 'ok';
        const seen = new Set(built.sockets.map((b) => b.id));
        const stillPending = pending.filter((p) => !seen.has(p.id));
        const clear = health === 'ok' && built.sockets.length + stillPending.length + built.lingering.length === 0;
        snapshot = {
          scannedAt: this.#isoNow(),
          ports,
          sockets: [...built.sockets, ...stillPending].sort(compareSockets),
          lingering: built.lingering,
          health,
          issues,
          durationMs: performance.now() - started,
          sight: this.#sight(clear),
        };
        const reconciled = raw.reused ? [] : (this.#history?.reconcile?.(built.sockets, ports) ?? []);
        const changed = built.moved.map((m) => ({ type: 'owner-changed' as const, at: snapshot.scannedAt, socket: m.socket, previous: m.previous }));
        events = [...reconciled, ...this.#record(diff, snapshot.scannedAt, source, between.flatMap((socket) => [
          { type: 'appeared' as const, at: socket.firstSeenAt, socket },
          { type: 'disappeared' as const, at: snapshot.scannedAt, socket },
        ]), changed)];
        this.#built = built.sockets;
        this.#known = [...built.sockets, ...stillPending];
        this.#early.clear();
        const recent = this.#os.clock.now() - 1000;
        for (const [key, times] of this.#reportedAt) if (times.every((t) => t < recent)) this.#reportedAt.delete(key);
        this.#earlyReads = 0;
      }
      this.#failures = 0;
      this.#lastError = null;
    } catch (error) {
      this.#failures++;
      this.#lastError = errorMessage(error);
      snapshot = this.#blindSnapshot(
        ports,
        [{ code: 'scan-failed', message: `The last scan failed: ${this.#lastError}`, hint: 'Ghostport retries automatically; if this persists, check that ss works.' }],
        started,
      );
    }
    this.#snapshot = snapshot;
    this.scans.emit(snapshot, events);
    return snapshot;
  }

  /** Runs one scan's work, or fails it when it outlives the bound (its late result is dropped). */
  async #withinScanTimeout<T>(work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = this.#scanTimeoutMs;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the scan did not finish within ${formatInterval(limit)}`)), limit);
    });
    const running = work();
    running.catch(() => undefined);
    try {
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #blindSnapshot(ports: readonly number[], issues: readonly HealthIssue[], started: number): Snapshot {
    return {
      scannedAt: this.#isoNow(),
      ports,
      sockets: [],
      lingering: [],
      health: 'blind',
      issues,
      durationMs: performance.now() - started,
    };
  }

  #record(
    diff: { appeared: readonly PortSocket[]; disappeared: readonly PortSocket[] },
    at: string,
    source: EventSource,
    between: readonly { type: 'appeared' | 'disappeared'; at: string; socket: PortSocket }[] = [],
    changed: readonly { type: 'owner-changed'; at: string; socket: PortSocket; previous: ProcessInfo | null }[] = [],
  ): PortEvent[] {
    const nowMs = Date.parse(at);
    const pending: Omit<PortEvent, 'seq'>[] = [
      // What the kernel saw come and go between two scans happened before what this scan finds.
      ...between.map((e) => ({ ...e, source: 'kernel' as const, flapping: this.#flaps.recordTransition(e.socket, Date.parse(e.at)) })),
      ...diff.disappeared.map((socket) => ({ type: 'disappeared' as const, at, socket, source, flapping: this.#flaps.recordTransition(socket, nowMs) })),
      ...diff.appeared.map((socket) => ({ type: 'appeared' as const, at, socket, source, flapping: this.#flaps.recordTransition(socket, nowMs) })),
      ...changed.map((e) => ({ ...e, source, flapping: false })),
    ];
    if (pending.length === 0) return [];
    if (!this.#history) return pending.map((e) => ({ ...e, seq: 0 }));
    return [...this.#history.record(pending)];
  }

  async #capture(raw: RawScan, ports: readonly number[], known: readonly PortSocket[]): Promise<{ sockets: PortSocket[]; lingering: PortSocket[]; moved: Moved[] }> {
    const portSet = new Set(ports);
    const previous = new Map(known.map((s) => [s.id, s]));
    // The kernel's inode names a socket whoever holds it: a new holder is the same socket.
    const byInode = new Map(known.filter((s) => (s.inode ?? 0) > 0).map((s) => [`${s.protocol}|${s.inode}`, s]));
    const moved: Moved[] = [];
    const startTimes = new Map<number, Promise<string | null>>();
    const infos = new Map<number, Promise<ProcessInfo | null>>();
    const now = this.#isoNow();
    const sockets: PortSocket[] = [];
    // A socket table dump taken while sockets come and go may list one twice: count it once.
    const rows = uniqueRows(raw.sockets);
    const lingering = this.#leftovers(rows, portSet, now);
    await Promise.all(
      rows
        .filter((r) => !isLingering(r))
        .map(async (r) => {
          const { side, watchedPort } = watchedSide(r, portSet);
          let startedAt: string | null = null;
          if (r.pid !== null) {
            if (!startTimes.has(r.pid)) startTimes.set(r.pid, this.#os.owners.readStartTime(r.pid));
            startedAt = await startTimes.get(r.pid)!;
          }
          const id = socketIdentity(r, startedAt);
          const before = r.inode ? byInode.get(`${r.protocol}|${r.inode}`) : undefined;
          // Known by identity, or by its inode while its holder still holds it (shared with a
          // fork, a source may name another holder first): the same socket, the same owner.
          const known = previous.get(id) ?? (before && before.pid !== null && r.pids.includes(before.pid) ? before : undefined);
          if (known) {
            sockets.push({ ...known, state: r.state });
            return;
          }
          let info: ProcessInfo | null = null;
          if (r.pid !== null) {
            if (!infos.has(r.pid)) infos.set(r.pid, this.#os.owners.readProcessInfo(r.pid));
            info = await infos.get(r.pid)!;
          }
          const socket = this.#toSocket(r, info, id, side, watchedPort, now, this.#unknownReason(r, info));
          if (!before) {
            sockets.push(socket);
            return;
          }
          // Same socket, other holder (the opener exited and a fork or a receiver keeps it, or it
          // is in flight): it keeps its identity and first sighting, and says who held it before.
          const kept = { ...socket, id: before.id, firstSeenAt: before.firstSeenAt };
          sockets.push(kept);
          if (before.pid !== kept.pid) moved.push({ socket: kept, previous: before.process });
        }),
    );
    sockets.sort(compareSockets);
    return { sockets, lingering, moved };
  }

  /** The ownerless kernel leftovers among the rows (TIME_WAIT...): nothing to look up for them. */
  #leftovers(rows: readonly RawSocket[], portSet: ReadonlySet<number>, now: string): PortSocket[] {
    return rows
      .filter(isLingering)
      .map((r) => {
        const { side, watchedPort } = watchedSide(r, portSet);
        return this.#toSocket(r, null, null, side, watchedPort, now, 'A leftover of a closed connection: the kernel holds it, no process does.');
      })
      .sort(compareSockets);
  }

  /**
   * What the monitor sees between polls, and what it can miss. When every kernel source runs (TCP
   * and UDP), none has failed or lost events, and the port is `clear` (nothing on it, health ok),
   * anything that moves onto the port is an event that prompts a scan at once: the poll is only
   * the safety net and runs every `safetyNetMs` (the idle cost of a watch is then mostly the
   * kernel's). With something on the port it runs every interval: owners that change (a fork
   * keeps the socket, a descriptor passed on) make no socket event.
   */
  #sight(clear = false): Sight {
    const every = `every ${formatInterval(this.#intervalMs)}`;
    const status = this.#kernelNow();
    if (this.#sightings && status?.active) {
      const gaps = (status.gaps ?? []).map((g) => `${g.misses} can be missed (${g.reason})`);
      const condition = this.#os.kernelEvents?.condition?.();
      const net = Math.max(this.#safetyNetMs, this.#intervalMs);
      const safetyNet = clear && gaps.length === 0 && !condition?.failure && net > this.#intervalMs;
      const polls = safetyNet ? `; the port is clear, so the full scan runs only as a safety net, every ${formatInterval(net)} (${every} while something is on it)` : `, between polls ${every}`;
      return {
        kernelEvents: true,
        note: `Kernel events report ${status.covers} the moment they happen${polls}${gaps.length > 0 ? `; ${gaps.join('; ')}` : ''}.`,
        coalesced: this.#coalesced + this.#sightings.coalesced + (condition?.coalesced ?? 0),
        ...(condition?.restarts ? { restarts: condition.restarts } : {}),
        ...(safetyNet ? { safetyNetMs: net } : {}),
      };
    }
    const why = status && !status.active ? ` (kernel events: ${status.reason})` : this.#os.kernelEvents ? '' : ' (no kernel events on this platform)';
    return { kernelEvents: false, note: `Polling ${every}${why}: sockets that live less than one interval can be missed.` };
  }

  #kernelIssues(): HealthIssue[] {
    const issues: HealthIssue[] = [];
    const status = this.#kernelNow();
    const faults = status === null ? [] : status.active ? (status.gaps ?? []).filter((g) => g.fault) : status.fault ? [status] : [];
    for (const gap of faults) {
      issues.push({
        code: 'kernel-events-unavailable',
        message: `Kernel events ${status?.active ? 'are partly' : 'are'} unavailable (${gap.reason}): ${gap.misses} can be missed.`,
        hint: gap.hint,
      });
    }
    const condition = status?.active ? this.#os.kernelEvents?.condition?.() : undefined;
    if (condition?.failure) {
      issues.push({ code: 'kernel-events-unavailable', message: `Kernel events stopped: ${condition.failure}.`, hint: 'Ghostport keeps polling meanwhile, and starts the helper again by itself (waiting longer after each failed try, up to a minute); if it keeps failing, check the system log.' });
    }
    if (condition && condition.lost > this.#lostReported) {
      issues.push({
        code: 'kernel-events-flood',
        message: `A flood on the watched ports: the kernel had no room for ${condition.lost - this.#lostReported} events, which were counted but not reported.`,
        hint: 'Something is hammering the port (a scanner?): the sockets still open are listed; check the firewall.',
      });
      this.#lostReported = condition.lost;
    }
    const overflow = this.#sightings?.overflow ?? 0;
    if (overflow > 0 && this.#sightings) {
      this.#sightings.overflow = 0;
      issues.push({
        code: 'kernel-events-flood',
        message: `A flood on the watched ports: ${overflow} short-lived sockets were counted but not reported one by one.`,
        hint: 'Something is hammering the port (a scanner?): the sockets still open are listed; check the firewall.',
      });
    }
    return issues;
  }

  /** The sockets only the kernel saw, coalesced: per endpoint at most MAX_PER_ENDPOINT_PER_SECOND; the rest are counted as a flood. */
  #between(missed: readonly KernelOnlySocket[], portSet: ReadonlySet<number>): PortSocket[] {
    const kept: PortSocket[] = [];
    for (const k of missed) {
      const socket = this.#kernelSocket(k, portSet);
      if (this.#mayReport(endpointKey(socket))) kept.push(socket);
      else this.#coalesced++;
    }
    return kept;
  }

  /** Whether one more short-lived socket of this endpoint may be reported one by one now (and counts it if so). */
  #mayReport(key: string): boolean {
    const now = this.#os.clock.now();
    const times = (this.#reportedAt.get(key) ?? []).filter((t) => t > now - 1000);
    if (times.length >= MAX_PER_ENDPOINT_PER_SECOND) return false;
    this.#reportedAt.set(key, [...times, now]);
    return true;
  }

  /** A socket only the kernel saw, with the owner read at its event (or what the event named). */
  #kernelSocket(k: KernelOnlySocket, portSet: ReadonlySet<number>): PortSocket {
    const t = k.transition;
    const raw: RawSocket = {
      protocol: t.protocol ?? 'tcp',
      family: t.family,
      localAddress: t.localAddress,
      localPort: t.localPort,
      remoteAddress: t.remoteAddress,
      remotePort: t.remotePort,
      state: k.state,
      pid: k.pid,
      pids: k.pid === null ? [] : [k.pid],
      inode: null,
      uid: null,
      ...(k.netns ? { netns: k.netns } : {}),
    };
    const { side, watchedPort } = watchedSide(raw, portSet);
    const named: ProcessInfo | null = k.pid === null ? null : { pid: k.pid, name: k.comm ?? '?', path: null, command: k.command ?? k.comm ?? '?', user: null, parentPid: null, startedAt: null };
    const reason = k.owner
      ? undefined
      : k.pid !== null
        ? `Process ${k.pid} exited before its details could be read: name and command line are what the kernel event and /proc showed at that moment.`
        : k.comm !== null
          ? `The kernel event named the process "${k.comm}", but its pid is not valid in Ghostport's PID namespace (Ghostport runs in a container); it came and went between two polls.`
          : 'The kernel changed this socket outside any process (a connection accepted or refused in the network stack); no process was named.';
    // No inode to tell two such sockets apart: the kernel's timestamp of its first change does,
    // and every Ghostport reading the same event gives it the same identity (one history row).
    const id = `${socketIdentity(raw, null)}|kernel:${t.stamp}`;
    return this.#toSocket(raw, k.owner ?? named, id, side, watchedPort, new Date(k.at).toISOString(), reason);
  }

  /** True when no holder was found but one may exist among processes whose descriptors Ghostport cannot read. */
  #ownerHidden(r: RawSocket): boolean {
    return r.pid === null && (!this.#os.elevated || r.ownerHidden === true);
  }

  #unknownReason(r: RawSocket, info: ProcessInfo | null): string | undefined {
    if (info) return undefined;
    if (r.pid !== null) return `Process ${r.pid} exited before its details could be read.`;
    if (this.#ownerHidden(r)) {
      return this.#os.elevated
        ? 'Owner hidden: the socket belongs to a process whose descriptors Ghostport may not read (it runs as root without CAP_SYS_PTRACE). Run Ghostport as root with its capabilities to see it.'
        : 'Owner hidden: the socket belongs to another user. Run Ghostport as root (sudo) to see it.';
    }
    return 'No process holds this socket: its descriptor is in flight or parked in a Unix socket\'s queue (passed with SCM_RIGHTS), or its owner just exited.';
  }

  #toSocket(
    r: RawSocket,
    info: ProcessInfo | null,
    id: string | null,
    side: 'local' | 'remote',
    watchedPort: number,
    now: string,
    ownerUnknownReason: string | undefined,
  ): PortSocket {
    return {
      id: id ?? socketIdentity(r, info?.startedAt ?? null),
      protocol: r.protocol,
      family: r.family,
      localAddress: r.localAddress,
      localPort: r.localPort,
      remoteAddress: r.remoteAddress,
      remotePort: r.remotePort,
      state: r.state,
      pid: r.pid,
      process: info,
      ...(ownerUnknownReason ? { ownerUnknownReason } : {}),
      watchedPort,
      side,
      inode: r.inode,
      ...(r.netns ? { netns: r.netns } : {}),
      firstSeenAt: now,
    };
  }

  #isoNow(): string {
    return new Date(this.#os.clock.now()).toISOString();
  }

  #emitStatus(): void {
    this.statuses.emit(this.status);
  }
}

function uniqueRows(rows: readonly RawSocket[]): RawSocket[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = `${endpointKey(r)}|${r.state}|${r.inode ?? ''}|${r.pids.join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Which side of the socket is on a watched port, and which port that is (local wins). */
function watchedSide(r: RawSocket, portSet: ReadonlySet<number>): { side: 'local' | 'remote'; watchedPort: number } {
  return portSet.has(r.localPort) ? { side: 'local', watchedPort: r.localPort } : { side: 'remote', watchedPort: r.remotePort ?? r.localPort };
}

/** Stable order for display: by watched port, protocol, local endpoint, remote endpoint. */
function compareSockets(a: PortSocket, b: PortSocket): number {
  return (
    a.watchedPort - b.watchedPort ||
    a.protocol.localeCompare(b.protocol) ||
    a.family - b.family ||
    a.localAddress.localeCompare(b.localAddress) ||
    a.localPort - b.localPort ||
    (a.remoteAddress ?? '').localeCompare(b.remoteAddress ?? '') ||
    (a.remotePort ?? 0) - (b.remotePort ?? 0)
  );
}

/**
 * The engine as the tray app sees it when `ghostport serve` runs: the service's snapshot and
 * events over its socket, with the engine's interface (snapshot, status, onScan, onStatus), so
 * the app service, tray, notifier and window work unchanged. Events are recorded in the app's own
 * history as they arrive, as the local engine's are. When the service goes away the view turns
 * blind (never "clear") and reconnects; on return it first replays what the service recorded
 * meanwhile (each event once, by its sequence number), so nothing is lost and nothing false
 * appears or disappears. Read-only: pause, resume, ports and interval belong to the service.
 */
import type { EngineStatus, HealthIssue, PortEvent, PortSocket, Snapshot } from '#common/model.ts';
import type { EventSink, ScanListener } from '#node/engine.ts';
import { Listeners } from '#common/listeners.ts';
import { ServiceClient, ServiceError } from './client.ts';

/** How to follow a service. */
export interface RemoteEngineOptions {
  readonly client: ServiceClient;
  /** Where arriving events are recorded (the tray app's history), or null. */
  readonly history: EventSink | null;
  /** Longest wait between reconnection attempts (default 10 s). */
  readonly maxBackoffMs?: number;
}

/** The service's engine, followed over its socket. */
export class RemoteEngine {
  readonly #socketPath: string;
  readonly #history: EventSink | null;
  readonly #maxBackoffMs: number;
  readonly #scanListeners = new Listeners<Parameters<ScanListener>>('scan listener');
  readonly #statusListeners = new Listeners<[EngineStatus]>('status listener');
  #client: ServiceClient | null;
  #snapshot: Snapshot | null = null;
  #status: EngineStatus = { running: false, paused: false, intervalMs: 0, ports: [], lastScanAt: null, nextScanAt: null, consecutiveFailures: 0, lastError: null };
  #lastSeq: number | null = null;
  #lastAt: string | null = null;
  #stop = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(options: RemoteEngineOptions) {
    this.#client = options.client;
    this.#socketPath = options.client.socketPath;
    this.#history = options.history;
    this.#maxBackoffMs = options.maxBackoffMs ?? 10_000;
  }

  /** The latest snapshot: the service's, kept current by its events; blind while it is away. */
  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  /** The service's loop state, with the connection's failures in it. */
  get status(): EngineStatus {
    return this.#status;
  }

  /** Subscribes to changes (each batch of events, each health change); returns the unsubscribe. */
  onScan(listener: ScanListener): () => void {
    return this.#scanListeners.add(listener);
  }

  /** Subscribes to status changes; returns the unsubscribe. */
  onStatus(listener: (status: EngineStatus) => void): () => void {
    return this.#statusListeners.add(listener);
  }

  /** Starts following the stream. */
  start(): void {
    this.#loop ??= this.#follow();
  }

  /** Stops following and waits for the stream to close. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  /** The service scans on its own schedule: its latest snapshot. */
  async scanNow(): Promise<Snapshot> {
    if (this.#snapshot) return this.#snapshot;
    throw new Error('the Ghostport service has not answered yet');
  }

  /** Pausing is the service's decision (its unit), not a reader's. */
  pause(): void {}

  /** See `pause`. */
  resume(): void {}

  /** The service watches the ports in its own settings. */
  setPorts(_ports: readonly number[]): void {}

  /** The service polls at its own interval. */
  setIntervalMs(_intervalMs: number): void {}

  async #follow(): Promise<void> {
    const signal = this.#stop.signal;
    for (let delay = 250; !signal.aborted; ) {
      try {
        this.#client ??= await ServiceClient.connect(this.#socketPath);
        for await (const line of this.#client.events(signal)) {
          if (line.type === 'hello') {
            delay = 250;
            await this.#resume(this.#client, line.snapshot, line.status);
          } else if (line.type === 'event') this.#apply([line.event], this.#snapshot);
          else if (line.type === 'health' && this.#snapshot) this.#apply([], { ...this.#snapshot, health: line.health, issues: line.issues, scannedAt: new Date().toISOString() });
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#client = null;
        this.#lost(error instanceof ServiceError ? error.message : String(error));
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.#maxBackoffMs);
      }
    }
    this.#setStatus({ ...this.#status, running: false });
  }

  /** (Re)connected: replay what was recorded while away, then take the service's snapshot as it is now. */
  async #resume(client: ServiceClient, snapshot: Snapshot | null, status: EngineStatus): Promise<void> {
    const missed: PortEvent[] = [];
    if (this.#lastAt !== null) for await (const event of client.history({ since: this.#lastAt })) missed.push(event);
    this.#setStatus({ ...status, consecutiveFailures: 0, lastError: null });
    this.#apply(missed, snapshot);
  }

  #lost(reason: string): void {
    const issue: HealthIssue = {
      code: 'scan-failed',
      message: `Lost the Ghostport service: ${reason}`,
      hint: 'Reconnecting automatically; until then nothing on the port is seen. Check it with: systemctl status ghostport',
    };
    const ports = this.#snapshot?.ports ?? this.#status.ports;
    this.#setStatus({ ...this.#status, consecutiveFailures: this.#status.consecutiveFailures + 1, lastError: issue.message });
    this.#emit({ scannedAt: new Date().toISOString(), ports, sockets: [], lingering: [], health: 'blind', issues: [issue], durationMs: 0 }, []);
  }

  /**
   * Applies the service's events (each once, in order) to `base`, records and announces them.
   * Events no later than `base.scannedAt` are already in it (a hello's snapshot after a replay).
   */
  #apply(events: readonly PortEvent[], base: Snapshot | null): void {
    const fresh = events.filter((e) => this.#lastSeq === null || e.seq > this.#lastSeq);
    let sockets: readonly PortSocket[] = base?.sockets ?? [];
    for (const event of fresh) {
      if (base !== this.#snapshot && base !== null && event.at <= base.scannedAt) continue;
      sockets = event.type === 'appeared' ? [...sockets.filter((s) => s.id !== event.socket.id), event.socket] : sockets.filter((s) => s.id !== event.socket.id);
    }
    const last = fresh.at(-1);
    if (last) {
      this.#lastSeq = last.seq;
      this.#lastAt = last.at;
    }
    const recorded = fresh.length > 0 && this.#history ? this.#history.record(fresh.map(({ seq: _seq, ...rest }) => rest)) : fresh;
    if (!base) return;
    this.#emit({ ...base, sockets }, recorded);
  }

  #emit(snapshot: Snapshot, events: readonly PortEvent[]): void {
    this.#snapshot = snapshot;
    this.#scanListeners.emit(snapshot, events);
  }

  #setStatus(status: EngineStatus): void {
    this.#status = status;
    this.#statusListeners.emit(status);
  }
}

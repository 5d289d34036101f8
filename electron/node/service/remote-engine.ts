/**
 * The engine as the tray app sees it when `ghostport serve` runs: the service's snapshot and
 * events over one connection to its socket, with the engine's interface (snapshot, status,
 * onScan, onStatus), so the app service, tray, notifier and window work unchanged. Events are
 * recorded in the given history before they are announced, as the local engine's are. When the
 * connection ends the view turns blind (never "clear") and `lost` resolves: what comes next
 * (a local engine, the service again) is EngineSwitch's decision. Read-only: pause, resume,
 * ports and interval belong to the service.
 */
import type { EngineStatus, HealthIssue, PortEvent, PortSocket, Snapshot } from '#common/model.ts';
import type { EventSink } from '#node/engine.ts';
import { errorMessage } from '#common/error-message.ts';
import { EngineFeed } from '#common/listeners.ts';
import { completeProcess, type LateEvidence } from '#common/late-evidence.ts';
import type { ServiceClient } from './client.ts';

/** The status of an engine that has not started. */
export const NOT_STARTED: EngineStatus = { running: false, paused: false, intervalMs: 0, ports: [], lastScanAt: null, nextScanAt: null, consecutiveFailures: 0, lastError: null };

/** How to follow a service. */
export interface RemoteEngineOptions {
  readonly client: ServiceClient;
  /** Where arriving events are recorded (the tray app's history), or null. */
  readonly history: EventSink | null;
}

/** The service's engine, followed over one connection to its socket. */
export class RemoteEngine extends EngineFeed {
  readonly #client: ServiceClient;
  readonly #history: EventSink | null;
  #snapshot: Snapshot | null = null;
  #status = NOT_STARTED;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #resolveLost: (reason: string) => void = () => undefined;
  /** Resolves with the reason when the connection ends by itself (not by `stop`). */
  readonly lost = new Promise<string>((resolve) => (this.#resolveLost = resolve));

  constructor(options: RemoteEngineOptions) {
    super();
    this.#client = options.client;
    this.#history = options.history;
  }

  /** The latest snapshot: the service's, kept current by its events; blind once it is lost. */
  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  /** The service's loop state, with the connection's failure in it. */
  get status(): EngineStatus {
    return this.#status;
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
    try {
      for await (const line of this.#client.events(this.#stop.signal)) {
        if (line.type === 'hello') {
          this.#setStatus({ ...line.status, consecutiveFailures: 0, lastError: null });
          if (line.snapshot) this.#emit(line.snapshot, []);
        } else if (line.type === 'event') this.#apply(line.event);
        else if (line.type === 'completed') this.#complete(line.evidence);
        else if (line.type === 'health' && this.#snapshot) this.#emit({ ...this.#snapshot, health: line.health, issues: line.issues, scannedAt: new Date().toISOString() }, []);
      }
    } catch (error) {
      if (!this.#stop.signal.aborted) this.#lose(errorMessage(error));
    }
    this.#setStatus({ ...this.#status, running: false });
  }

  #lose(reason: string): void {
    const issue: HealthIssue = {
      code: 'scan-failed',
      message: `Lost the Ghostport service: ${reason}`,
      hint: 'Until Ghostport sees again, nothing on the port is seen. Check the service with: systemctl status ghostport',
    };
    const ports = this.#snapshot?.ports ?? this.#status.ports;
    this.#setStatus({ ...this.#status, consecutiveFailures: 1, lastError: issue.message });
    this.#emit({ scannedAt: new Date().toISOString(), ports, sockets: [], lingering: [], health: 'blind', issues: [issue], durationMs: 0 }, []);
    this.#resolveLost(reason);
  }

  /** Applies one of the service's events to the snapshot, records and announces it. */
  #apply(event: PortEvent): void {
    const { seq: _seq, ...rest } = event;
    const recorded = this.#history ? this.#history.record([rest]) : [event];
    const base = this.#snapshot;
    if (!base) return;
    const others = base.sockets.filter((s) => s.id !== event.socket.id);
    // appeared and owner-changed carry the socket as it is now; disappeared removes it.
    this.#emit({ ...base, sockets: event.type === 'disappeared' ? others : [...others, event.socket] }, recorded);
  }

  /** Completes this side's recorded copies of the events of a process, and the snapshot's sockets, with the service's late evidence. */
  #complete(late: LateEvidence): void {
    this.#history?.completeEvidence?.(late);
    const base = this.#snapshot;
    if (base?.sockets.some((s) => completeProcess(s.process, late))) {
      this.#emit({ ...base, sockets: base.sockets.map((s) => ({ ...s, process: completeProcess(s.process, late) ?? s.process })) }, []);
    }
    this.completions.emit(late);
  }

  #emit(snapshot: Snapshot, events: readonly PortEvent[]): void {
    this.#snapshot = snapshot;
    this.scans.emit(snapshot, events);
  }

  #setStatus(status: EngineStatus): void {
    this.#status = status;
    this.statuses.emit(status);
  }
}

import type { EngineStatus, PortEvent, Snapshot } from './model.ts';
import type { LateEvidence } from './late-evidence.ts';

/**
 * A set of subscribers (`onX(listener)` returns the unsubscribe) and the one way to call them:
 * each in turn, a listener that throws is logged with what it listens to and the rest still run.
 */
export class Listeners<A extends readonly unknown[]> {
  readonly #listeners = new Set<(...args: A) => void>();
  readonly #what: string;

  /** `what` names the listeners in the log ("scan listener"). */
  constructor(what: string) {
    this.#what = what;
  }

  /** How many are subscribed. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Subscribes; returns the unsubscribe function. */
  add(listener: (...args: A) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Calls every listener with `args`. */
  emit(...args: A): void {
    for (const listener of this.#listeners) {
      try {
        listener(...args);
      } catch (error) {
        console.error(`ghostport: a ${this.#what} failed`, error);
      }
    }
  }

  /** Unsubscribes everyone. */
  clear(): void {
    this.#listeners.clear();
  }
}

/** Listener of completed scans: the snapshot and that scan's events, already recorded. */
export type ScanListener = (snapshot: Snapshot, events: readonly PortEvent[]) => void;

/** What every engine (local, the service's, the tray's switch) lets others follow: its scans and its status. */
export abstract class EngineFeed {
  protected readonly scans = new Listeners<Parameters<ScanListener>>('scan listener');
  protected readonly statuses = new Listeners<[EngineStatus]>('status listener');
  protected readonly completions = new Listeners<[LateEvidence]>('evidence listener');

  /** Subscribes to completed scans; returns the unsubscribe function. */
  onScan(listener: ScanListener): () => void {
    return this.scans.add(listener);
  }

  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: EngineStatus) => void): () => void {
    return this.statuses.add(listener);
  }

  /** Subscribes to evidence that finished after detection and completed recorded events or the snapshot (no new events); returns the unsubscribe function. */
  onEvidenceCompleted(listener: (late: LateEvidence) => void): () => void {
    return this.completions.add(listener);
  }
}

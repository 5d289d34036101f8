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

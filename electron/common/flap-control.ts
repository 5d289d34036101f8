/**
 * Flap control, part of the engine's event contract:
 *
 * - The engine emits at most one event per socket identity per scan, and delivers each scan's
 *   events together as one batch (so ten new sockets are one batch, never ten wake-ups).
 * - Transitions are counted per *endpoint*, and a listener, its accepted connections and
 *   outbound connections are three kinds of endpoint: protocol, role, watched port, the address
 *   on the watched side (the remote one for outbound) and the program name. So one program's
 *   churn never marks another program's event (a new listener is not "flapping" because another
 *   program kept binding the port), and a busy server's connections do not mark its listener.
 *   A program relaunched on every attempt still counts as one endpoint (the name, not the pid);
 *   a socket whose owner one scan could not see (born while ss was reading the owners) counts
 *   for the program last seen on that endpoint, so that blip neither resets nor escapes the count.
 * - When an endpoint has more than `threshold` transitions within `windowMs`, its further
 *   events are marked `flapping: true` until it has been quiet for `windowMs`. Flapping events
 *   are still recorded in the history (nothing is lost) but must not be notified one by one:
 *   notifiers show at most one "is flapping" summary.
 * - Memory is bounded: at most `maxEndpoints` endpoints are tracked, the least recently
 *   active forgotten first.
 */
import type { PortSocket } from './model.ts';

/** Tuning of the flap control. */
export interface FlapOptions {
  readonly threshold: number;
  readonly windowMs: number;
  readonly maxEndpoints: number;
}

/** Defaults: more than 4 changes in a minute is flapping. */
export const DEFAULT_FLAP_OPTIONS: FlapOptions = { threshold: 4, windowMs: 60_000, maxEndpoints: 10_000 };

/** Where a socket sits, before the program is known: protocol, role, watched port, address on the watched side. */
function endpointOf(s: PortSocket): string {
  const role = s.side === 'remote' ? 'outbound' : s.remoteAddress === null ? 'listener' : 'accepted';
  return [s.protocol, role, s.watchedPort, s.side === 'remote' ? (s.remoteAddress ?? '*') : s.localAddress].join('|');
}

/** The endpoint a socket's transitions are counted under (program `?` when its owner is unknown). */
export function flapKey(s: PortSocket, program = s.process?.name ?? '?'): string {
  return `${endpointOf(s)}|${program}`;
}

/** Counts transitions per endpoint and says whether an endpoint is flapping. */
export class FlapTracker {
  readonly #options: FlapOptions;
  readonly #history = new Map<string, number[]>();
  /** The program last seen on each endpoint, for sockets whose owner a scan missed. */
  readonly #lastProgram = new Map<string, string>();

  constructor(options: FlapOptions = DEFAULT_FLAP_OPTIONS) {
    this.#options = options;
  }

  /** Records one transition of the socket's endpoint at `nowMs` and says whether it is flapping. */
  recordTransition(socket: PortSocket, nowMs: number): boolean {
    const endpoint = endpointOf(socket);
    const name = socket.process?.name;
    if (name !== undefined) this.#lastProgram.delete(endpoint);
    if (name !== undefined) this.#lastProgram.set(endpoint, name);
    const key = flapKey(socket, name ?? this.#lastProgram.get(endpoint) ?? '?');
    const since = nowMs - this.#options.windowMs;
    const times = (this.#history.get(key) ?? []).filter((t) => t > since);
    times.push(nowMs);
    // Re-insert so the Map's order is least recently active first.
    this.#history.delete(key);
    this.#history.set(key, times.slice(-(this.#options.threshold + 1)));
    this.#evict();
    return times.length > this.#options.threshold;
  }

  /** How many endpoints are tracked (for tests of the memory bound). */
  get size(): number {
    return this.#history.size;
  }

  #evict(): void {
    for (const map of [this.#history, this.#lastProgram]) {
      while (map.size > this.#options.maxEndpoints) {
        const oldest = map.keys().next().value;
        if (oldest === undefined) break;
        map.delete(oldest);
      }
    }
  }
}

/**
 * A kernel source whose helper died (the tracefs reader, the eBPF helper), or that failed to start
 * where it should have worked (a fault: tracefs not mountable yet, the BPF programs not loadable
 * yet), is started again, so a long-running `serve` does not stay half-blind: after 1 s, then
 * doubling to at most a minute while it keeps failing (a helper that can never start again costs
 * one try a minute, never a busy loop); a run that lasted a minute earns a fresh 1 s. While it is
 * down its condition says why and when the next try is; the restarts of helpers that died are
 * counted. Once it runs, it delivers an empty batch, and its status says what it covers.
 */
import { failedStart, type KernelEventCondition, type KernelEventSource, type KernelEventStatus, type KernelTransition } from './kernel-events.ts';

/** The backoff: first wait and longest wait (tests shorten them). */
export interface RestartOptions {
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** The source, started again with backoff whenever its condition reports a failure or its start a fault. */
export function restartOnFailure(source: KernelEventSource, options: RestartOptions = {}): KernelEventSource {
  const first = options.firstDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 60_000;
  let ports: readonly number[] = [];
  let deliver: ((batch: readonly KernelTransition[]) => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let delay = first;
  let upSince = 0;
  let restarts = 0;
  let failedTries = 0;
  // Why it is down while a restart is pending (null: running).
  let down: string | null = null;
  // Counts of the runs before this one: each start of the source counts from zero again.
  let before = { lost: 0, coalesced: 0 };
  // What the last try gave (null: not started); a source that died stays active while it is down.
  let current: KernelEventStatus | null = null;
  // A stop ends the restarts in flight.
  let generation = 0;

  const inner = (): KernelEventCondition => source.condition?.() ?? { lost: 0, coalesced: 0, failure: null };

  const schedule = (why: string) => {
    const wait = delay;
    delay = Math.min(delay * 2, max);
    down = `${why}; Ghostport starts it again in ${wait >= 1000 ? `${Math.round(wait / 1000)} s` : `${wait} ms`}${failedTries > 0 ? ` (${failedTries} ${failedTries === 1 ? 'try' : 'tries'} failed so far)` : ''}`;
    timer = setTimeout(() => void restart(), wait);
    timer.unref();
  };

  // One try to start the source: the first, or again after it died or failed to start.
  const tryStart = async (): Promise<KernelEventStatus> => {
    const mine = generation;
    const status = await source.start(ports, onBatch).catch(failedStart);
    if (mine !== generation) {
      if (status.active) await source.stop();
      return status;
    }
    const wasUp = current?.active === true;
    if (status.active) {
      if (wasUp) restarts++;
      failedTries = 0;
      down = null;
      upSince = Date.now();
      current = status;
      // Died again before this ran: its empty batch found a restart still pending.
      const failure = inner().failure;
      if (failure !== null) schedule(failure);
    } else if (wasUp || status.fault) {
      // A fault can pass (tracefs not mountable yet, the BPF programs not loadable yet); a gap
      // that is no fault (not root, a PID namespace of its own, no helper built) cannot.
      failedTries++;
      if (!wasUp) current = status;
      schedule(wasUp ? `it could not be started again (${status.reason})` : status.reason);
    } else current = status;
    return status;
  };

  const restart = async () => {
    timer = null;
    const mine = generation;
    const last = inner();
    before = { lost: before.lost + last.lost, coalesced: before.coalesced + last.coalesced };
    // Whatever the dead helper left (a tracefs instance) goes first.
    await source.stop().catch(() => undefined);
    if (mine !== generation) return;
    await tryStart();
    deliver?.([]);
  };

  const onBatch = (batch: readonly KernelTransition[]) => {
    const failure = inner().failure;
    if (failure !== null && down === null && timer === null) {
      if (Date.now() - upSince >= max) delay = first;
      schedule(failure);
    }
    deliver?.(batch);
  };

  return {
    async start(watched, onEvents) {
      ports = watched;
      deliver = onEvents;
      delay = first;
      failedTries = 0;
      return tryStart();
    },
    setPorts(watched) {
      ports = watched;
      if (down === null) source.setPorts(watched);
    },
    async stop() {
      generation++;
      if (timer) clearTimeout(timer);
      timer = null;
      down = null;
      deliver = null;
      current = null;
      await source.stop();
    },
    condition() {
      const now = inner();
      return { lost: before.lost + now.lost, coalesced: before.coalesced + now.coalesced, failure: down ?? now.failure, restarts };
    },
    // While a source that never ran is tried again, its reason says when the next try is.
    status: () => (current === null || current.active || down === null ? current : { ...current, reason: down }),
  };
}

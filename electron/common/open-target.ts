/**
 * What a click on a notification or a tray item opens: the process details of the socket's
 * owner when it is known, otherwise the event itself. Pure.
 */
import type { OpenTarget, ProcessRef } from './ipc-contract.ts';
import type { PortEvent, PortSocket, ProcessInfo } from './model.ts';

/** The identity of a captured process (pid plus start time), or null when no owner is known. */
export function processRefOf(process: ProcessInfo | null): ProcessRef | null {
  return process ? { pid: process.pid, startedAt: process.startedAt } : null;
}

/** What clicking a notification about one event opens. */
export function openTargetForEvent(event: PortEvent): OpenTarget {
  const process = processRefOf(event.socket.process);
  return {
    kind: process ? 'process' : 'event',
    process,
    // seq 0 means "not persisted": there is no history row to open.
    seq: event.seq > 0 ? event.seq : null,
    socketId: event.socket.id,
  };
}

/** What clicking a live socket (e.g. in the tray menu) opens. */
export function openTargetForSocket(socket: PortSocket): OpenTarget {
  const process = processRefOf(socket.process);
  return { kind: process ? 'process' : 'event', process, seq: null, socketId: socket.id };
}

/**
 * What a notification about several events opens: the shared process when every event has the
 * same owner, otherwise the newest event (the window lists the rest beside it).
 */
export function openTargetForEvents(events: readonly PortEvent[]): OpenTarget | null {
  const last = events.at(-1);
  if (!last) return null;
  const first = processRefOf(events[0]?.socket.process ?? null);
  const sameOwner = first !== null && events.every((e) => sameProcessRef(processRefOf(e.socket.process), first));
  if (sameOwner) return { ...openTargetForEvent(last), kind: 'process', process: first };
  return { ...openTargetForEvent(last), kind: 'event' };
}

/** True when two references name the same process (same pid and same start time). */
export function sameProcessRef(a: ProcessRef | null, b: ProcessRef | null): boolean {
  return a !== null && b !== null && a.pid === b.pid && a.startedAt === b.startedAt;
}

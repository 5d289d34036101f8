/**
 * Which desktop notifications a batch of port events deserves, and their text. Pure: a
 * `(state, events, now) -> (state, notifications)` function, so coalescing and rate limits
 * are testable without a clock or a notification daemon.
 *
 * Rules, in order:
 * 1. Nothing when notifications are off; only the event types the user chose.
 * 2. Allowlisted programs are silent (their events are still in the history).
 * 3. One batch (one scan) gives at most one notification for its ordinary events: ten new
 *    sockets at once are one notification that says "10 new sockets".
 * 4. Flapping events are never notified one by one: each flapping endpoint gets one
 *    "keeps coming and going" notification, then silence for `flapCooldownMs`.
 * 5. At most `maxPerWindow` notifications per `windowMs`. What the limit holds back is counted
 *    and announced in one summary when the window allows (`retryAt` says when to ask again).
 */
import { isSocketAllowed } from './allowlist.ts';
import { describeEndpoint, describeOwner, describeOwnerShort, describePorts, describeWhere, displayText, isListening, whyItMatters } from './display-text.ts';
import { evidenceHeadline } from './evidence-text.ts';
import { flapKey } from './flap-control.ts';
import type { OpenTarget } from './ipc-contract.ts';
import { DEFAULT_PORT } from './model.ts';
import type { PortEvent } from './model.ts';
import { openTargetForEvent, openTargetForEvents } from './open-target.ts';
import type { Settings } from './settings.ts';

/** Tuning of coalescing and rate limits. */
export interface NotificationLimits {
  /** Most notifications shown per window. */
  readonly maxPerWindow: number;
  readonly windowMs: number;
  /** Silence after a "keeps coming and going" notification for the same endpoint. */
  readonly flapCooldownMs: number;
  /** How many owners a coalesced notification names before "and N more". */
  readonly maxNamed: number;
  /** How many held-back events are remembered to describe in the summary (the count is exact). */
  readonly maxHeldBack: number;
}

/** Defaults: 3 notifications a minute; a flapping endpoint at most every 10 minutes. */
export const DEFAULT_NOTIFICATION_LIMITS: NotificationLimits = {
  maxPerWindow: 3,
  windowMs: 60_000,
  flapCooldownMs: 600_000,
  maxNamed: 3,
  maxHeldBack: 20,
};

/** What the policy remembers between batches. */
export interface NotifierState {
  /** When recent notifications were shown (ms), within the rate window. */
  readonly shownAt: readonly number[];
  /** Events held back by the rate limit, newest last (at most `maxHeldBack`). */
  readonly heldBack: readonly PortEvent[];
  /** Exact number of events held back. */
  readonly heldBackCount: number;
  /** When each flapping endpoint was last announced (ms). */
  readonly flapAnnouncedAt: Readonly<Record<string, number>>;
}

/** A fresh notifier. */
export const INITIAL_NOTIFIER_STATE: NotifierState = { shownAt: [], heldBack: [], heldBackCount: 0, flapAnnouncedAt: {} };

/** One notification to show. */
export interface NotificationSpec {
  readonly title: string;
  readonly body: string;
  /** What clicking it opens. */
  readonly target: OpenTarget | null;
  /** How many events it stands for. */
  readonly eventCount: number;
  /** Why it exists, for logs and tests. */
  readonly kind: 'single' | 'coalesced' | 'flapping' | 'held-back';
}

/** The policy's answer for one batch. */
export interface NotificationPlan {
  readonly state: NotifierState;
  readonly notifications: readonly NotificationSpec[];
  /** When to call again with an empty batch to announce held-back events (ms), or null. */
  readonly retryAt: number | null;
}

/** What the policy needs besides the events. */
export interface NotificationContext {
  readonly settings: Pick<Settings, 'notifications' | 'allowlist'>;
  readonly now: number;
  readonly limits?: NotificationLimits;
  /** `process.platform`: decides the allowlist's path case rule. */
  readonly platform: string;
}

/** Decides the notifications for one batch of events (pass an empty batch at `retryAt`). */
export function planNotifications(state: NotifierState, events: readonly PortEvent[], context: NotificationContext): NotificationPlan {
  const limits = context.limits ?? DEFAULT_NOTIFICATION_LIMITS;
  const { now } = context;
  const prefs = context.settings.notifications;
  const recent = state.shownAt.filter((t) => t > now - limits.windowMs);
  if (!prefs.enabled) {
    // Turning notifications off also forgets what was held back: nobody wants a summary later.
    return { state: { ...state, shownAt: recent, heldBack: [], heldBackCount: 0 }, notifications: [], retryAt: null };
  }

  const wanted = events.filter(
    (e) =>
      // A socket that changed hands is news like one that appeared: someone new holds it.
      (e.type === 'disappeared' ? prefs.onDisappeared : prefs.onAppeared) &&
      !isSocketAllowed(context.settings.allowlist, e.socket, context.platform),
  );
  const ordinary = wanted.filter((e) => !e.flapping);
  const flapAnnouncedAt = { ...state.flapAnnouncedAt };
  for (const [key, at] of Object.entries(flapAnnouncedAt)) {
    if (at <= now - limits.flapCooldownMs) delete flapAnnouncedAt[key];
  }
  const flapGroups = groupFlapping(wanted.filter((e) => e.flapping), flapAnnouncedAt);

  const slots = Math.max(0, limits.maxPerWindow - recent.length);
  const pending = [...state.heldBack, ...ordinary];
  const pendingCount = state.heldBackCount + ordinary.length;

  if (slots === 0) {
    const retryAt = pendingCount > 0 ? Math.min(...recent) + limits.windowMs : null;
    return {
      state: {
        shownAt: recent,
        heldBack: pending.slice(-limits.maxHeldBack),
        heldBackCount: pendingCount,
        // Flapping endpoints stay unannounced, so the next flapping event may announce them.
        flapAnnouncedAt,
      },
      notifications: [],
      retryAt,
    };
  }

  const notes: NotificationSpec[] = [];
  if (pendingCount > 0) {
    notes.push(
      state.heldBackCount > 0 && ordinary.length === 0
        ? heldBackNotification(pending, pendingCount, limits)
        : eventsNotification(pending, pendingCount, limits),
    );
  }
  for (const group of flapGroups) notes.push(flappingNotification(group, limits));

  const shown = notes.length > slots ? [mergeNotifications(notes, pending, flapGroups, limits)] : notes;
  for (const group of flapGroups) flapAnnouncedAt[flapKey(group[0]!.socket)] = now;
  return {
    state: {
      shownAt: [...recent, ...shown.map(() => now)],
      heldBack: [],
      heldBackCount: 0,
      flapAnnouncedAt,
    },
    notifications: shown,
    retryAt: null,
  };
}

function groupFlapping(events: readonly PortEvent[], announced: Readonly<Record<string, number>>): PortEvent[][] {
  const groups = new Map<string, PortEvent[]>();
  for (const event of events) {
    const key = flapKey(event.socket);
    if (announced[key] !== undefined) continue;
    const group = groups.get(key);
    if (group) group.push(event);
    else groups.set(key, [event]);
  }
  return [...groups.values()];
}

function eventsNotification(events: readonly PortEvent[], count: number, limits: NotificationLimits): NotificationSpec {
  const only = events[0];
  if (count === 1 && only) return singleNotification(only);
  const ports = distinctPorts(events);
  const allAppeared = events.every((e) => e.type === 'appeared');
  const allGone = events.every((e) => e.type === 'disappeared');
  const what = allAppeared ? 'new sockets' : allGone ? 'sockets closed' : 'changes';
  const title = `${count} ${what} on ${describePorts(ports)}`;
  const body = `${nameOwners(events, limits)}.${allGone ? '' : ` ${whyForPorts(ports)}`}`;
  return { title, body, target: openTargetForEvents(events), eventCount: count, kind: 'coalesced' };
}

function singleNotification(event: PortEvent): NotificationSpec {
  const { socket } = event;
  const port = socket.watchedPort;
  const owner = describeOwner(socket);
  const target = openTargetForEvent(event);
  if (event.type === 'disappeared') {
    const title = isListening(socket) ? `Port ${port} is free again` : `Connection on port ${port} closed`;
    return { title, body: `${owner} · ${describeEndpoint(socket)}`, target, eventCount: 1, kind: 'single' };
  }
  if (event.type === 'owner-changed') {
    const before = event.previous ? `${displayText(event.previous.name, 64)} (pid ${event.previous.pid})` : 'no process';
    return { title: `A socket on port ${port} changed hands`, body: `${before} → ${owner}\n${describeEndpoint(socket)}`, target, eventCount: 1, kind: 'single' };
  }
  const title = socket.state === 'BOUND'
    ? `Something holds port ${port} (bound, not listening yet)`
    : isListening(socket)
    ? `Something is listening on port ${port}`
    : socket.side === 'remote'
      ? `Outgoing connection to port ${port}`
      : `Connection on port ${port}`;
  // The one line that matters most first (who, its warnings, where from), then the endpoint and why.
  const body = `${evidenceHeadline(socket)}\n${describeEndpoint(socket)}. ${whyItMatters(port)}`;
  return { title, body, target, eventCount: 1, kind: 'single' };
}

function flappingNotification(group: readonly PortEvent[], limits: NotificationLimits): NotificationSpec {
  const first = group[0]!;
  const port = first.socket.watchedPort;
  return {
    title: `Something keeps coming and going on port ${port}`,
    body:
      `${nameOwners(group, limits)} opened and closed port ${port} repeatedly. ` +
      'Further changes are recorded in the history without notifications.',
    target: openTargetForEvents(group),
    eventCount: group.length,
    kind: 'flapping',
  };
}

function heldBackNotification(events: readonly PortEvent[], count: number, limits: NotificationLimits): NotificationSpec {
  const ports = distinctPorts(events);
  return {
    title: `${count} more ${count === 1 ? 'change' : 'changes'} on ${describePorts(ports)}`,
    body: `${nameOwners(events, limits)}. Held back to avoid a flood of notifications; all are in the history.`,
    target: openTargetForEvents(events),
    eventCount: count,
    kind: 'held-back',
  };
}

function mergeNotifications(
  notes: readonly NotificationSpec[],
  pending: readonly PortEvent[],
  flapGroups: readonly (readonly PortEvent[])[],
  limits: NotificationLimits,
): NotificationSpec {
  const all = [...pending, ...flapGroups.flat()];
  const count = notes.reduce((n, note) => n + note.eventCount, 0);
  const ports = distinctPorts(all);
  const flapping = flapGroups.length > 0 ? ` ${flapGroups.length === 1 ? 'One program keeps' : `${flapGroups.length} programs keep`} coming and going.` : '';
  return {
    title: `${count} changes on ${describePorts(ports)}`,
    body: `${nameOwners(all, limits)}.${flapping} ${whyForPorts(ports)}`,
    target: openTargetForEvents(pending.length > 0 ? pending : all),
    eventCount: count,
    kind: 'coalesced',
  };
}

function nameOwners(events: readonly PortEvent[], limits: NotificationLimits): string {
  const names = [...new Set(events.map((e) => `${describeOwnerShort(e.socket)}${describeWhere(e.socket)}`))];
  const named = names.slice(0, limits.maxNamed);
  const rest = names.length - named.length;
  return rest > 0 ? `${named.join(', ')} and ${rest} more` : joinAnd(named);
}

function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function distinctPorts(events: readonly PortEvent[]): number[] {
  return [...new Set(events.map((e) => e.socket.watchedPort))].sort((a, b) => a - b);
}

function whyForPorts(ports: readonly number[]): string {
  return ports.length === 1 ? whyItMatters(ports[0]!) : ports.includes(DEFAULT_PORT) ? whyItMatters(DEFAULT_PORT) : 'These ports are on your watch list.';
}

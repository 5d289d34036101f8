/**
 * The window's own state: the latest `AppState` from the main process, which view is open,
 * which process the details panel shows, and short-lived messages. A pure
 * `(state, input) => state` function; `use-app-model.ts` feeds it from the preload API.
 */
import type { PortEvent, PortSocket } from '#common/model.ts';
import type { AppState, OpenTarget, ProcessRef } from '#common/ipc-contract.ts';
import { processRefOf } from '#common/open-target.ts';
import { completeProcess, type LateEvidence } from '#common/late-evidence.ts';
import { assertNever } from './assert-never.ts';

/** The three views of the window. */
export type Tab = 'now' | 'history' | 'settings';

/** What the details panel is about: a live socket, a recorded event, or a process named by a notification. */
export type DetailsTarget =
  | { readonly kind: 'socket'; readonly socket: PortSocket }
  | { readonly kind: 'event'; readonly event: PortEvent }
  | { readonly kind: 'process'; readonly process: ProcessRef; readonly socketId: string | null; readonly seq: number | null };

/** A short message in the corner after an action. */
export interface Toast {
  readonly id: number;
  readonly tone: 'success' | 'error' | 'info';
  readonly text: string;
}

/** Everything the window keeps between renders. */
export interface AppModel {
  readonly app: AppState | null;
  /** Why the state could not be loaded (shown instead of the views). */
  readonly loadError: string | null;
  readonly tab: Tab;
  readonly details: DetailsTarget | null;
  /** Bumped whenever events are appended, so the history refreshes. */
  readonly historyRevision: number;
  /** The newest events seen while the window was open (newest first, bounded). */
  readonly recentEvents: readonly PortEvent[];
  readonly toasts: readonly Toast[];
  readonly nextToastId: number;
  /** Codes of `AppState.notices` the user dismissed this session. */
  readonly dismissedNotices: readonly string[];
  /** Names of the actions in flight, so their buttons show progress and do not double-fire. */
  readonly busy: readonly string[];
}

/** Everything that can happen to the window's state. */
export type AppInput =
  /** `initial` marks the answer to the first `getState`, which must not undo a newer push. */
  | { readonly type: 'state-loaded'; readonly state: AppState; readonly initial?: boolean }
  | { readonly type: 'state-failed'; readonly message: string }
  | { readonly type: 'events-appended'; readonly events: readonly PortEvent[] }
  /** Evidence that finished after detection: the shown events of that process complete with it. */
  | { readonly type: 'evidence-completed'; readonly evidence: LateEvidence }
  | { readonly type: 'open-target'; readonly target: OpenTarget }
  | { readonly type: 'show-tab'; readonly tab: Tab }
  | { readonly type: 'show-details'; readonly target: DetailsTarget }
  | { readonly type: 'close-details' }
  | { readonly type: 'toast'; readonly tone: Toast['tone']; readonly text: string }
  | { readonly type: 'dismiss-toast'; readonly id: number }
  | { readonly type: 'dismiss-notice'; readonly code: string }
  | { readonly type: 'busy'; readonly action: string; readonly busy: boolean };

/** How many recent events the window keeps in memory. */
export const RECENT_EVENTS_LIMIT = 200;
/** How many toasts can be on screen at once. */
export const TOAST_LIMIT = 3;

/** The state before anything arrived from the main process. */
export const initialAppModel: AppModel = {
  app: null,
  loadError: null,
  tab: 'now',
  details: null,
  historyRevision: 0,
  recentEvents: [],
  toasts: [],
  nextToastId: 1,
  dismissedNotices: [],
  busy: [],
};

/** Applies one input to the window's state. */
export function reduceApp(model: AppModel, input: AppInput): AppModel {
  switch (input.type) {
    case 'state-loaded':
      if (input.initial && model.app !== null) return model;
      return { ...model, app: input.state, loadError: null };
    case 'state-failed':
      return { ...model, loadError: input.message };
    case 'events-appended': {
      if (input.events.length === 0) return model;
      const newestFirst = [...input.events].reverse();
      return {
        ...model,
        historyRevision: model.historyRevision + 1,
        recentEvents: [...newestFirst, ...model.recentEvents].slice(0, RECENT_EVENTS_LIMIT),
      };
    }
    case 'evidence-completed': {
      const complete = (event: PortEvent): PortEvent => {
        const process = completeProcess(event.socket.process, input.evidence);
        return process ? { ...event, socket: { ...event.socket, process } } : event;
      };
      const details = model.details?.kind === 'event' ? { kind: 'event' as const, event: complete(model.details.event) } : model.details;
      // The history view asks again: its rows of that process are completed in the store.
      return { ...model, historyRevision: model.historyRevision + 1, recentEvents: model.recentEvents.map(complete), details };
    }
    case 'open-target':
      return { ...model, details: detailsForTarget(model, input.target) ?? model.details };
    case 'show-tab':
      return model.tab === input.tab ? model : { ...model, tab: input.tab };
    case 'show-details':
      return { ...model, details: input.target };
    case 'close-details':
      return model.details === null ? model : { ...model, details: null };
    case 'toast': {
      const toast: Toast = { id: model.nextToastId, tone: input.tone, text: input.text };
      return { ...model, toasts: [...model.toasts, toast].slice(-TOAST_LIMIT), nextToastId: model.nextToastId + 1 };
    }
    case 'dismiss-toast':
      return { ...model, toasts: model.toasts.filter((toast) => toast.id !== input.id) };
    case 'dismiss-notice':
      return model.dismissedNotices.includes(input.code) ? model : { ...model, dismissedNotices: [...model.dismissedNotices, input.code] };
    case 'busy': {
      const has = model.busy.includes(input.action);
      if (has === input.busy) return model;
      return { ...model, busy: input.busy ? [...model.busy, input.action] : model.busy.filter((a) => a !== input.action) };
    }
    default:
      return assertNever(input);
  }
}

/**
 * Resolves a notification's target to something the panel can show: the live socket when it is
 * still there, else the recorded event when the window saw it, else the bare process identity.
 */
export function detailsForTarget(model: AppModel, target: OpenTarget): DetailsTarget | null {
  const live = target.socketId ? model.app?.snapshot?.sockets.find((socket) => socket.id === target.socketId) : undefined;
  if (live) return { kind: 'socket', socket: live };
  const event = target.seq !== null ? model.recentEvents.find((e) => e.seq === target.seq && e.seq !== 0) : undefined;
  if (event) return { kind: 'event', event };
  if (target.process) return { kind: 'process', process: target.process, socketId: target.socketId, seq: target.seq };
  return null;
}

/** The process a details target is about, or null when its owner is unknown. */
export function detailsProcessRef(target: DetailsTarget): ProcessRef | null {
  switch (target.kind) {
    case 'socket':
      return processRefOf(target.socket.process);
    case 'event':
      return processRefOf(target.event.socket.process);
    case 'process':
      return target.process;
    default:
      return assertNever(target);
  }
}

/** The socket a details target is about, where there is one. */
export function socketOf(target: DetailsTarget, app: AppState | null): PortSocket | null {
  switch (target.kind) {
    case 'socket':
      return app?.snapshot?.sockets.find((socket) => socket.id === target.socket.id) ?? target.socket;
    case 'event':
      return target.event.socket;
    case 'process':
      return target.socketId ? (app?.snapshot?.sockets.find((socket) => socket.id === target.socketId) ?? null) : null;
    default:
      return assertNever(target);
  }
}


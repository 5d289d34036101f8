/**
 * Builds `window.ghostport` from the request table (electron/common/ipc-api.ts): one named
 * function per request, one `onX(listener)` per push, so the preload cannot drift from the contract. Transport-agnostic (no Electron import): the preload passes
 * ipcRenderer-backed functions, tests pass their own.
 */
import { PUSHES, REQUESTS } from '#common/ipc-api.ts';
import type { GhostportApi, OpenTarget, PushChannel, PushPayloads } from '#common/ipc-api.ts';

/** How the API talks to the main process. */
export interface ApiTransport {
  /** Sends a request and resolves with the main process's answer. */
  invoke(channel: string, args: readonly unknown[]): Promise<unknown>;
  /**
   * Listens to a push channel; the listener gets only the payload (the IPC event object, which
   * would hand the page `sender` and `ports`, never crosses the bridge). Returns the unsubscribe.
   */
  listen(channel: PushChannel, listener: (payload: unknown) => void): () => void;
}

/** Creates the object the preload exposes as `window.ghostport`. */
export function createGhostportApi(transport: ApiTransport): GhostportApi {
  const api: Record<string, unknown> = {};
  for (const [method, { channel }] of Object.entries(REQUESTS)) {
    // Only the declared arguments travel: a page cannot smuggle extra ones past the schema's arity check.
    api[method] = (...args: unknown[]) => transport.invoke(channel, args);
  }
  for (const [method, { channel }] of Object.entries(PUSHES)) {
    api[method] = channel === 'window:open-target' ? bufferedOpenTarget(transport) : subscriber(transport, channel);
  }
  return Object.freeze(api) as unknown as GhostportApi;
}

function subscriber(transport: ApiTransport, channel: PushChannel) {
  return (listener: (payload: unknown) => void): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError(`${channel}: listener must be a function`);
    return transport.listen(channel, (payload) => listener(payload));
  };
}

/**
 * A click on a notification can arrive before React has subscribed (the window was just
 * created for it), so the latest target is kept until the first listener takes it.
 */
function bufferedOpenTarget(transport: ApiTransport) {
  let pending: OpenTarget | null = null;
  const listeners = new Set<(target: OpenTarget) => void>();
  transport.listen('window:open-target', (payload) => {
    const target = payload as PushPayloads['window:open-target'];
    if (listeners.size === 0) pending = target;
    for (const listener of listeners) listener(target);
  });
  return (listener: (target: OpenTarget) => void): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('window:open-target: listener must be a function');
    listeners.add(listener);
    if (pending) {
      const target = pending;
      pending = null;
      queueMicrotask(() => listener(target));
    }
    return () => {
      listeners.delete(listener);
    };
  };
}

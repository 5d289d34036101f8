/**
 * The window's API over HTTP, for the page that `ghostport ui` serves where no Electron can run:
 * the same GhostportApi as the preload's, derived from the same request and push tables. A
 * request is `POST /api/requests/<name>` with its arguments as a JSON array; the pushes arrive
 * as server-sent events named by their channel, on one EventSource opened on first subscription.
 */
import { PUSHES, REQUESTS, type GhostportApi, type Result } from '#common/ipc-api.ts';
import { errorMessage } from '#common/error-message.ts';

/** Builds the API against the page's own origin. */
export function createHttpApi(): GhostportApi {
  let source: EventSource | null = null;
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const subscribe = (channel: string, listener: (payload: unknown) => void) => {
    if (!source) source = new EventSource('/api/events');
    if (!listeners.has(channel)) {
      listeners.set(channel, new Set());
      source.addEventListener(channel, (message) => {
        const payload: unknown = JSON.parse((message as MessageEvent<string>).data);
        for (const l of listeners.get(channel) ?? []) l(payload);
      });
    }
    listeners.get(channel)!.add(listener);
    return () => void listeners.get(channel)?.delete(listener);
  };
  const request = async (name: string, args: unknown[]): Promise<Result<unknown>> => {
    try {
      const response = await fetch(`/api/requests/${name}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(args) });
      if (response.ok) return (await response.json()) as Result<unknown>;
      return { ok: false, error: { code: 'unavailable', message: (await response.text()).trim() } };
    } catch (error) {
      return { ok: false, error: { code: 'unavailable', message: `Ghostport does not answer (${errorMessage(error)}). Is ghostport ui still running?` } };
    }
  };
  const api: Record<string, unknown> = {};
  for (const name of Object.keys(REQUESTS)) api[name] = (...args: unknown[]) => request(name, args);
  for (const [name, spec] of Object.entries(PUSHES)) api[name] = (listener: (payload: unknown) => void) => subscribe(spec.channel, listener);
  return api as GhostportApi;
}

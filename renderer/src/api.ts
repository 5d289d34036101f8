/**
 * The one module that touches `window.ghostport`, the preload's API. Everything else receives
 * the API (or data and callbacks derived from it) as an argument, so views can be tested and
 * the bridge can be swapped (the browser tests install the same API over Playwright).
 */
import type { GhostportApi } from '../../electron/common/ipc-contract.ts';

/** The preload API, or null when the page was opened outside Ghostport (e.g. straight from disk). */
export function getGhostportApi(): GhostportApi | null {
  const api = (window as unknown as { readonly ghostport?: GhostportApi }).ghostport;
  return api && typeof api.getState === 'function' ? api : null;
}

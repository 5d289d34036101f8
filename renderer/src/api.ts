/**
 * The one module that touches `window.ghostport`, the preload's API. Everything else receives
 * the API (or data and callbacks derived from it) as an argument, so views can be tested and
 * the bridge can be swapped (the browser tests install the same API over Playwright).
 */
import type { GhostportApi } from '#common/ipc-contract.ts';
import { createHttpApi } from './http-api.ts';

/**
 * The API: the preload's in the desktop window; over HTTP when `ghostport ui` serves the page;
 * null when the page was opened outside Ghostport (e.g. straight from disk).
 */
export function getGhostportApi(): GhostportApi | null {
  const api = (window as unknown as { readonly ghostport?: GhostportApi }).ghostport;
  if (api && typeof api.getState === 'function') return api;
  return window.location.protocol === 'http:' ? createHttpApi() : null;
}

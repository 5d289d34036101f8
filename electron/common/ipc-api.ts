/**
 * The zod-free half of the IPC contract: which channel each `window.ghostport` method uses.
 * Split out so the sandboxed preload can import the contract itself without bundling zod;
 * electron/common/ipc-contract.ts re-exports it, and tsc checks the channels against it.
 */
import type { InvokeChannel, PushChannel } from './ipc-contract.ts';

/** Which request channel each API method calls; the preload is generated from this map. */
export const apiInvokeMethods = {
  getState: 'state:get',
  queryHistory: 'history:query',
  getTimeline: 'history:timeline',
  exportHistory: 'history:export',
  updateSettings: 'settings:set',
  scanNow: 'monitor:scan-now',
  pauseMonitoring: 'monitor:pause',
  resumeMonitoring: 'monitor:resume',
  getProcessDetails: 'process:details',
  revealExecutable: 'process:reveal',
  endProcess: 'process:end',
  addToAllowlist: 'allowlist:add',
  removeFromAllowlist: 'allowlist:remove',
} as const satisfies Record<string, InvokeChannel>;

/** Which push channel each subscription listens to. */
export const apiPushMethods = {
  onStateChanged: 'state:changed',
  onEvents: 'events:appended',
  onOpenTarget: 'window:open-target',
} as const satisfies Record<string, PushChannel>;

/** Every name on `window.ghostport`, for the security test. */
export const API_METHOD_NAMES: readonly (keyof typeof apiInvokeMethods | keyof typeof apiPushMethods)[] = [
  ...(Object.keys(apiInvokeMethods) as (keyof typeof apiInvokeMethods)[]),
  ...(Object.keys(apiPushMethods) as (keyof typeof apiPushMethods)[]),
].sort();

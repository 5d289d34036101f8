/**
 * The contract's method-to-channel maps, restated without zod so the sandboxed preload bundle
 * stays a few kilobytes (importing ipc-contract.ts drags all of zod, ~450 KB minified, into
 * every window). `satisfies typeof …` makes tsc reject any difference from the contract —
 * a missing, extra or re-routed method — so the two cannot drift.
 */
import type { apiInvokeMethods as contractInvokeMethods, apiPushMethods as contractPushMethods } from '../common/ipc-contract.ts';

/** Request methods of `window.ghostport` and their channels (identical to the contract's `apiInvokeMethods`). */
export const PRELOAD_INVOKE_METHODS = {
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
} as const satisfies typeof contractInvokeMethods;

/** Subscription methods of `window.ghostport` and their push channels (identical to `apiPushMethods`). */
export const PRELOAD_PUSH_METHODS = {
  onStateChanged: 'state:changed',
  onEvents: 'events:appended',
  onOpenTarget: 'window:open-target',
} as const satisfies typeof contractPushMethods;

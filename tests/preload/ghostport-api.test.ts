/**
 * `window.ghostport` as the preload builds it: exactly the contract's names, each request on
 * its own channel with only its arguments, subscriptions that hand over the payload alone and
 * can be undone, and a notification click that is not lost before the page subscribes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGhostportApi } from '../../electron/preload/ghostport-api.ts';
import type { ApiTransport } from '../../electron/preload/ghostport-api.ts';
import { API_METHOD_NAMES, PUSHES, REQUESTS, requestOfChannel } from '#common/ipc-api.ts';
import type { OpenTarget, PushChannel } from '#common/ipc-api.ts';

function recordingTransport() {
  const invoked: { channel: string; args: readonly unknown[] }[] = [];
  const listeners = new Map<PushChannel, Set<(payload: unknown) => void>>();
  const transport: ApiTransport = {
    async invoke(channel, args) {
      invoked.push({ channel, args });
      return { ok: true, value: channel };
    },
    listen(channel, listener) {
      const set = listeners.get(channel) ?? new Set();
      set.add(listener);
      listeners.set(channel, set);
      return () => set.delete(listener);
    },
  };
  const push = (channel: PushChannel, payload: unknown) => {
    for (const listener of listeners.get(channel) ?? []) listener(payload);
  };
  return { transport, invoked, push, listeners };
}

test('every request and push has its own channel, and each channel names its request back', () => {
  const channels = [...Object.values(REQUESTS), ...Object.values(PUSHES)].map((entry) => entry.channel);
  assert.equal(new Set(channels).size, channels.length);
  for (const [name, { channel }] of Object.entries(REQUESTS)) assert.equal(requestOfChannel(channel), name);
  for (const unknown of ['__proto__', 'constructor', 'toString', 'getState', 'state:changed', 42]) assert.equal(requestOfChannel(unknown), null, String(unknown));
});

test('window.ghostport has exactly the API names, all functions, and is frozen', () => {
  const api = createGhostportApi(recordingTransport().transport);
  assert.deepEqual(Object.keys(api).sort(), [...API_METHOD_NAMES]);
  for (const name of API_METHOD_NAMES) assert.equal(typeof api[name], 'function', name);
  assert.equal(Object.isFrozen(api), true);
  assert.equal('invoke' in api || 'send' in api || 'ipcRenderer' in api, false);
});

test('each request goes to its own channel with exactly its arguments', async () => {
  const { transport, invoked } = recordingTransport();
  const api = createGhostportApi(transport) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const [method, { channel }] of Object.entries(REQUESTS)) {
    const answer = await api[method]!({ marker: method });
    assert.deepEqual(answer, { ok: true, value: channel });
    assert.deepEqual(invoked.at(-1), { channel, args: [{ marker: method }] });
  }
  assert.equal(invoked.length, Object.keys(REQUESTS).length);
});

test('subscriptions deliver the payload only, and unsubscribe stops them', () => {
  const { transport, push } = recordingTransport();
  const api = createGhostportApi(transport);
  const seen: unknown[][] = [];
  const off = api.onEvents((...args: unknown[]) => seen.push(args));
  push('events:appended', [{ seq: 1 }]);
  assert.deepEqual(seen, [[[{ seq: 1 }]]], 'one argument: the payload');
  off();
  push('events:appended', [{ seq: 2 }]);
  assert.equal(seen.length, 1);
  const states: unknown[] = [];
  const offState = api.onStateChanged((s) => states.push(s));
  push('state:changed', { version: 'x' });
  offState();
  push('state:changed', { version: 'y' });
  assert.deepEqual(states, [{ version: 'x' }]);
  assert.throws(() => api.onEvents('not a function' as never), TypeError);
});

test('an open-target pushed before the page subscribes is delivered once to the first listener', async () => {
  const { transport, push } = recordingTransport();
  const api = createGhostportApi(transport);
  const target: OpenTarget = { kind: 'process', process: { pid: 4711, startedAt: 'x' }, seq: 3, socketId: 's' };
  push('window:open-target', target);
  const first: OpenTarget[] = [];
  const second: OpenTarget[] = [];
  api.onOpenTarget((t) => first.push(t));
  api.onOpenTarget((t) => second.push(t));
  await Promise.resolve();
  assert.deepEqual(first, [target]);
  assert.deepEqual(second, [], 'a buffered target is delivered once');
  push('window:open-target', { ...target, seq: 4 });
  assert.deepEqual([first.length, second.length], [2, 1], 'live targets reach every listener');
});

/**
 * The IPC handler path (sender check, then the real app service) against forged senders and
 * malformed arguments, on every request channel.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatchInvoke } from '#main/ipc-dispatch.ts';
import type { IpcEventLike } from '#main/ipc-dispatch.ts';
import { createAppService } from '#node/app-service.ts';
import type { AppService } from '#node/app-service.ts';
import { Engine } from '#node/engine.ts';
import { History } from '#node/history.ts';
import { SettingsStore } from '#node/settings-store.ts';
import { REQUESTS } from '#common/ipc-contract.ts';
import type { Result } from '#common/ipc-contract.ts';

const TRUSTED = new Set([7]);
const mainFrame = { url: 'ghostport://app/index.html', parent: null };
const good: IpcEventLike = { sender: { id: 7 }, senderFrame: mainFrame };

let dir: string;
let history: History;
let engine: Engine;
let service: AppService;
let calls = 0;
let counted: Pick<AppService, 'invoke'>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ghostport-ipc-'));
  history = History.open({ dataDir: dir });
  const store = await SettingsStore.open({ dataDir: dir });
  engine = new Engine({ ports: [596], intervalMs: 60_000, history });
  service = createAppService({
    engine,
    history,
    settings: store,
    hooks: {
      confirmEndProcess: async () => assert.fail('no dialog may open for a refused request'),
      revealInFolder: () => assert.fail('nothing may be revealed for a refused request'),
      chooseExportPath: async () => null,
      setStartAtLogin: async () => undefined,
      notificationsSupported: () => true,
    },
    environment: { version: '0.0.0-test' },
  });
  counted = {
    invoke: (channel, args) => {
      calls++;
      return service.invoke(channel, args);
    },
  };
});

after(async () => {
  service.dispose();
  await engine.stop();
  history.close();
  await rm(dir, { recursive: true, force: true });
});

function code(result: Result<unknown>): string {
  return result.ok ? 'ok' : result.error.code;
}

const forged: [string, IpcEventLike][] = [
  ['another web contents (e.g. a devtools or a future window)', { sender: { id: 8 }, senderFrame: mainFrame }],
  ['a subframe of the app window', { sender: { id: 7 }, senderFrame: { url: 'ghostport://app/index.html', parent: mainFrame } }],
  ['the app window navigated elsewhere', { sender: { id: 7 }, senderFrame: { url: 'https://evil.example/', parent: null } }],
  ['a file:// page', { sender: { id: 7 }, senderFrame: { url: 'file:///tmp/x.html', parent: null } }],
  ['a look-alike host', { sender: { id: 7 }, senderFrame: { url: 'ghostport://app.evil/', parent: null } }],
  ['a destroyed frame', { sender: { id: 7 }, senderFrame: null }],
];

test('a forged sender is refused on every channel before the service runs', async () => {
  for (const { channel } of Object.values(REQUESTS)) {
    for (const [what, event] of forged) {
      const result = await dispatchInvoke(counted, TRUSTED, event, channel, [{ pid: 4711, startedAt: null }]);
      assert.equal(code(result), 'forbidden-sender', `${channel} from ${what}`);
    }
  }
  assert.equal(calls, 0);
});

test('the trusted window with malformed arguments gets invalid-argument, never a throw', async () => {
  const malformed: [string, unknown][] = [
    ['process:end', [{ pid: '1 && reboot', startedAt: null }]],
    ['process:end', [{ pid: 4711 }]],
    ['process:reveal', [{ pid: 4711, startedAt: null, path: '/etc/shadow' }]],
    ['settings:set', [{ ports: 'all' }]],
    ['history:query', [{ text: 'x'.repeat(5000) }]],
    ['history:timeline', [{ since: 'yesterday', until: 'now', buckets: 10 }]],
    ['allowlist:add', [{ program: 'nc' }]],
    ['monitor:pause', [1]],
    ['no:such-channel', []],
    ['__proto__', []],
  ];
  for (const [channel, args] of malformed) {
    const result = await dispatchInvoke(counted, TRUSTED, good, channel, args);
    assert.equal(code(result), 'invalid-argument', `${channel} ${JSON.stringify(args).slice(0, 60)}`);
  }
});

test('the trusted window with valid arguments is served', async () => {
  const state = await dispatchInvoke(counted, TRUSTED, good, 'state:get', []);
  assert.equal(code(state), 'ok');
  const page = await dispatchInvoke(counted, TRUSTED, good, 'history:query', [{ limit: 5 }]);
  assert.equal(code(page), 'ok');
  assert.equal(code(await dispatchInvoke(counted, TRUSTED, good, 'monitor:pause', [])), 'ok');
  assert.equal(code(await dispatchInvoke(counted, TRUSTED, good, 'monitor:resume', [])), 'ok');
});

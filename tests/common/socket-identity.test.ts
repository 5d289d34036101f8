/** Socket identity, lingering leftovers, the snapshot diff (property-tested) and flap control. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { diffSockets, historyKey, isLingering, socketIdentity } from '#common/socket-identity.ts';
import { FlapTracker } from '#common/flap-control.ts';
import type { PortSocket } from '#common/model.ts';

const base = { protocol: 'tcp', family: 4, localAddress: '0.0.0.0', localPort: 596, remoteAddress: null, remotePort: null, pid: 10, inode: 5 } as const;

test('identity includes the owner start time: a reused pid is a new socket', () => {
  assert.notEqual(socketIdentity(base, '2026-11-27T10:00:00.000Z'), socketIdentity(base, '2026-11-27T10:05:00.000Z'));
  assert.equal(socketIdentity(base, 't'), socketIdentity({ ...base }, 't'));
  assert.notEqual(socketIdentity(base, 't'), socketIdentity({ ...base, inode: 6 }, 't'), 'a reopened socket is new');
});

test('lingering: TIME_WAIT always, closing states only when orphaned', () => {
  assert.equal(isLingering({ state: 'TIME_WAIT', inode: 123 }), true);
  assert.equal(isLingering({ state: 'FIN_WAIT2', inode: 0 }), true);
  assert.equal(isLingering({ state: 'FIN_WAIT2', inode: 99 }), false);
  assert.equal(isLingering({ state: 'LISTEN', inode: 0 }), false);
  assert.equal(isLingering({ state: 'CLOSE_WAIT', inode: null }), false);
});

function sock(id: string): PortSocket {
  return { ...base, id, state: 'LISTEN', process: null, watchedPort: 596, side: 'local', firstSeenAt: 't' };
}

test('diff: appeared = new minus old, disappeared = old minus new, for any two sets', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ maxLength: 4 })), fc.uniqueArray(fc.string({ maxLength: 4 })), (a, b) => {
      const { appeared, disappeared } = diffSockets(a.map(sock), b.map(sock));
      assert.deepEqual(appeared.map((s) => s.id).sort(), b.filter((x) => !a.includes(x)).sort());
      assert.deepEqual(disappeared.map((s) => s.id).sort(), a.filter((x) => !b.includes(x)).sort());
    }),
    { numRuns: 500 },
  );
});

test('flap control: flapping after the threshold, quiet again after the window, memory bounded', () => {
  const t = new FlapTracker({ threshold: 2, windowMs: 1000, maxEndpoints: 3 });
  const s = sock('a');
  assert.deepEqual([0, 10, 20, 30].map((ms) => t.recordTransition(s, ms)), [false, false, true, true]);
  assert.equal(t.recordTransition(s, 5000), false, 'quiet for a window resets it');
  for (let port = 1; port <= 10; port++) t.recordTransition({ ...s, localAddress: `10.0.0.${port}` }, 6000);
  assert.equal(t.size, 3);
});

test('historyKey: the kernel socket where its inode is known, whoever owns it as seen; the full identity otherwise', () => {
  const base = { protocol: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: 596, remoteAddress: null, remotePort: null } as const;
  const owned = historyKey({ ...base, id: 'tcp|4|127.0.0.1|596|*|*|42|t|77', inode: 77 });
  assert.equal(historyKey({ ...base, id: 'tcp|4|127.0.0.1|596|*|*|-|-|77', inode: 77 }), owned, 'the owner hidden');
  assert.equal(historyKey({ ...base, id: 'tcp|4|127.0.0.1|596|*|*|43|u|77', inode: 77 }), owned, 'another owner (after a change)');
  assert.notEqual(historyKey({ ...base, id: 'x', inode: 78 }), owned, 'another socket');
  assert.notEqual(historyKey({ ...base, id: 'x', inode: 77, netns: { inode: 5, host: false, label: 'ns' } }), owned, 'another namespace');
  assert.equal(historyKey({ ...base, id: 'no-inode', inode: null }), 'no-inode');
  assert.equal(historyKey({ ...base, id: 'tcp|4|127.0.0.1|596|*|*|-|-|77|kernel:123', inode: 77 }), 'tcp|4|127.0.0.1|596|*|*|-|-|77|kernel:123', 'a kernel-only sighting keeps its own name');
});

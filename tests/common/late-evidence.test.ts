/** Late evidence: the one rule that completes a captured process with what finished after detection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeProcess, LATE_REASON, type LateEvidence } from '#common/late-evidence.ts';
import { makeProcess } from './desktop-fixtures.ts';

const late = `${LATE_REASON} (over 30 ms); the history fills it in when it finishes`;
const captured = makeProcess({
  pid: 4711,
  startedAt: '2026-12-01T10:00:00.000Z',
  exeSha256: null,
  package: null,
  otherSockets: null,
  reasons: { exeSha256: late, package: late, otherSockets: late, unit: 'its cgroup (/) names no systemd unit' },
});
const finished: LateEvidence = {
  pid: 4711,
  startedAt: '2026-12-01T10:00:00.000Z',
  at: '2026-12-01T10:00:01.000Z',
  values: { exeSha256: 'ab'.repeat(32), package: null, otherSockets: null },
  reasons: { package: 'not from a package: no dpkg package lists /tmp/x', otherSockets: 'the process exited during capture' },
};

test('fills what was still being computed: the value, the reason replaced or removed, when', () => {
  const done = completeProcess(captured, finished);
  assert.equal(done?.exeSha256, 'ab'.repeat(32));
  assert.deepEqual(done?.reasons, {
    unit: 'its cgroup (/) names no systemd unit',
    package: 'not from a package: no dpkg package lists /tmp/x',
    otherSockets: 'the process exited during capture',
  });
  assert.equal(done?.evidenceCompletedAt, '2026-12-01T10:00:01.000Z');
  assert.equal(completeProcess(done, finished), null, 'applying twice changes nothing');
});

test('another process (pid reused: another start time), or one with nothing waiting, is left alone', () => {
  assert.equal(completeProcess({ ...captured, startedAt: '2026-12-01T11:00:00.000Z' }, finished), null);
  assert.equal(completeProcess({ ...captured, pid: 4712 }, finished), null);
  assert.equal(completeProcess(null, finished), null);
  const hashedAtDetection = makeProcess({ pid: 4711, startedAt: finished.startedAt, exeSha256: 'cd'.repeat(32), reasons: { unit: 'x' } });
  assert.equal(completeProcess(hashedAtDetection, finished), null, 'a value read at detection is never replaced');
});

test('a field the late evidence does not carry keeps its reason', () => {
  const done = completeProcess(captured, { ...finished, values: { exeSha256: 'ab'.repeat(32) }, reasons: {} });
  assert.equal(done?.reasons?.package, late);
  assert.equal(done?.reasons?.exeSha256, undefined);
  assert.equal(completeProcess({ ...done!, reasons: { unit: 'x' } }, finished), null);
});

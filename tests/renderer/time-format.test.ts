import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  elapsedSince,
  formatAgo,
  formatDuration,
  formatInterval,
  formatShortTimestamp,
  formatTimestamp,
  fromDateTimeLocalValue,
  toDateTimeLocalValue,
} from '../../renderer/src/format/time.ts';

test('durations use the two largest units', () => {
  assert.equal(formatDuration(0), '<1 s');
  assert.equal(formatDuration(999), '<1 s');
  assert.equal(formatDuration(42_000), '42 s');
  assert.equal(formatDuration(3 * 60_000 + 5_000), '3 min 05 s');
  assert.equal(formatDuration(2 * 3_600_000 + 3 * 60_000), '2 h 03 min');
  assert.equal(formatDuration(4 * 86_400_000 + 7 * 3_600_000), '4 d 07 h');
  assert.equal(formatDuration(-1), '<1 s', 'the main process\u2019s clock a little ahead: just seen');
  assert.equal(formatDuration(Number.NaN), '\u2014');
});

test('timestamps are local and unambiguous; missing or bad times show a dash', () => {
  const date = new Date(2026, 0, 31, 9, 5, 7);
  assert.equal(formatTimestamp(date.toISOString()), '2026-01-31 09:05:07');
  assert.equal(formatTimestamp(null), '\u2014');
  assert.equal(formatTimestamp('not a date'), '\u2014');
  const sameDay = new Date(2026, 0, 31, 23, 0, 0).getTime();
  assert.equal(formatShortTimestamp(date.toISOString(), sameDay), '09:05:07');
  const nextDay = new Date(2026, 1, 1, 0, 30, 0).getTime();
  assert.equal(formatShortTimestamp(date.toISOString(), nextDay), '2026-01-31 09:05:07');
});

test('"ago" reads naturally and falls back to a timestamp after a day', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  const at = (ms: number) => new Date(now - ms).toISOString();
  assert.equal(formatAgo(at(500), now), 'just now');
  assert.equal(formatAgo(at(12_000), now), '12 s ago');
  assert.equal(formatAgo(at(3 * 60_000), now), '3 min ago');
  assert.equal(formatAgo(at(5 * 3_600_000), now), '5 h ago');
  assert.equal(formatAgo(at(2 * 86_400_000), now), formatTimestamp(at(2 * 86_400_000)));
  assert.equal(formatAgo(null, now), 'never');
  assert.equal(elapsedSince(at(1234), now), 1234);
  assert.ok(Number.isNaN(elapsedSince(null, now)));
});

test('datetime-local values round-trip through ISO in local time', () => {
  const iso = new Date(2026, 4, 6, 7, 8, 9).toISOString();
  const value = toDateTimeLocalValue(iso);
  assert.equal(value, '2026-05-06T07:08:09');
  assert.equal(fromDateTimeLocalValue(value), iso);
  assert.equal(fromDateTimeLocalValue('2026-05-06T07:08'), new Date(2026, 4, 6, 7, 8, 0).toISOString());
  assert.equal(fromDateTimeLocalValue(''), null);
  assert.equal(fromDateTimeLocalValue('garbage'), null);
  assert.equal(toDateTimeLocalValue(null), '');
});

test('poll intervals read in the unit that fits', () => {
  assert.equal(formatInterval(250), '250 ms');
  assert.equal(formatInterval(2000), '2 s');
  assert.equal(formatInterval(1500), '1.5 s');
  assert.equal(formatInterval(90_000), '1.5 min');
  assert.equal(formatInterval(3_600_000), '1 h');
  assert.equal(formatInterval(29.7), '30 ms', 'a measured time, rounded');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { historyQuerySchema, timelineQuerySchema } from '#common/history-query.ts';
import { bucketCountFor, buildHistoryQuery, buildTimelineQuery, defaultHistoryFilter, isNarrowed, rangeBounds } from '../../renderer/src/state/history-filter.ts';

const NOW = Date.parse('2026-02-01T12:00:00.000Z');

test('preset ranges bound the start; all time is open', () => {
  assert.deepEqual(rangeBounds({ ...defaultHistoryFilter, range: 'hour' }, NOW), { since: '2026-02-01T11:00:00.000Z', until: null });
  assert.deepEqual(rangeBounds({ ...defaultHistoryFilter, range: 'week' }, NOW), { since: '2026-01-25T12:00:00.000Z', until: null });
  assert.deepEqual(rangeBounds({ ...defaultHistoryFilter, range: 'all' }, NOW), { since: null, until: null });
  const custom = { ...defaultHistoryFilter, range: 'custom' as const, since: '2026-01-01T00:00:00.000Z', until: null };
  assert.deepEqual(rangeBounds(custom, NOW), { since: '2026-01-01T00:00:00.000Z', until: null });
});

test('the default filter asks only for the last day, newest first', () => {
  assert.deepEqual(buildHistoryQuery(defaultHistoryFilter, NOW), { order: 'desc', since: '2026-01-31T12:00:00.000Z' });
  assert.equal(isNarrowed(defaultHistoryFilter), false);
});

test('every filter field reaches the query, trimmed, and the query passes the contract schema', () => {
  const filter = { ...defaultHistoryFilter, range: 'all' as const, port: 596, protocol: 'udp' as const, type: 'disappeared' as const, process: ' 4242 ', text: '  python  ' };
  const query = buildHistoryQuery(filter, NOW);
  assert.deepEqual(query, { order: 'desc', ports: [596], protocols: ['udp'], types: ['disappeared'], process: '4242', text: 'python' });
  assert.equal(historyQuerySchema.safeParse(query).success, true);
  assert.equal(isNarrowed(filter), true);
  assert.equal(isNarrowed({ ...defaultHistoryFilter, text: '   ' }), false);
});

test('the timeline covers the range in whole-minute, quarter-hour or hour buckets', () => {
  const hour = buildTimelineQuery({ ...defaultHistoryFilter, range: 'hour' }, NOW, null);
  assert.deepEqual(hour, { since: '2026-02-01T11:00:00.000Z', until: '2026-02-01T12:00:00.000Z', buckets: 60 });
  assert.equal(buildTimelineQuery(defaultHistoryFilter, NOW, null)?.buckets, 96);
  assert.equal(buildTimelineQuery({ ...defaultHistoryFilter, range: 'week' }, NOW, null)?.buckets, 168);
  assert.equal(timelineQuerySchema.safeParse(hour).success, true);
});

test('"all time" starts at the oldest matching event; with none there is no chart', () => {
  const all = { ...defaultHistoryFilter, range: 'all' as const, protocol: 'tcp' as const, text: 'nc' };
  const query = buildTimelineQuery(all, NOW, '2026-02-01T10:00:00.000Z');
  assert.deepEqual(query, { since: '2026-02-01T10:00:00.000Z', until: '2026-02-01T12:00:00.000Z', buckets: 120, filter: { protocols: ['tcp'], text: 'nc' } });
  assert.equal(timelineQuerySchema.safeParse(query).success, true);
  assert.equal(buildTimelineQuery(all, NOW, null), null);
  assert.equal(bucketCountFor('all', 5 * 60_000), 5);
  assert.equal(bucketCountFor('all', 0), 1);
});

test('an empty or inverted span still draws one minute', () => {
  const inverted = { ...defaultHistoryFilter, range: 'custom' as const, since: '2026-02-01T12:00:00.000Z', until: '2026-02-01T11:00:00.000Z' };
  const query = buildTimelineQuery(inverted, NOW, null);
  assert.equal(query?.since, '2026-02-01T12:00:00.000Z');
  assert.equal(query?.until, '2026-02-01T12:01:00.000Z');
  assert.equal(query?.buckets, 1);
});

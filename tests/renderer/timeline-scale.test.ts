import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisTicks, describeTimeline, layoutBars, maxCount, MIN_SEGMENT_PX } from '../../renderer/src/state/timeline-scale.ts';

const area = { left: 30, top: 10, width: 300, height: 100 };
const buckets = [
  { start: '2026-02-01T11:00:00.000Z', appeared: 0, disappeared: 0 },
  { start: '2026-02-01T11:20:00.000Z', appeared: 10, disappeared: 10 },
  { start: '2026-02-01T11:40:00.000Z', appeared: 1, disappeared: 0 },
];

test('bars share the width and stack appeared under disappeared, scaled to the busiest bucket', () => {
  const bars = layoutBars(buckets, '2026-02-01T12:00:00.000Z', area);
  assert.equal(maxCount(buckets), 20);
  assert.equal(bars.length, 3);
  assert.equal(bars[0]?.appearedHeight, 0);
  assert.equal(bars[1]?.appearedHeight, 50);
  assert.equal(bars[1]?.disappearedHeight, 50);
  assert.equal(bars[1]?.appearedY, 60);
  assert.equal(bars[1]?.disappearedY, 10);
  assert.equal(bars[2]?.appearedHeight, 5);
  assert.equal(bars[1]?.end, '2026-02-01T11:40:00.000Z');
  assert.equal(bars[2]?.end, '2026-02-01T12:00:00.000Z', 'the last bucket ends at the range end');
  assert.ok(Math.abs((bars[1]?.x ?? 0) - (30 + 100 + 1)) < 1e-9);
  assert.equal(bars[1]?.width, 98);
});

test('one event among thousands is still visible', () => {
  const bars = layoutBars([{ start: 'a', appeared: 5000, disappeared: 0 }, { start: 'b', appeared: 1, disappeared: 0 }], 'c', area);
  assert.equal(bars[1]?.appearedHeight, MIN_SEGMENT_PX);
  assert.equal(maxCount([]), 1);
});

test('axis ticks fall on round local times inside the range, at most the requested number', () => {
  const since = new Date(2026, 1, 1, 11, 7).toISOString();
  const until = new Date(2026, 1, 1, 12, 7).toISOString();
  const ticks = axisTicks(since, until, area, 4);
  assert.ok(ticks.length >= 2 && ticks.length <= 5);
  for (const tick of ticks) {
    assert.ok(tick.x >= area.left && tick.x <= area.left + area.width);
    assert.match(tick.label, /^\d{2}:(00|15|30|45)$/);
  }
  const week = axisTicks(new Date(2026, 1, 1).toISOString(), new Date(2026, 1, 8).toISOString(), area, 8);
  assert.ok(week.every((t) => /^\d{2}-\d{2}$/.test(t.label)), JSON.stringify(week));
  assert.deepEqual(axisTicks(until, since, area, 4), []);
});

test('the chart has a sentence for screen readers', () => {
  assert.match(describeTimeline(buckets, 'Last hour'), /^Last hour: 11 appeared and 10 disappeared\. Busiest around /);
  assert.equal(describeTimeline([], 'Last day'), 'No activity on the watched ports (last day).');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { computeVirtualWindow, scrollTopForRow } from '../../renderer/src/virtual/virtual-window.ts';

const base = { rowHeight: 56, viewportHeight: 560, overscan: 5, maxHeight: 8_000_000 };

test('a short list renders every row and scrolls exactly', () => {
  const win = computeVirtualWindow({ ...base, total: 3, scrollTop: 0 });
  assert.deepEqual(win, { height: 168, start: 0, end: 3, offset: 0, firstVisible: 0, lastVisible: 3 });
  assert.deepEqual(computeVirtualWindow({ ...base, total: 0, scrollTop: 0 }), { height: 0, start: 0, end: 0, offset: 0, firstVisible: 0, lastVisible: 0 });
});

test('100,000 rows: only the viewport plus overscan is rendered, at the exact offset', () => {
  const win = computeVirtualWindow({ ...base, total: 100_000, scrollTop: 56 * 50_000 });
  assert.equal(win.height, 5_600_000);
  assert.equal(win.firstVisible, 50_000);
  assert.equal(win.start, 49_995);
  assert.equal(win.end, 50_016);
  assert.equal(win.offset, 49_995 * 56);
  assert.ok(win.end - win.start <= 25);
});

test('beyond the height cap the scrollbar maps proportionally and still reaches the last row', () => {
  const total = 5_000_000;
  const top = computeVirtualWindow({ ...base, total, scrollTop: 0 });
  assert.equal(top.height, 8_000_000);
  assert.equal(top.firstVisible, 0);
  const bottom = computeVirtualWindow({ ...base, total, scrollTop: 8_000_000 });
  assert.equal(bottom.end, total, 'the last row is rendered at the bottom');
  assert.ok(bottom.firstVisible >= total - 11);
  const middle = computeVirtualWindow({ ...base, total, scrollTop: (8_000_000 - 560) / 2 });
  assert.ok(Math.abs(middle.firstVisible - total / 2) < 20);
});

test('property: rows placed by the window cover the viewport with no gap and no overlap', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (total, fraction) => {
      const natural = total * base.rowHeight;
      const height = Math.min(natural, base.maxHeight);
      const scrollTop = fraction * Math.max(0, height - base.viewportHeight);
      const win = computeVirtualWindow({ ...base, total, scrollTop });
      assert.ok(win.start <= win.firstVisible && win.firstVisible < Math.max(1, win.end));
      assert.ok(win.end <= total);
      // The rendered block starts at or above the viewport top and ends at or below its bottom (or the list's end).
      assert.ok(win.offset <= scrollTop + 1e-6, `offset ${win.offset} > scrollTop ${scrollTop}`);
      const blockBottom = win.offset + (win.end - win.start) * base.rowHeight;
      assert.ok(blockBottom >= Math.min(scrollTop + base.viewportHeight, height) - 1e-6 || win.end === total);
    }),
    { numRuns: 2000 },
  );
});

test('property: scrollTopForRow brings that row to the top (exact) or within a row (compressed)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 20, max: 3_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (total, fraction) => {
      const index = Math.floor(fraction * (total - 11));
      const scrollTop = scrollTopForRow(index, { ...base, total });
      const win = computeVirtualWindow({ ...base, total, scrollTop });
      assert.ok(Math.abs(win.firstVisible - index) <= 1, `${win.firstVisible} vs ${index}`);
    }),
    { numRuns: 1000 },
  );
});

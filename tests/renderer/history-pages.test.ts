import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { PortEvent } from '#common/model.ts';
import { initialHistoryPages, MAX_CACHED_PAGES, PAGE_SIZE, pagesToFetch, reduceHistoryPages, rowAt, rowsIn } from '../../renderer/src/state/history-pages.ts';
import type { HistoryPages } from '../../renderer/src/state/history-pages.ts';
import { makeEvent, makeSocket } from '../common/desktop-fixtures.ts';

const SOCKET = makeSocket();

/** The page `page` of a history holding seqs total..1 (newest first). */
function pageOf(total: number, page: number): { total: number; offset: number; events: PortEvent[] } {
  const events: PortEvent[] = [];
  for (let i = page * PAGE_SIZE; i < Math.min(total, (page + 1) * PAGE_SIZE); i += 1) events.push(makeEvent({ seq: total - i, socket: SOCKET }));
  return { total, offset: page * PAGE_SIZE, events };
}

function load(state: HistoryPages, page: number, total: number, keepNear = 0): HistoryPages {
  const requested = reduceHistoryPages(state, { type: 'requested', version: state.version, page });
  return reduceHistoryPages(requested, { type: 'loaded', version: state.version, page, result: pageOf(total, page), keepNear });
}

test('a reset starts a new version with nothing cached; the first visible page is wanted', () => {
  const state = reduceHistoryPages(initialHistoryPages, { type: 'reset' });
  assert.equal(state.version, 1);
  assert.equal(state.total, null);
  assert.deepEqual(pagesToFetch(state, 0, 20), [0]);
});

test('loaded pages answer rows; pending pages are not asked twice', () => {
  let state = reduceHistoryPages(initialHistoryPages, { type: 'reset' });
  state = reduceHistoryPages(state, { type: 'requested', version: state.version, page: 0 });
  assert.deepEqual(pagesToFetch(state, 0, 20), []);
  state = reduceHistoryPages(state, { type: 'loaded', version: state.version, page: 0, result: pageOf(250, 0), keepNear: 0 });
  assert.equal(state.total, 250);
  assert.equal(rowAt(state, 0)?.seq, 250);
  assert.equal(rowAt(state, 99)?.seq, 151);
  assert.equal(rowAt(state, 100), undefined);
  assert.deepEqual(pagesToFetch(state, 90, 260), [1, 2], 'nothing beyond the total');
  assert.deepEqual(rowsIn(state, 98, 103).map((e) => e.seq), [152, 151]);
});

test('answers for an older version are ignored', () => {
  let state = reduceHistoryPages(initialHistoryPages, { type: 'reset' });
  const old = state.version;
  state = reduceHistoryPages(state, { type: 'reset' });
  const after = reduceHistoryPages(state, { type: 'loaded', version: old, page: 0, result: pageOf(10, 0), keepNear: 0 });
  assert.equal(after, state);
  assert.equal(reduceHistoryPages(state, { type: 'failed', version: old, page: 0, message: 'x' }), state);
});

test('a refresh keeps stale rows on screen, refetches them, and measures the rows that arrived on top', () => {
  let state = load(reduceHistoryPages(initialHistoryPages, { type: 'reset' }), 0, 150);
  state = load(state, 1, 150);
  state = reduceHistoryPages(state, { type: 'refresh' });
  assert.equal(rowAt(state, 0)?.seq, 150, 'stale rows are still shown');
  assert.deepEqual(pagesToFetch(state, 0, 120), [0, 1], 'but both are refetched');
  state = load(state, 0, 153);
  assert.deepEqual(state.growth, { version: state.version, rows: 3 });
  state = load(state, 1, 153);
  assert.deepEqual(state.growth, { version: state.version, rows: 3 }, 'measured once per refresh');
  assert.equal(rowAt(state, 0)?.seq, 153);
});

test('a failure is reported and the page can be asked again', () => {
  let state = reduceHistoryPages(initialHistoryPages, { type: 'reset' });
  state = reduceHistoryPages(state, { type: 'requested', version: state.version, page: 0 });
  state = reduceHistoryPages(state, { type: 'failed', version: state.version, page: 0, message: 'database is locked' });
  assert.equal(state.error, 'database is locked');
  assert.deepEqual(pagesToFetch(state, 0, 10), [0]);
});

test('the cache keeps at most MAX_CACHED_PAGES pages, the ones nearest the viewport', () => {
  const total = PAGE_SIZE * (MAX_CACHED_PAGES + 20);
  let state = reduceHistoryPages(initialHistoryPages, { type: 'reset' });
  for (let page = 0; page < MAX_CACHED_PAGES + 20; page += 1) state = load(state, page, total, page * PAGE_SIZE);
  const cached = Object.keys(state.pages).map(Number);
  assert.equal(cached.length, MAX_CACHED_PAGES);
  assert.ok(cached.includes(MAX_CACHED_PAGES + 19), 'the page being viewed is kept');
  assert.ok(!cached.includes(0), 'the farthest page is dropped');
});

test('property: after loading what pagesToFetch asks for, every row in the range is present and correct', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 300 }), (total, start, length) => {
      let state = load(reduceHistoryPages(initialHistoryPages, { type: 'reset' }), 0, total);
      const from = Math.min(start, Math.max(0, total - 1));
      const to = Math.min(total, from + length);
      for (const page of pagesToFetch(state, from, to)) state = load(state, page, total, from);
      for (let index = from; index < to; index += 1) assert.equal(rowAt(state, index)?.seq, total - index);
      assert.deepEqual(pagesToFetch(state, from, to), []);
    }),
    { numRuns: 300 },
  );
});

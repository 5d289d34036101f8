import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hasHiddenCharacters, markerFor, toVisibleSegments, toVisibleText } from '../../renderer/src/format/visible-text.ts';

// Everything a hostile name could use to fake a line, reorder text or hide characters.
const DANGEROUS = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\u3164\ufeff\uffa0\ufff9-\ufffb]|[\ud800-\udfff]/u;

test('control, bidi and invisible characters become escapes in the CLI notation', () => {
  assert.equal(toVisibleText('a\nb\tc\rd'), 'a\\nb\\tc\\rd');
  assert.equal(toVisibleText('bell\u0007esc\u001b'), 'bell\\x07esc\\x1b');
  assert.equal(toVisibleText('gp-evil\u202Etxt.exe'), 'gp-evil\\u202etxt.exe');
  assert.equal(toVisibleText('zero\u200bwidth\ufeff'), 'zero\\u200bwidth\\ufeff');
  assert.equal(toVisibleText('del\u007f c1\u0085'), 'del\\x7f c1\\x85');
  assert.equal(toVisibleText('filler\u3164name'), 'filler\\u3164name');
  assert.equal(toVisibleText('tag\u{E0041}'), 'tag\\u{e0041}');
  assert.equal(toVisibleText('lone\ud800surrogate'), 'lone\\ud800surrogate');
});

test('ordinary text, markup and right-to-left letters pass unchanged (React escapes markup)', () => {
  for (const text of ['nc', '/usr/bin/python3 -m http.server 596', '<img src=x onerror=alert(1)>', 'שלום مرحبا', 'naïve café 🦊']) {
    assert.equal(toVisibleText(text), text);
    assert.equal(hasHiddenCharacters(text), false);
  }
});

test('segments mark exactly the hidden characters and join to the visible text', () => {
  const segments = toVisibleSegments('a\nb\u202Ec');
  assert.deepEqual(segments, [
    { text: 'a', hidden: false },
    { text: '\\n', hidden: true },
    { text: 'b', hidden: false },
    { text: '\\u202e', hidden: true },
    { text: 'c', hidden: false },
  ]);
  assert.deepEqual(toVisibleSegments(''), []);
});

test('property: the visible form never contains a dangerous character and segments agree with it', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (raw) => {
      const visible = toVisibleText(raw);
      assert.equal(DANGEROUS.test(visible), false, JSON.stringify(visible));
      assert.equal(toVisibleSegments(raw).map((s) => s.text).join(''), visible);
      assert.equal(hasHiddenCharacters(raw), visible !== raw);
    }),
    { numRuns: 2000 },
  );
});

test('hasHiddenCharacters is stable across calls (no leftover regex state)', () => {
  assert.equal(hasHiddenCharacters('x\ny'), true);
  assert.equal(hasHiddenCharacters('x\ny'), true);
  assert.equal(markerFor('\n'), '\\n');
});

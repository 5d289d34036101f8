/** The one text escaper: controls, format characters and invisibles are shown, never obeyed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { displayText, escapeUnsafe, hasHiddenCharacters, issueHint, markerFor, toVisibleSegments, truncateText } from '#common/display-text.ts';

// Independent of the escaper's own pattern: Unicode's control, format, separator and surrogate
// categories, and the Hangul fillers that render blank.
const CATEGORIES = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const FILLERS = new Set([0x115f, 0x1160, 0x3164, 0xffa0]);

test('named escapes, bidi overrides, invisibles and the characters that drifted (U+061C, U+00AD, U+3164, tags, lone surrogates)', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['a\nb\tc\rd', 'a\\nb\\tc\\rd'],
    ['\u001b[31mred', '\\x1b[31mred'],
    ['del\u007f c1\u0085', 'del\\x7f c1\\x85'],
    ['evil\u202Etxt.exe', 'evil\\u202etxt.exe'],
    ['zero\u200bwidth\ufeff', 'zero\\u200bwidth\\ufeff'],
    ['arabic\u061Cmark', 'arabic\\u061cmark'],
    ['soft\u00ADhyphen', 'soft\\xadhyphen'],
    ['filler\u3164name', 'filler\\u3164name'],
    ['tag\u{E0041}', 'tag\\u{e0041}'],
    ['lone\ud800surrogate\udc00', 'lone\\ud800surrogate\\udc00'],
  ];
  for (const [raw, shown] of cases) assert.equal(escapeUnsafe(raw), shown, JSON.stringify(raw));
});

test('ordinary text, markup, right-to-left letters and astral symbols pass unchanged', () => {
  for (const text of ['nc', '/usr/bin/python3 -m http.server 596', '<img src=x onerror=alert(1)>', 'שלום مرحبا', 'ünïcødé ☃ 端口 🦊']) {
    assert.equal(escapeUnsafe(text), text);
    assert.equal(hasHiddenCharacters(text), false);
  }
});

test('every code point of Unicode: hidden exactly when it is Cc, Cf, Zl, Zp, Cs or a filler, and then an ASCII escape', () => {
  let hidden = 0;
  for (let code = 0; code <= 0x10ffff; code++) {
    const char = String.fromCodePoint(code);
    const expectHidden = CATEGORIES.test(char) || FILLERS.has(code);
    const shown = escapeUnsafe(char);
    if (expectHidden) {
      hidden++;
      assert.equal(shown, markerFor(char), `U+${code.toString(16)}`);
      assert.match(shown, /^\\[\x20-\x7e]+$/, `U+${code.toString(16)} escapes to printable ASCII`);
    } else if (shown !== char) {
      assert.fail(`U+${code.toString(16)} changed to ${JSON.stringify(shown)}`);
    }
  }
  assert.ok(hidden > 2000 + 65 + 160, `hidden ${hidden}`);
});

test('property: the escaped form never holds a hidden character; segments, detection and escape agree', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (raw) => {
      const shown = escapeUnsafe(raw);
      assert.equal(CATEGORIES.test(shown), false, JSON.stringify(shown));
      assert.equal(toVisibleSegments(raw).map((s) => s.text).join(''), shown);
      assert.equal(hasHiddenCharacters(raw), shown !== raw);
      assert.equal(hasHiddenCharacters(raw), hasHiddenCharacters(raw), 'no regex state between calls');
    }),
    { numRuns: 3000 },
  );
});

test('segments mark exactly the hidden characters', () => {
  assert.deepEqual(toVisibleSegments('a\nb\u202Ec'), [
    { text: 'a', hidden: false },
    { text: '\\n', hidden: true },
    { text: 'b', hidden: false },
    { text: '\\u202e', hidden: true },
    { text: 'c', hidden: false },
  ]);
  assert.deepEqual(toVisibleSegments(''), []);
});

test('long text is cut with an ellipsis after escaping, never inside a surrogate pair', () => {
  const shown = displayText('x'.repeat(100_000), 50);
  assert.equal(shown.length, 50);
  assert.ok(shown.endsWith('…'));
  assert.equal(truncateText('ab🦊cd', 4), 'ab…');
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 40 }), (raw, max) => {
      assert.equal(CATEGORIES.test(displayText(raw, max)), false);
    }),
  );
});

test('issueHint puts the live counts of a history issue before its hint; other issues keep theirs', () => {
  const base = { code: 'history-busy' as const, message: 'The history is locked.', hint: 'Nothing is lost.' };
  assert.equal(issueHint({ ...base, pending: 1 }), '1 event waiting to be written. Nothing is lost.');
  assert.equal(issueHint({ ...base, pending: 3, dropped: 2 }), '3 events waiting to be written (2 older ones dropped to bound memory). Nothing is lost.');
  assert.equal(issueHint(base), 'Nothing is lost.');
  assert.equal(issueHint({ code: 'not-elevated', message: 'Owners hidden.' }), null);
});

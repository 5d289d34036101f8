/** Untrusted text made safe to show: controls, line breaks and bidi overrides become visible. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { displayText, escapeUnsafe } from '../../electron/common/display-text.ts';

test('line breaks, escapes and bidi overrides are shown, not obeyed', () => {
  assert.equal(escapeUnsafe('a\nb\tc\r'), 'a\\nb\\tc\\r');
  assert.equal(escapeUnsafe('\u001b[31mred'), '\\x1b[31mred');
  assert.equal(escapeUnsafe('evil\u202Etxt.exe'), 'evil\\u202etxt.exe');
  assert.equal(escapeUnsafe('zero\u200Bwidth'), 'zero\\u200bwidth');
  assert.equal(escapeUnsafe('ünïcødé ☃ 端口'), 'ünïcødé ☃ 端口', 'ordinary Unicode is untouched');
});

test('escaped text never contains a control or bidi character, for any input', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      assert.doesNotMatch(escapeUnsafe(s), /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    }),
    { numRuns: 2000 },
  );
});

test('long text is cut with an ellipsis after escaping', () => {
  const shown = displayText('x'.repeat(100_000), 50);
  assert.equal(shown.length, 50);
  assert.ok(shown.endsWith('…'));
});

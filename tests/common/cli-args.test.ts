/** The CLI's argument parser: defaults, repeats, `--flag=value`, and one-line reasons. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCliArgs } from '../../electron/common/cli-args.ts';

test('defaults: port 596, 2000 ms, human output', () => {
  assert.deepEqual(parseCliArgs(['watch']), { ok: true, value: { command: 'watch', ports: [596], json: false, intervalMs: 2000, dataDir: null, noHistory: false } });
});

test('repeated ports are sorted and deduplicated; --flag=value works', () => {
  const r = parseCliArgs(['scan', '--port', '8080', '--port=596', '--port', '8080', '--json']);
  assert.deepEqual(r, { ok: true, value: { command: 'scan', ports: [596, 8080], json: true, dataDir: null } });
});

test('history keeps an empty port list meaning all ports, and normalizes --since', () => {
  const r = parseCliArgs(['history', '--since', '2026-11-27T10:00:00+01:00']);
  assert.ok(r.ok && r.value.command === 'history');
  assert.deepEqual(r.value.ports, []);
  assert.equal(r.value.since, '2026-11-27T09:00:00.000Z');
});

test('no command means help', () => {
  assert.deepEqual(parseCliArgs([]), { ok: true, value: { command: 'help' } });
});

test('any argv either parses or gives a one-line reason, never throws', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('scan', 'watch', 'history', '--port', '--json', '--interval', '--since', '--data-dir', '596', '-1', '1e3')), { maxLength: 8 }), (argv) => {
      const r = parseCliArgs(argv);
      if (!r.ok) {
        assert.ok(r.reason.length > 0 && r.reason.length < 200);
        assert.ok(!r.reason.includes('\n'));
      }
    }),
    { numRuns: 2000 },
  );
});

/** The CLI's option table and parser: defaults left to settings, repeats, strict dates, ages, units, per-command help. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, OPTIONS, helpText, parseCliArgs, parseStrictDate } from '#node/cli/args.ts';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const parse = (...argv: string[]) => parseCliArgs(argv, { now: NOW, minIntervalMs: 250 });
const options = (...argv: string[]) => {
  const r = parse(...argv);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.value.options;
};

test('an option not given is absent, so the settings and then the defaults apply', () => {
  assert.deepEqual(parse('watch'), { ok: true, value: { command: 'watch', options: {} } });
});

test('repeated ports are sorted and deduplicated; --flag=value works; --no-history negates', () => {
  assert.deepEqual(options('watch', '--port', '8080', '--port=596', '--port', '8080', '--json', '--no-history'), { port: [596, 8080], json: true, history: false });
});

test('intervals: milliseconds or with a unit; below 250 ms refused', () => {
  assert.equal(options('watch', '--interval', '250').interval, 250);
  assert.equal(options('watch', '--interval', '2s').interval, 2000);
  assert.equal(options('watch', '--interval', '1.5s').interval, 1500);
  assert.equal(options('watch', '--interval=1m').interval, 60_000);
  for (const bad of ['0.5', '1', '249', '0.2s', '0', '2h', '1e3', '']) assert.equal(parse('watch', '--interval', bad).ok, false, bad);
  // Bounds in the units every other message uses.
  const reason = (text: string) => { const r = parse('watch', '--interval', text); return r.ok ? '' : r.reason; };
  assert.match(reason('2h'), /at most 1 h$/);
  assert.match(reason('100'), /at least 250 ms, not 100 ms/);
});

test('--since: ages are relative to now; dates are strict', () => {
  assert.equal(options('history', '--since', '1h').since, '2026-11-27T11:00:00.000Z');
  assert.equal(options('history', '--since', '7d').since, '2026-11-20T12:00:00.000Z');
  assert.equal(options('history', '--since', '2026-11-27T10:00:00+01:00').since, '2026-11-27T09:00:00.000Z');
  assert.equal(options('history', '--since', '2026-11-27T09:00Z').since, '2026-11-27T09:00:00.000Z');
  for (const bad of ['2026-02-30', '2026-13-01', '2026-11-27T24:00', '2026-11-27T09:60', '2026-11-31', '27/11/2026', 'yesterday', '1y', '2026-11-27T09:00+25:00']) {
    assert.equal(parse('history', '--since', bad).ok, false, bad);
  }
  assert.equal(parseStrictDate('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  assert.equal(parseStrictDate('2025-02-29'), null);
  assert.equal(parseStrictDate('2026-11-27'), new Date(2026, 10, 27).getTime(), 'a date without a zone is local midnight');
});

test('--help, -h and help CMD ask for that command\'s help; --version and -V the version', () => {
  for (const argv of [['scan', '--help'], ['scan', '-h'], ['help', 'scan'], ['scan', '--port', '1', '--help']]) {
    assert.deepEqual(parse(...argv), { ok: true, value: { command: 'help', topic: 'scan', options: {} } }, argv.join(' '));
  }
  for (const argv of [[], ['--help'], ['-h'], ['help']]) assert.deepEqual(parse(...argv), { ok: true, value: { command: 'help', topic: null, options: {} } });
  assert.deepEqual(parse('--version'), { ok: true, value: { command: 'version', options: {} } });
  assert.deepEqual(parse('-V'), { ok: true, value: { command: 'version', options: {} } });
});

test('an option of another command, an extra operand, a value on a flag, a missing value: one-line reasons', () => {
  const reasons: [string[], RegExp][] = [
    [['scan', '--since', '1h'], /--since does not apply to "scan"/],
    [['scan', 'extra'], /unexpected argument "extra"/],
    [['scan', '--json=yes'], /--json takes no value/],
    [['history', '--limit'], /--limit needs a value/],
    [['scan', '-x'], /unknown option "-x"/],
    [['--bogus'], /unknown option "--bogus"/],
    [['help', 'scan', 'watch'], /unexpected argument "watch"/],
  ];
  for (const [argv, reason] of reasons) {
    const r = parse(...argv);
    assert.ok(!r.ok, argv.join(' '));
    assert.match(r.reason, reason);
  }
});

test('help CMD lists that command\'s options and no other', () => {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const text = helpText(name as keyof typeof COMMANDS);
    for (const option of Object.keys(OPTIONS)) {
      const listed = new RegExp(`--(\\[no-\\])?${option}\\b`).test(text);
      assert.equal(listed, (spec.options as readonly string[]).includes(option), `${name} --${option}`);
    }
  }
  const all = helpText(null);
  for (const name of Object.keys(COMMANDS)) assert.match(all, new RegExp(`^  ${name} `, 'm'));
});

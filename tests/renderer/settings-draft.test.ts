import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, MAX_INTERVAL_MS, MIN_INTERVAL_MS, settingsPatchSchema } from '#common/settings.ts';
import { draftFromSettings, parseDraft, parsePorts, SETTINGS_LIMITS } from '../../renderer/src/state/settings-draft.ts';

test('the form limits agree with the settings schema', () => {
  assert.equal(SETTINGS_LIMITS.minIntervalSeconds * 1000, MIN_INTERVAL_MS);
  assert.equal(SETTINGS_LIMITS.maxIntervalSeconds * 1000, MAX_INTERVAL_MS);
});

test('an untouched form is an empty patch', () => {
  assert.deepEqual(parseDraft(draftFromSettings(DEFAULT_SETTINGS), DEFAULT_SETTINGS), { ok: true, patch: {} });
});

test('changed fields become a patch the contract accepts, grouped as the settings are', () => {
  const draft = { ...draftFromSettings(DEFAULT_SETTINGS), ports: '8080 596,596', intervalSeconds: '0.75', notifyDisappeared: true, retentionEvents: '250,000' };
  const parsed = parseDraft(draft, DEFAULT_SETTINGS);
  assert.deepEqual(parsed, {
    ok: true,
    patch: {
      ports: [596, 8080],
      intervalMs: 750,
      notifications: { enabled: true, onAppeared: true, onDisappeared: true },
      retention: { maxAgeDays: 90, maxEvents: 250_000 },
    },
  });
  assert.equal(parsed.ok && settingsPatchSchema.safeParse(parsed.patch).success, true);
});

test('bad input names the field and what to enter', () => {
  const draft = { ...draftFromSettings(DEFAULT_SETTINGS), ports: '596, 70000', intervalSeconds: '0.1', retentionDays: '1.5', retentionEvents: 'lots' };
  const parsed = parseDraft(draft, DEFAULT_SETTINGS);
  assert.equal(parsed.ok, false);
  if (parsed.ok) return;
  assert.match(parsed.errors.ports ?? '', /70000.*not a port number/);
  assert.match(parsed.errors.intervalSeconds ?? '', /0\.25 to 3600/);
  assert.match(parsed.errors.retentionDays ?? '', /whole days/);
  assert.match(parsed.errors.retentionEvents ?? '', /whole number/);
});

test('ports: at least one, all valid, at most 64', () => {
  assert.deepEqual(parsePorts(' 596 '), [596]);
  assert.equal(parsePorts(''), 'Watch at least one port.');
  assert.match(String(parsePorts('0')), /not a port number/);
  assert.match(String(parsePorts('5x')), /not a port number/);
  assert.match(String(parsePorts(Array.from({ length: 65 }, (_, i) => i + 1).join(','))), /at most 64/);
});

/** The settings file on real temp directories: load, recover, write atomically. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { chmodSync, chownSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SETTINGS_FILE, SettingsStore } from '#node/settings-store.ts';
import { DEFAULT_SETTINGS } from '#common/settings.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ghostport-settings-'));
  dirs.push(dir);
  return dir;
}

const fixedNow = () => new Date('2026-01-31T10:20:30.456Z');

test('no file: defaults, no issue, nothing written until a change', async () => {
  const dir = await tempDir();
  const store = await SettingsStore.open({ dataDir: dir });
  assert.deepEqual(store.settings, DEFAULT_SETTINGS);
  assert.deepEqual(store.issues, []);
  assert.deepEqual(await readdir(dir), []);
});

test('a saved file loads back identically, and the data dir is created on demand', async () => {
  const dir = join(await tempDir(), 'nested', 'Ghostport');
  const store = await SettingsStore.open({ dataDir: dir });
  const next = { ...DEFAULT_SETTINGS, ports: [8080, 596, 596], intervalMs: 500, allowlist: [{ by: 'path' as const, path: '/usr/sbin/sshd', argsPrefix: [], port: null }] };
  const saved = await store.save(next);
  assert.deepEqual(saved.ports, [596, 8080], 'ports normalised');
  const reopened = await SettingsStore.open({ dataDir: dir });
  assert.deepEqual(reopened.settings, saved);
  assert.deepEqual(reopened.issues, []);
  assert.deepEqual(await readdir(dir), [SETTINGS_FILE], 'no temp files left behind');
  const mode = (await import('node:fs')).statSync(join(dir, SETTINGS_FILE)).mode & 0o777;
  assert.equal(mode, 0o600);
});

for (const [name, content] of [
  ['truncated JSON', '{"ports": [596], "intervalMs": 20'],
  ['an invalid value', JSON.stringify({ ...DEFAULT_SETTINGS, intervalMs: 1 })],
  ['unknown keys', JSON.stringify({ ...DEFAULT_SETTINGS, __proto__x: 1, webhook: 'http://evil' })],
  ['a prototype-polluting document', '{"__proto__": {"polluted": true}, "ports": [596]}'],
  ['not an object', '[]'],
  ['binary noise', '\u0000\u0001\u0002garbage'],
] as const) {
  test(`${name}: moved aside (never deleted), defaults used, settings-recovered reported`, async () => {
    const dir = await tempDir();
    await writeFile(join(dir, SETTINGS_FILE), content);
    const store = await SettingsStore.open({ dataDir: dir, now: fixedNow });
    assert.deepEqual(store.settings, DEFAULT_SETTINGS);
    assert.equal(store.issues.length, 1);
    assert.equal(store.issues[0]?.code, 'settings-recovered');
    const aside = join(dir, `${SETTINGS_FILE}.corrupt-2026-01-31T10-20-30.456Z`);
    assert.match(store.issues[0]?.message ?? '', new RegExp(aside.replaceAll('.', '\\.')));
    assert.equal(await readFile(aside, 'utf8'), content, 'the bad file is kept byte for byte');
    assert.deepEqual(await readdir(dir), [`${SETTINGS_FILE}.corrupt-2026-01-31T10-20-30.456Z`]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    // The store works normally afterwards.
    await store.save({ ...DEFAULT_SETTINGS, intervalMs: 3000 });
    assert.equal((await SettingsStore.open({ dataDir: dir })).settings.intervalMs, 3000);
  });
}

test('a second corrupt file in the same millisecond does not overwrite the first one aside', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, SETTINGS_FILE), 'one');
  await SettingsStore.open({ dataDir: dir, now: fixedNow });
  await writeFile(join(dir, SETTINGS_FILE), 'two');
  await SettingsStore.open({ dataDir: dir, now: fixedNow });
  const names = (await readdir(dir)).sort();
  assert.equal(names.length, 2);
  assert.equal(await readFile(join(dir, names[0]!), 'utf8'), 'one');
  assert.equal(await readFile(join(dir, names[1]!), 'utf8'), 'two');
});

test('a directory or a FIFO in place of the file is moved aside, not read', async () => {
  for (const make of [async (p: string) => mkdir(p), async (p: string) => execFileSync('mkfifo', [p])]) {
    const dir = await tempDir();
    await make(join(dir, SETTINGS_FILE));
    const store = await SettingsStore.open({ dataDir: dir, now: fixedNow });
    assert.equal(store.issues[0]?.code, 'settings-recovered');
    assert.match(store.issues[0]?.message ?? '', /not a regular file/);
    assert.deepEqual(store.settings, DEFAULT_SETTINGS);
  }
});

test('a symlink in place of the file (to a file or to nothing) is refused: not followed, not moved, nothing created', async () => {
  for (const target of ['/etc/hostname', '/tmp/ghostport-settings-link-target-that-does-not-exist']) {
    const dir = await tempDir();
    await symlink(target, join(dir, SETTINGS_FILE));
    await assert.rejects(SettingsStore.open({ dataDir: dir }), (e: Error) => e.name === 'UnsafePathError' && /symbolic link/.test(e.message));
    assert.deepEqual(await readdir(dir), [SETTINGS_FILE], 'nothing moved aside or created');
    assert.equal(existsSync('/tmp/ghostport-settings-link-target-that-does-not-exist'), false);
  }
});

test('as root, a data dir or settings file owned by another user, or a dir others can write, is refused', { skip: process.getuid?.() === 0 ? false : 'needs root' }, async () => {
  const foreignDir = await tempDir();
  chownSync(foreignDir, 65534, 65534);
  await assert.rejects(SettingsStore.open({ dataDir: foreignDir }), /belongs to uid 65534/);
  const openDir = await tempDir();
  chmodSync(openDir, 0o777);
  await assert.rejects(SettingsStore.open({ dataDir: openDir }), /others can write to it/);
  const foreignFile = await tempDir();
  writeFileSync(join(foreignFile, SETTINGS_FILE), '{}');
  chownSync(join(foreignFile, SETTINGS_FILE), 65534, 65534);
  await assert.rejects(SettingsStore.open({ dataDir: foreignFile }), /belongs to uid 65534/);
});

test('an oversized file is not read into memory', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, SETTINGS_FILE), Buffer.alloc(9 * 1024 * 1024, 32));
  const store = await SettingsStore.open({ dataDir: dir, now: fixedNow });
  assert.match(store.issues[0]?.message ?? '', /far too large/);
});

test('a file that cannot be moved aside is never overwritten: saves are refused', { skip: process.getuid?.() === 0 ? false : 'needs root to drop privileges' }, async () => {
  const dir = await tempDir();
  await writeFile(join(dir, SETTINGS_FILE), '{broken');
  // A read-only directory: rename fails. Root ignores permissions, so run the check as nobody.
  await chmod(dir, 0o755);
  await chmod(join(dir, SETTINGS_FILE), 0o644);
  const script = `
    import('${new URL('../../electron/node/settings-store.ts', import.meta.url).href}').then(async ({ SettingsStore }) => {
      const store = await SettingsStore.open({ dataDir: ${JSON.stringify(dir)} });
      let saveError = null;
      try { await store.save(store.settings); } catch (e) { saveError = e.message; }
      process.stdout.write(JSON.stringify({ issues: store.issues, saveError }));
    });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
  const { issues, saveError } = JSON.parse(out);
  assert.equal(issues[0].code, 'settings-recovered');
  assert.match(issues[0].message, /could not be moved aside/);
  assert.match(saveError, /not saved/);
  assert.equal(await readFile(join(dir, SETTINGS_FILE), 'utf8'), '{broken', 'untouched');
});

test('concurrent saves are serialised: the last call wins and the file is always whole JSON', async () => {
  const dir = await tempDir();
  const store = await SettingsStore.open({ dataDir: dir });
  const heard: number[] = [];
  store.onChange((s) => heard.push(s.intervalMs));
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.save({ ...DEFAULT_SETTINGS, intervalMs: 1000 + i })));
  assert.equal(store.settings.intervalMs, 1019);
  assert.equal(JSON.parse(await readFile(join(dir, SETTINGS_FILE), 'utf8')).intervalMs, 1019);
  assert.equal(heard.length, 20);
  assert.deepEqual(await readdir(dir), [SETTINGS_FILE]);
});

test('invalid settings are refused before touching the disk', async () => {
  const dir = await tempDir();
  const store = await SettingsStore.open({ dataDir: dir });
  await assert.rejects(store.save({ ...DEFAULT_SETTINGS, ports: [] }), /invalid settings/);
  assert.deepEqual(await readdir(dir), []);
});

/**
 * The XDG autostart entry on real temp directories, checked by the desktop's own tools:
 * `desktop-file-validate` (desktop-file-utils) for the format and GLib's `gio launch` for how
 * the Exec line is actually split into argv.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUTOSTART_FILE,
  autostartFilePath,
  desktopEntry,
  isLinuxAutostartEnabled,
  quoteExecArgument,
  setLinuxAutostart,
} from '#node/autostart-linux.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ghostport-autostart-'));
  dirs.push(dir);
  return dir;
}

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

test('the entry goes to $XDG_CONFIG_HOME/autostart, else ~/.config/autostart', () => {
  assert.equal(autostartFilePath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/bob' }), `/x/cfg/autostart/${AUTOSTART_FILE}`);
  assert.equal(autostartFilePath({ HOME: '/home/bob' }), `/home/bob/.config/autostart/${AUTOSTART_FILE}`);
  // A relative XDG_CONFIG_HOME is invalid per the Base Directory spec and must be ignored.
  assert.equal(autostartFilePath({ XDG_CONFIG_HOME: 'rel', HOME: '/home/bob' }), `/home/bob/.config/autostart/${AUTOSTART_FILE}`);
});

test('plain arguments stay bare; reserved characters are quoted in both layers', () => {
  assert.equal(quoteExecArgument('/opt/Ghostport/ghostport'), '/opt/Ghostport/ghostport');
  assert.equal(quoteExecArgument('/opt/My Apps/ghostport'), '"/opt/My Apps/ghostport"');
  assert.equal(quoteExecArgument('a"b'), '"a\\\\"b"');
  assert.equal(quoteExecArgument('a\\b'), '"a\\\\\\\\b"', 'a literal backslash is four in the file');
  assert.equal(quoteExecArgument('100%'), '100%%');
  assert.equal(quoteExecArgument(''), '""');
  assert.throws(() => quoteExecArgument('a\nb'), /control character/);
  assert.throws(() => quoteExecArgument('a\tb'), /control character/);
});

test('enable writes a valid entry, disable removes it, and both are idempotent', async () => {
  const config = await tempDir();
  const env = { XDG_CONFIG_HOME: config, HOME: '/nonexistent' };
  assert.equal(await isLinuxAutostartEnabled(env), false);
  await setLinuxAutostart(true, { execPath: '/opt/Ghostport/ghostport' }, env);
  await setLinuxAutostart(true, { execPath: '/opt/Ghostport/ghostport' }, env);
  const file = join(config, 'autostart', AUTOSTART_FILE);
  assert.equal(await isLinuxAutostartEnabled(env), true);
  const text = await readFile(file, 'utf8');
  assert.match(text, /^\[Desktop Entry\]\n/);
  assert.match(text, /^Exec=\/opt\/Ghostport\/ghostport$/m);
  assert.equal((await stat(file)).mode & 0o777, 0o644);
  if (has('desktop-file-validate')) {
    const result = spawnSync('desktop-file-validate', [file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.equal(result.stdout.trim(), '', 'no warnings either');
  }
  await setLinuxAutostart(false, { execPath: '/opt/Ghostport/ghostport' }, env);
  await setLinuxAutostart(false, { execPath: '/opt/Ghostport/ghostport' }, env);
  assert.equal(await isLinuxAutostartEnabled(env), false);
});

test('an entry a desktop disabled in place counts as off', async () => {
  const config = await tempDir();
  const env = { XDG_CONFIG_HOME: config };
  await mkdir(join(config, 'autostart'), { recursive: true });
  await writeFile(join(config, 'autostart', AUTOSTART_FILE), `${desktopEntry({ execPath: '/x' })}Hidden=true\n`);
  assert.equal(await isLinuxAutostartEnabled(env), false);
});

test('a hostile install path launches exactly, as GLib parses it', { skip: has('gio') ? false : 'gio (GLib) not installed' }, async () => {
  const root = await tempDir();
  // No `%` in the path itself: GLib checks that the executable exists before expanding `%%`
  // (a GLib quirk; the spec's `%%` is still right, and arguments with `%` are covered below).
  const weirdDir = join(root, `My Apps $HOME 'q' "dq" \\back\\ \`tick\` ünï`);
  await mkdir(weirdDir, { recursive: true });
  const out = join(root, 'argv.txt');
  const script = join(weirdDir, 'ghost port;rm -rf ~.sh');
  await writeFile(script, `#!/bin/sh\nprintf '%s\\n' "$0" "$@" > ${JSON.stringify(out)}\n`);
  await chmod(script, 0o755);
  const args = ['--hidden', 'a b', '50%', '%f', '$(touch pwned)', 'back\\slash', 'q"uote'];
  const config = join(root, 'config');
  await setLinuxAutostart(true, { execPath: script, args }, { XDG_CONFIG_HOME: config });
  const file = join(config, 'autostart', AUTOSTART_FILE);
  if (has('desktop-file-validate')) {
    const result = spawnSync('desktop-file-validate', [file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  }
  execFileSync('gio', ['launch', file], { cwd: root, timeout: 10_000, env: { ...process.env, HOME: root } });
  const deadline = Date.now() + 5000;
  let argv: string[] = [];
  while (Date.now() < deadline) {
    try {
      argv = (await readFile(out, 'utf8')).split('\n').slice(0, -1);
      if (argv.length > 0) break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  assert.deepEqual(argv, [script, ...args]);
  await assert.rejects(stat(join(root, 'pwned')), 'nothing was executed by a shell');
});

/**
 * The Linux package, checked without building it (electron-builder needs Electron's release
 * archive, which cannot be downloaded here): /usr/bin/ghostport is the command line, the tray app
 * is ghostport-tray, the unit lands in /usr/lib/systemd/system, the post-install script is
 * electron-builder's own plus the group `ghostport` (and enables nothing); and the launcher itself
 * runs the bundled CLI with ELECTRON_RUN_AS_NODE from an /opt/Ghostport-shaped tree. What only a
 * machine that builds the .deb verifies: fpm placing the files, Electron's Node reading the bundle
 * from inside app.asar, and dpkg running the script.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { cliBuildOptions } from '../../electron/build/build.ts';

const require = createRequire(import.meta.url);
const ROOT = process.cwd();
const config = require(join(ROOT, 'electron/build/electron-builder.config.cjs')) as {
  files: string[];
  linux: { executableName: string };
  deb: { afterInstall: string; fpm: string[] };
};
const temp: string[] = [];
after(() => temp.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

test('the tray app is ghostport-tray; /usr/bin/ghostport, the unit and the rules are package files', () => {
  assert.equal(config.linux.executableName, 'ghostport-tray');
  assert.ok(config.files.includes('dist/cli/**'), 'the CLI bundle is packed');
  assert.ok(config.files.includes('electron/node/cli/ghostport.mjs'), 'and the entry that loads it');
  const mapped = new Map(config.deb.fpm.map((arg) => arg.split('=') as [string, string]).map(([src, dst]) => [dst, src]));
  assert.equal(mapped.get('/usr/bin/ghostport'), resolve('deploy/linux/ghostport'));
  assert.equal(mapped.get('/usr/lib/systemd/system/ghostport.service'), resolve('deploy/systemd/ghostport.service'));
  for (const source of mapped.values()) assert.ok(existsSync(source), source);
  assert.equal(statSync('deploy/linux/ghostport').mode & 0o111, 0o111, 'the launcher is executable');
  assert.ok(!config.deb.fpm.some((arg) => arg.endsWith('=/usr/bin/ghostport-tray')), 'the tray link stays electron-builder\'s');
});

test('the post-install script is electron-builder\'s own, plus the group, and enables nothing', () => {
  const ours = readFileSync(config.deb.afterInstall, 'utf8');
  const upstream = readFileSync(require.resolve('app-builder-lib/templates/linux/after-install.tpl'), 'utf8');
  const [shebang, ...rest] = upstream.split('\n');
  assert.ok(ours.startsWith(`${shebang}\n`) && ours.includes(rest.join('\n')), 'upstream template kept whole (re-copy it when electron-builder changes it)');
  const added = ours.slice(ours.indexOf(rest.join('\n')) + rest.join('\n').length);
  assert.match(added, /getent group ghostport .*\n\s+groupadd --system ghostport/);
  const commands = ours.split('\n').filter((line) => !line.trim().startsWith('#')).join('\n');
  assert.doesNotMatch(commands, /systemctl (enable|start)/);
  const syntax = spawnSync('bash', ['-n', config.deb.afterInstall], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
});

test('the launcher runs the bundled CLI in node mode from an /opt/Ghostport-shaped tree', async () => {
  const app = mkdtempSync(join(tmpdir(), 'ghostport-opt-'));
  temp.push(app);
  const asar = join(app, 'resources', 'app.asar'); // a plain folder here; an archive in the package
  await build({ ...cliBuildOptions(ROOT), outfile: join(asar, 'dist/cli/ghostport.cjs') });
  copyFileSync('package.json', join(asar, 'package.json'));
  mkdirSync(join(asar, 'electron/node/cli'), { recursive: true });
  copyFileSync('electron/node/cli/ghostport.mjs', join(asar, 'electron/node/cli/ghostport.mjs'));
  // Stands in for the Electron binary in node mode (which is Node 22): refuses to run otherwise.
  writeFileSync(join(app, 'ghostport-tray'), `#!/bin/sh\n[ "$ELECTRON_RUN_AS_NODE" = 1 ] || { echo 'would start the GUI' >&2; exit 9; }\nexec ${JSON.stringify(process.execPath)} "$@"\n`);
  chmodSync(join(app, 'ghostport-tray'), 0o755);
  mkdirSync(join(app, 'data'));
  const run = (...args: string[]) =>
    spawnSync('deploy/linux/ghostport', args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, GHOSTPORT_APP_DIR: app, GHOSTPORT_DATA_DIR: join(app, 'data') } });
  const version = run('version');
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), `ghostport ${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}`);
  const help = run('help');
  assert.match(help.stdout, /scan/);
  const bad = run('--no-such-option');
  assert.equal(bad.status, 2, 'an error exits 2 through the launcher');
});

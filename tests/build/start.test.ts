/**
 * `npm start` where the Electron binary is missing (as on these build machines): one clear
 * paragraph with the fix and the CLI alternative, exit 1, no stack trace. And the binary
 * lookup itself, on temp copies of the electron package layout.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findElectronBinary } from '../../electron/build/electron-binary.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function fakeRoot(layout: { pathTxt?: string; binary?: string }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ghostport-electron-'));
  dirs.push(root);
  const pkg = join(root, 'node_modules', 'electron');
  await mkdir(join(pkg, 'dist'), { recursive: true });
  await writeFile(join(pkg, 'package.json'), '{"name":"electron","version":"45.5.0"}');
  if (layout.pathTxt !== undefined) await writeFile(join(pkg, 'path.txt'), layout.pathTxt);
  if (layout.binary !== undefined) await writeFile(join(pkg, 'dist', layout.binary), '');
  return root;
}

test('the binary is found where install.js puts it, and each way of missing it is named', async () => {
  const none = await mkdtemp(join(tmpdir(), 'ghostport-electron-'));
  dirs.push(none);
  assert.match((findElectronBinary(none) as { reason: string }).reason, /not installed/);
  assert.match((findElectronBinary(await fakeRoot({})) as { reason: string }).reason, /never downloaded/);
  assert.match((findElectronBinary(await fakeRoot({ pathTxt: 'electron' })) as { reason: string }).reason, /is missing/);
  const root = await fakeRoot({ pathTxt: 'electron', binary: 'electron' });
  assert.deepEqual(findElectronBinary(root), { ok: true, path: join(root, 'node_modules', 'electron', 'dist', 'electron') });
  const override = await mkdtemp(join(tmpdir(), 'ghostport-override-'));
  dirs.push(override);
  await writeFile(join(override, 'electron'), '');
  assert.deepEqual(findElectronBinary(await fakeRoot({ pathTxt: 'electron' }), { ELECTRON_OVERRIDE_DIST_PATH: override }), {
    ok: true,
    path: join(override, 'electron'),
  });
});

test('npm start without the binary: one paragraph, the fix, the CLI alternative, exit 1, no stack', { skip: findElectronBinary(process.cwd()).ok ? 'the Electron binary is installed here' : false }, () => {
  const result = spawnSync('npm', ['start', '--silent'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 1);
  const message = result.stderr.trim();
  assert.equal(message.split('\n').length, 1, `one paragraph, got:\n${message}`);
  assert.match(message, /Electron binary was never downloaded/);
  assert.match(message, /node node_modules\/electron\/install\.js/);
  assert.match(message, /network access/);
  assert.match(message, /npx ghostport watch/);
  assert.doesNotMatch(result.stderr + result.stdout, /\n\s+at |Error:|npm error/);
});

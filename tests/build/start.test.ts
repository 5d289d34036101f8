/**
 * `npm start` where the Electron binary is missing (as on these build machines): one clear
 * paragraph with the fix, then the same window served on loopback HTTP (`ghostport ui`), its
 * address printed. And the binary lookup itself, on temp copies of the electron package layout.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
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

test('npm start without the binary: one paragraph with the fix, then the same window served on loopback HTTP', { skip: findElectronBinary(process.cwd()).ok ? 'the Electron binary is installed here' : false, timeout: 240_000 }, async () => {
  const data = await mkdtemp(join(tmpdir(), 'ghostport-start-'));
  dirs.push(data);
  const child = spawn('npm', ['start', '--silent', '--', '--data-dir', data], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += String(c)));
  child.stderr!.on('data', (c: Buffer) => (err += String(c)));
  try {
    const deadline = Date.now() + 200_000;
    while (!/^http:\/\/127\.0\.0\.1:\d+\/\?token=\S+$/m.test(out)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `no address printed; stderr:\n${err}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const paragraph = err.split('\n')[0]!;
    assert.match(paragraph, /Electron binary was never downloaded/);
    assert.match(paragraph, /node node_modules\/electron\/install\.js/);
    assert.match(paragraph, /served in your browser/);
    assert.doesNotMatch(err + out, /\n\s+at |Error:|npm error/);
    const url = out.trim().split('\n').at(-1)!;
    const exchange = await fetch(url, { redirect: 'manual' });
    assert.equal(exchange.status, 303);
    const cookie = exchange.headers.get('set-cookie')!.split(';')[0]!;
    const page = await fetch(new URL('/', url), { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module"[^>]* src="\.?\/assets\//);
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await once(child, 'exit');
  }
});

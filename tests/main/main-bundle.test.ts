/**
 * Build-time checks of the real main-process and preload bundles (esbuild, as `npm run build`
 * makes them): the security wiring is present, and nothing that weakens it is.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { mainBuildOptions, preloadBuildOptions } from '../../electron/build/build.ts';

let main = '';
let preload = '';

before(async () => {
  const root = process.cwd();
  const [m, p] = await Promise.all([
    build({ ...mainBuildOptions(root), write: false, sourcemap: false, metafile: true }),
    build({ ...preloadBuildOptions(root), write: false, metafile: true }),
  ]);
  main = m.outputFiles[0]!.text;
  preload = p.outputFiles[0]!.text;
});

test('the main bundle wires every security control', () => {
  for (const needle of [
    'enableSandbox()',
    'setWindowOpenHandler(',
    '"will-navigate"',
    '"will-frame-navigate"',
    '"will-redirect"',
    '"will-attach-webview"',
    'setPermissionRequestHandler(',
    'setPermissionCheckHandler(',
    'setDevicePermissionHandler(',
    'registerSchemesAsPrivileged(',
    'protocol.handle(',
    'requestSingleInstanceLock()',
    'setAppUserModelId(',
    'webPreferences: secureWebPreferences(',
    '"Content-Security-Policy"',
  ]) {
    assert.ok(main.includes(needle), `main bundle lacks ${needle}`);
  }
});

test('the main bundle contains nothing that weakens the window', () => {
  for (const bad of [
    /nodeIntegration:\s*true/,
    /contextIsolation:\s*false/,
    /sandbox:\s*false/,
    /webSecurity:\s*false/,
    /openExternal/,
    /sendSync/,
    /ipcMain\.on\(/,
    /loadFile\(|file:\/\//,
    /unsafe-inline|unsafe-eval/,
    /openDevTools/,
  ]) {
    assert.doesNotMatch(main, bad);
  }
});

test('the main bundle loads Electron and npm packages at run time, bundling only our code', () => {
  const imports = [...main.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);
  const external = new Set(imports.filter((s) => !s.startsWith('node:')));
  assert.ok(external.has('electron'));
  for (const name of external) assert.match(name, /^(electron|systeminformation|zod)$/, `unexpected external ${name}`);
});

test('the preload is CommonJS, requires only electron, and exposes exactly one name', () => {
  const requires = [...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(requires)], ['electron']);
  const exposed = [...preload.matchAll(/exposeInMainWorld\("([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(exposed, ['ghostport']);
  assert.doesNotMatch(preload, /exposeInMainWorld\([^)]*ipcRenderer\s*\)/);
  assert.doesNotMatch(preload, /sendSync|\.send\(/);
  // Listeners get the payload, never the IPC event (which would hand the page `sender`).
  assert.match(preload, /\(_event, payload\) => listener\(payload\)/);
  assert.ok(preload.length < 10_000, `the preload stays small (${preload.length} bytes)`);
});

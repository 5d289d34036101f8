/**
 * The packaging configuration, validated by electron-builder's own schema (packaging itself
 * needs the Electron download and cannot run here), with the fuses and the test variant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { APP_USER_MODEL_ID } from '#main/app-identity.ts';

const require = createRequire(import.meta.url);
const CONFIG = join(process.cwd(), 'electron', 'build', 'electron-builder.config.cjs');

interface Config {
  appId: string;
  asar: boolean;
  files: string[];
  directories: { output: string };
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; desktop: { entry: Record<string, string> }; icon: string };
  win: { target: string[] };
  mac: { target: string[] };
}

function load(variant?: string): Config {
  const previous = process.env.GHOSTPORT_BUILD_VARIANT;
  if (variant) process.env.GHOSTPORT_BUILD_VARIANT = variant;
  else delete process.env.GHOSTPORT_BUILD_VARIANT;
  delete require.cache[CONFIG];
  try {
    return require(CONFIG) as Config;
  } finally {
    if (previous === undefined) delete process.env.GHOSTPORT_BUILD_VARIANT;
    else process.env.GHOSTPORT_BUILD_VARIANT = previous;
  }
}

test('electron-builder accepts the configuration (and its validator does reject nonsense)', async () => {
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js');
  const { DebugLogger } = require('builder-util/out/DebugLogger.js');
  const config = await getConfig(process.cwd(), CONFIG, null);
  await validateConfiguration(config, new DebugLogger(false));
  await assert.rejects(validateConfiguration({ ...config, linux: { ...config.linux, bogus: true } }, new DebugLogger(false)), /configuration/i);
});

test('targets: AppImage and deb with a desktop entry and icon, NSIS, dmg; packed in an asar', () => {
  const config = load();
  assert.equal(config.appId, APP_USER_MODEL_ID);
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.equal(config.linux.icon, 'assets/icon.png');
  assert.equal(config.linux.desktop.entry.Name, 'Ghostport');
  assert.match(config.linux.desktop.entry.Categories!, /Network/);
  assert.deepEqual(config.win.target, ['nsis']);
  assert.deepEqual(config.mac.target, ['dmg']);
  assert.equal(config.asar, true);
  for (const needed of ['dist/main/**', 'dist/preload/**', 'dist/renderer/**', 'assets/**']) assert.ok(config.files.includes(needed), needed);
});

test('shipped fuses: no NODE_OPTIONS or inspector; asar integrity and asar-only on; run-as-node for the CLI', () => {
  const fuses = load().electronFuses;
  // /usr/bin/ghostport runs the command line with ELECTRON_RUN_AS_NODE (tests/build/linux-package.test.ts).
  assert.equal(fuses.runAsNode, true);
  assert.equal(fuses.enableNodeOptionsEnvironmentVariable, false);
  assert.equal(fuses.enableNodeCliInspectArguments, false);
  assert.equal(fuses.enableEmbeddedAsarIntegrityValidation, true);
  assert.equal(fuses.onlyLoadAppFromAsar, true);
  assert.equal(fuses.grantFileProtocolExtraPrivileges, false);
});

test('the e2e variant differs only by the inspector fuse (Playwright needs it) and its output folder', () => {
  const shipped = load();
  const e2e = load('e2e');
  assert.equal(e2e.electronFuses.enableNodeCliInspectArguments, true);
  assert.equal(e2e.directories.output, 'release-e2e');
  assert.deepEqual({ ...e2e.electronFuses, enableNodeCliInspectArguments: false }, shipped.electronFuses);
  assert.deepEqual({ ...e2e, electronFuses: shipped.electronFuses, directories: shipped.directories }, shipped);
});

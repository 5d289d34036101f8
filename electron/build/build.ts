/**
 * `npm run build`: bundles the main process (ES module, dependencies left to node_modules) and
 * the preload (CommonJS, self-contained: a sandboxed preload can require nothing but
 * `electron`), compiles the Linux netlink probe helper where a C compiler exists, then builds
 * the window with Vite when its config exists. Output in dist/.
 */
import { build } from 'esbuild';
import type { BuildOptions } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildNative } from './build-native.ts';

/** esbuild options for the main process bundle. */
export function mainBuildOptions(root: string): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: ['electron/main/main.ts'],
    outfile: 'dist/main/main.js',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // electron and the npm dependencies load from node_modules at run time (packed into the
    // asar by electron-builder); only our own modules are bundled.
    packages: 'external',
    external: ['electron'],
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** esbuild options for the preload bundle. */
export function preloadBuildOptions(root: string): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: ['electron/preload/preload.ts'],
    outfile: 'dist/preload/preload.cjs',
    bundle: true,
    platform: 'browser',
    format: 'cjs',
    target: 'chrome140',
    external: ['electron'],
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** Builds everything; returns false (after saying why) when a step fails. */
export async function buildAll(root: string): Promise<boolean> {
  try {
    await build(mainBuildOptions(root));
    await build(preloadBuildOptions(root));
  } catch (error) {
    process.stderr.write(`build: bundling failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return false;
  }
  // The Linux poll's netlink helper; without a C compiler the scanner falls back to ss.
  const native = buildNative(root);
  if (!native.ok) {
    process.stderr.write(`build: ${native.message}\n`);
    if (!native.skipped) return false;
  }
  const viteConfig = join(root, 'renderer', 'vite.config.ts');
  if (existsSync(viteConfig)) {
    const vite = spawnSync('npx', ['vite', 'build', '--config', viteConfig, '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
    if (vite.status !== 0) {
      process.stderr.write('build: vite build of the window failed.\n');
      return false;
    }
  } else {
    process.stderr.write('build: renderer/vite.config.ts not found; the window is not built.\n');
  }
  return true;
}

if (import.meta.main) {
  const ok = await buildAll(process.cwd());
  if (ok) process.stdout.write('build: dist/main/main.js, dist/preload/preload.cjs and dist/renderer/ are ready.\n');
  process.exit(ok ? 0 : 1);
}

/**
 * `npm run build`: bundles the main process (ES module, dependencies left to node_modules) and
 * the preload (CommonJS, self-contained: a sandboxed preload can require nothing but
 * `electron`), compiles the Linux helpers (netlink probe, eBPF) where their tools exist, then builds
 * the window with Vite when its config exists. Output in dist/.
 */
import { build } from 'esbuild';
import type { BuildOptions } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildBpf, buildNative } from './build-native.ts';
import { errorMessage } from '#common/error-message.ts';

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

/**
 * esbuild options for the CLI: our own modules in one CommonJS file, npm packages left to
 * node_modules. CommonJS because there a module's imports run only when the module is first
 * reached (each command is behind a lazy import), where ES modules would load every import up
 * front, zod and all, and Node's ES module loader costs more per file. `npm install` builds it
 * (the prepare script), so `npx ghostport` works on a fresh clone.
 */
export function cliBuildOptions(root: string): BuildOptions {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return {
    absWorkingDir: root,
    entryPoints: ['electron/node/cli/main.ts'],
    outfile: 'dist/cli/ghostport.cjs',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    packages: 'external',
    // The bundle sits two folders below the root, as the sources do: relative URLs still hold.
    banner: { js: "const __ghostportUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { GHOSTPORT_VERSION: JSON.stringify(version), 'import.meta.url': '__ghostportUrl' },
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** Writes the man page and shell completions generated from the CLI's option table (deploy/). */
export async function writeCliReference(root: string): Promise<void> {
  const { referenceFiles } = await import('#node/cli/reference.ts');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  for (const [path, text] of Object.entries(referenceFiles(version))) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** Builds the CLI bundle only (the prepare script: fast, no compiler or Vite needed). */
export async function buildCli(root: string): Promise<void> {
  await build(cliBuildOptions(root));
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
    await buildCli(root);
    await writeCliReference(root);
  } catch (error) {
    process.stderr.write(`build: bundling failed: ${errorMessage(error)}\n`);
    return false;
  }
  // The Linux poll's netlink helper (without a C compiler the scanner falls back to ss) and the
  // eBPF helper of UDP events (without clang, bpftool or libbpf the kernel source is tracefs alone).
  for (const native of [buildNative(root), buildBpf(root)]) {
    if (native.ok) continue;
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

if (import.meta.main && process.argv.includes('--cli')) {
  await buildCli(process.cwd()).catch((error: unknown) => {
    process.stderr.write(`build: bundling the CLI failed: ${errorMessage(error)}\n`);
    process.exit(1);
  });
} else if (import.meta.main) {
  const ok = await buildAll(process.cwd());
  if (ok) process.stdout.write('build: dist/main/main.js, dist/preload/preload.cjs, dist/cli/ghostport.cjs and dist/renderer/ are ready.\n');
  process.exit(ok ? 0 : 1);
}

/**
 * Builds the renderer with the project's vite config, once per test process, so every browser
 * test and the benchmark load exactly what ships.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the built renderer lands. */
export const RENDERER_DIST = fileURLToPath(new URL('../../dist/renderer/', import.meta.url));

let built = false;

/** Runs `vite build` for the renderer (once); throws with vite's output when it fails. */
export function buildRenderer(): string {
  if (built && existsSync(`${RENDERER_DIST}index.html`)) return RENDERER_DIST;
  const result = spawnSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (result.status !== 0) throw new Error(`vite build failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  built = true;
  return RENDERER_DIST;
}

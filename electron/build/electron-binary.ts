/**
 * Where the Electron binary is, found the way node_modules/electron/index.js finds it but
 * without its side effect: requiring that module starts a download when the binary is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The binary's path, or why there is none. */
export type ElectronBinary = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

/** Locates the Electron executable of the `electron` package under `root`/node_modules. */
export function findElectronBinary(root: string, env: NodeJS.ProcessEnv = process.env): ElectronBinary {
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkg, 'package.json'))) return { ok: false, reason: 'the electron package is not installed (run npm install)' };
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) {
    return { ok: false, reason: 'the Electron binary was never downloaded (node_modules/electron/path.txt and dist/ are missing)' };
  }
  const relative = readFileSync(pathFile, 'utf8').trim();
  const binary = env.ELECTRON_OVERRIDE_DIST_PATH ? join(env.ELECTRON_OVERRIDE_DIST_PATH, relative) : join(pkg, 'dist', relative);
  if (!existsSync(binary)) return { ok: false, reason: `the Electron binary ${binary} is missing` };
  return { ok: true, path: binary };
}

/** The one paragraph `npm start` prints when there is no binary: what, why, the fix, the alternative. */
export function missingElectronMessage(reason: string, version: string): string {
  return [
    `Ghostport's desktop app cannot start: ${reason}.`,
    'This happens when `npm install` ran without network access, as on build machines.',
    `To fix it, run \`node node_modules/electron/install.js\` on a machine with network access (it downloads Electron ${version} for this platform), then \`npm start\` again.`,
    'Meanwhile the same window is served in your browser (`npx ghostport ui`, this machine only): open the address printed below. `npx ghostport watch` monitors from the terminal.',
  ].join(' ');
}

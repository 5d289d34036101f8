/**
 * `npm start`: builds, then launches the tray app with the Electron binary. Where the binary is
 * missing (an `npm install` without network), says so in one paragraph with the fix and exits 1.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll } from './build.ts';
import { findElectronBinary, missingElectronMessage } from './electron-binary.ts';

const root = process.cwd();
const binary = findElectronBinary(root);
if (!binary.ok) {
  // Checked before building: no point in a minute of bundling for an app that cannot start.
  const version = (JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
  process.stderr.write(`${missingElectronMessage(binary.reason, version)}\n`);
  process.exit(1);
}
if (!(await buildAll(root))) process.exit(1);
const child = spawn(binary.path, ['.', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

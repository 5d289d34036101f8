/**
 * `npm start`: builds, then launches the tray app with the Electron binary. Where no Electron
 * binary can run (an `npm install` without network, a server), says why in one paragraph and
 * serves the same window in the browser instead (`ghostport ui`, loopback only): its address is
 * printed. Arguments after `--` go to Electron, or to `ghostport ui` (e.g. --http-port 8596).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll } from './build.ts';
import { findElectronBinary, missingElectronMessage } from './electron-binary.ts';

const root = process.cwd();
const binary = findElectronBinary(root);
if (!binary.ok) {
  const version = (JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
  process.stderr.write(`${missingElectronMessage(binary.reason, version)}\n`);
}
if (!(await buildAll(root))) process.exit(1);
const [command, args] = binary.ok ? [binary.path, ['.', ...process.argv.slice(2)]] : [process.execPath, ['electron/node/cli/ghostport.mjs', 'ui', ...process.argv.slice(2)]];
const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

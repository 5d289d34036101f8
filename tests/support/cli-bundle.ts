/** The CLI as users run it: the bin shim over the bundle, rebuilt from the current sources once per test file. */
import { before } from 'node:test';
import { buildCli } from '../../electron/build/build.ts';

/** The `ghostport` executable (package.json "bin"). */
export const BIN = 'electron/node/cli/ghostport.mjs';

/** Registers a `before` hook that bundles the CLI (about 100 ms), so a test never runs a stale bundle. */
export function useFreshCliBundle(): void {
  before(() => buildCli(process.cwd()));
}

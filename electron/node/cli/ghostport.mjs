#!/usr/bin/env node
// The `ghostport` executable. Checks the Node version, turns on Node's module compile cache,
// then runs the bundled CLI (dist/cli/ghostport.cjs, built by `npm install` and `npm run build`),
// or the TypeScript sources where no bundle was built. Any failure exits 2, never 0 or 1.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 16)) {
  process.stderr.write(
    `ghostport: needs Node.js 22.16 or newer (this is ${process.versions.node}).\n` +
      'In a checkout, run it through npm so the project\'s own Node 24 is used: npx ghostport scan\n',
  );
  process.exit(2);
}
try {
  const { createRequire, enableCompileCache } = await import('node:module');
  const require = createRequire(import.meta.url);
  const { homedir } = require('node:os');
  const { join } = require('node:path');
  // The user's own cache folder, never a shared temporary directory (another user could plant
  // code there for root to run).
  const home = process.env.HOME || homedir();
  enableCompileCache?.(join(process.env.XDG_CACHE_HOME || join(home, '.cache'), 'ghostport', 'compile-cache'));
  let cli;
  try {
    cli = require('../../../dist/cli/ghostport.cjs');
  } catch (error) {
    if (error?.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/ghostport.cjs')) throw error;
    cli = await import('./main.ts');
  }
  const { main } = cli;
  await main(process.argv.slice(2));
} catch (error) {
  const debug = process.env.GHOSTPORT_DEBUG === '1';
  process.stderr.write(`ghostport: cannot start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}. Run "npm run build" in the checkout${debug ? '' : ' (GHOSTPORT_DEBUG=1 shows the details)'}.\n`);
  if (debug && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exit(2);
}

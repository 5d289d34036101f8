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
  const home = process.env.HOME || homedir();
  const cache = privateDir(require('node:fs'), require('node:path'), join(process.env.XDG_CACHE_HOME || join(home, '.cache'), 'ghostport', 'compile-cache'));
  if (cache !== null) enableCompileCache?.(cache);
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

/**
 * `dir`, created if need be, when no other user can write to it or to any folder above it, else
 * null. Node runs cached code as it finds it: a cache another user can write to (sudo keeping
 * HOME or XDG_CACHE_HOME, a shared folder) would let them run code as this user, as root.
 */
function privateDir(fs, path, dir) {
  const uid = process.getuid?.();
  if (uid === undefined) return dir; // Windows: the profile's folders are the user's own.
  try {
    let existing = dir;
    while (!fs.existsSync(existing)) existing = path.dirname(existing);
    // Checked where the links lead: this user's or root's, writable by no one else (a sticky
    // folder such as /tmp lets no one else replace what is in it).
    for (let d = fs.realpathSync(existing); ; d = path.dirname(d)) {
      const s = fs.statSync(d);
      if ((s.uid !== uid && s.uid !== 0) || ((s.mode & 0o022) !== 0 && (s.mode & 0o1000) === 0)) return null;
      if (d === path.dirname(d)) break;
    }
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return fs.realpathSync(dir);
  } catch {
    return null;
  }
}

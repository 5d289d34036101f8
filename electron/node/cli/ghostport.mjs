#!/usr/bin/env node
// The `ghostport` executable: checks that this Node can run the TypeScript sources directly
// (type stripping, Node >= 22.18), then hands over to main.ts.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `ghostport: needs Node.js 22.18 or newer (this is ${process.versions.node}).\n` +
      'In a checkout, run it through npm so the project\'s own Node 24 is used: npx ghostport scan\n',
  );
  process.exit(2);
}
const { runCli, flushOutput } = await import('./main.ts');
process.exitCode = await runCli(process.argv.slice(2));
// `watch` resolves only after SIGINT/SIGTERM; exit promptly rather than wait for stray handles,
// but only once stdout has taken everything (a pipe to a slow reader would be cut at 64 KB).
await flushOutput();
process.exit(process.exitCode);

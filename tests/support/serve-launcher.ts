// Child-process entry for serve-process.ts: runs `serve` with the JSON options in argv[2] and
// prints READY when it listens. (The CLI's `ghostport serve` wraps the same runServe.)
import { runServe } from '#node/service/serve.ts';

const code = await runServe(JSON.parse(process.argv[2]!), {
  version: '0.0.0-test',
  ready: (info) => process.stdout.write(`READY ${JSON.stringify(info)}\n`),
}).catch((error: unknown) => {
  process.stderr.write(`ghostport: ${error instanceof Error ? error.message : String(error)}\n`);
  return 2;
});
process.exit(code);

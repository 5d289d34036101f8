/** `ghostport scan`: one look at the watched ports. Exit 0 clear, 1 found, 2 blind or unsure (nothing seen where some tables could not be read). */
import { isListening } from '#common/display-text.ts';
import { mayMissSockets, type PortSocket, type Snapshot } from '#common/model.ts';
import type { CliOptions } from './args.ts';
import { loadConfig } from './config.ts';
import { entryNeedsEvidence } from '#common/allowlist.ts';
import { EXIT } from './args.ts';
import type { CliIo } from './io.ts';
import { formatIssue, formatSnapshot } from './output.ts';
import { connectForCli, scanJson, snapshotViaService, viaLine } from './via-service.ts';

const STATE_FILTERS: Readonly<Record<NonNullable<CliOptions['state']>, (s: PortSocket) => boolean>> = {
  listen: isListening,
  connected: (s) => !isListening(s),
};

/** Runs one scan and prints it; resolves with the exit status. */
export async function scan(options: CliOptions, io: CliIo): Promise<number> {
  const config = await loadConfig(options, io, false);
  const service = await connectForCli(options, io);
  const [{ Engine }, { createOsSource }] = await Promise.all([import('#node/engine.ts'), import('#node/os-source.ts')]);
  // A one-shot scan may wait for the executable's hash and package (the monitor does not): for
  // the details, the JSON, or an allowlist entry that decides by them. The table and the exit
  // status alone need none of it.
  const evidence = options.details || options.json || config.allowlist.some(entryNeedsEvidence) ? { slowBudgetMs: 5000 } : null;
  let snapshot: Snapshot;
  if (service) snapshot = await snapshotViaService(service, options.port);
  else {
    const engine = new Engine({ ports: config.ports, os: createOsSource({ evidence, oneShot: true }) });
    try {
      snapshot = await engine.scanNow();
    } finally {
      await engine.stop();
    }
  }
  const keep = options.state ? STATE_FILTERS[options.state] : null;
  if (keep) snapshot = { ...snapshot, sockets: snapshot.sockets.filter(keep) };
  if (!options.quiet) io.out(options.json ? scanJson(snapshot, service ? 'service' : 'local') : formatSnapshot(snapshot, config.allowed, options.details === true));
  if (service && !options.quiet && !options.json) io.out(viaLine(service));
  for (const issue of snapshot.issues) io.err(formatIssue(issue));
  if (snapshot.health === 'blind') return EXIT.error;
  // Allowlisted programs are listed but are not "something on the port" for scripts.
  if (snapshot.sockets.some((s) => !config.allowed(s))) return EXIT.found;
  // Nothing seen where Ghostport cannot see everything is not a clear: unknown, like blind.
  if (mayMissSockets(snapshot)) {
    io.err('ghostport: nothing was seen, but some socket tables could not be read (above): this is not a clear. Fix what is said above and scan again.\n');
    return EXIT.error;
  }
  return EXIT.clear;
}

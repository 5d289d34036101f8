/**
 * `ghostport watch`: runs the engine until stopped, prints each event as it happens and records
 * it in the history. With --json, a health line at start and on every change of what it can see.
 */
import { toEventJson, toHealthJson } from '#common/cli-json.ts';
import type { HealthIssue, HealthLevel, Snapshot } from '#common/model.ts';
import { describePorts, escapeUnsafe, formatInterval } from '#common/display-text.ts';
import type { CliOptions } from './args.ts';
import { EXIT } from './args.ts';
import { loadConfig } from './config.ts';
import type { CliIo } from './io.ts';
import { formatEvent, issuePrinter } from './output.ts';
import { connectForCli, watchViaService } from './via-service.ts';

/** Watches until SIGINT/SIGTERM (or the reader of stdout goes away); resolves with 0. */
export async function watch(options: CliOptions, io: CliIo): Promise<number> {
  const service = await connectForCli(options, io);
  if (service) return watchViaService(service, options, io);
  const record = options.history !== false;
  const config = await loadConfig(options, io, record);
  const [{ Engine }, history] = await Promise.all([
    import('#node/engine.ts'),
    record ? import('#node/history.ts').then(({ History }) => History.open({ dataDir: config.historyDir, label: 'watch' })) : null,
  ]);
  const out = options.quiet ? () => undefined : io.out;
  const engine = new Engine({ ports: config.ports, intervalMs: config.intervalMs, history });
  let last = '';
  const printIssues = issuePrinter(io.err);
  // What the store has to say (recovered, locked, writable again), the moment it happens.
  const showStoreLog = () => {
    for (const line of history?.takeLog() ?? []) io.err(`ghostport: ${escapeUnsafe(line)}\n`);
  };
  showStoreLog();
  engine.onScan((snapshot, events) => {
    showStoreLog();
    // Health first: a reader learns what Ghostport can see before what it saw.
    const { health, issues } = healthOf(snapshot, history?.issues ?? []);
    const key = `${health}:${issues.map((i) => `${i.code}:${i.message}`).join('|')}`;
    if (key !== last) {
      const before = last;
      last = key;
      if (options.json) out(`${JSON.stringify({ ...toHealthJson(health, issues, snapshot.scannedAt), via: 'local' })}\n`);
      printIssues(issues);
      if (health === 'ok' && before !== '') io.err(`ghostport: ${describePorts(config.ports)}: seeing everything again.\n`);
    }
    for (const e of events) out(options.json ? `${JSON.stringify(toEventJson(e))}\n` : formatEvent(e));
  });
  io.err(`ghostport: watching ${describePorts(config.ports)} every ${formatInterval(config.intervalMs)}${history?.path ? `, recording to ${history.path}` : ''}. Ctrl-C stops.\n`);
  engine.start();
  await io.stopped;
  await engine.stop();
  history?.close();
  return EXIT.clear;
}

/** The stream's health: the scan's, lowered to degraded while the history cannot be stored. */
function healthOf(snapshot: Snapshot, historyIssues: readonly HealthIssue[]): { health: HealthLevel; issues: HealthIssue[] } {
  const issues = [...snapshot.issues, ...historyIssues];
  const health = snapshot.health === 'ok' && historyIssues.length > 0 ? 'degraded' : snapshot.health;
  return { health, issues };
}

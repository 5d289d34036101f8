/**
 * `ghostport history`: recorded events, oldest first, with the gaps in watching; --limit keeps
 * the newest events, --follow waits for more. Read-only: opens the store as a reader that
 * creates, moves and repairs nothing.
 */
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { escapeUnsafe } from '#common/display-text.ts';
import type { HistoryEntry } from '#common/history-query.ts';
import type { CliOptions } from './args.ts';
import { EXIT } from './args.ts';
import { loadConfig } from './config.ts';
import type { CliIo } from './io.ts';
import { formatEntry } from './output.ts';
import { connectForCli, historyViaService } from './via-service.ts';

// How often --follow looks for events recorded by another process (watch, serve, the tray app).
const FOLLOW_POLL_MS = 500;

/** Prints the stored events; resolves with 0 (an unusable store throws: exit 2). */
export async function history(options: CliOptions, io: CliIo): Promise<number> {
  const service = await connectForCli(options, io);
  if (service) return historyViaService(service, options, io);
  const config = await loadConfig(options, io, false);
  const [{ History }, { writeLines }] = await Promise.all([import('#node/history.ts'), import('#node/write-lines.ts')]);
  const sleep = sleeper(io);
  if (!config.dataDirExists && !existsSync(config.historyDir) && !options.follow) {
    if (!options.quiet && !options.json) io.err(`ghostport: nothing recorded yet in ${escapeUnsafe(config.historyDir)} (ghostport watch and the tray app record there).\n`);
    return EXIT.clear;
  }
  const filter = { ...(options.since ? { since: options.since } : {}), ...(options.port ? { ports: [...options.port] } : {}) };
  // Every row is garbage the moment it is written: a young generation grown past its first size
  // buys nothing here and is most of the peak (181 -> 90 MB at 1,000,000 events, npm run bench).
  // V8 reads this flag each time it would grow it, so setting it now takes effect.
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=10');
  let store = History.openReader({ dataDir: config.historyDir });
  let lastSeq = 0;
  let events = 0;
  const emit = async (entries: Iterable<HistoryEntry>) => {
    const lines = (function* () {
      for (const entry of entries) {
        if (entry.kind === 'event') {
          if (entry.event.seq <= lastSeq) continue;
          lastSeq = entry.event.seq;
          events++;
        }
        if (!options.quiet) yield formatEntry(entry, options.json ?? false);
      }
    })();
    if (io.stdout) return writeLines(lines, io.stdout);
    for (const line of lines) io.out(line);
    return true;
  };
  try {
    const all = store.entries(filter);
    if (!(await emit(options.limit === undefined ? all : newestEvents(all, options.limit)))) return EXIT.clear;
    if (events === 0 && !options.follow && !options.quiet && !options.json) io.err('ghostport: no events recorded for that filter.\n');
    // Events a running watcher could not write are in its memory, not here: say so.
    for (const w of options.quiet ? [] : store.stalledWriters(io.now())) {
      io.err(`ghostport: ${escapeUnsafe(w.label)} (pid ${w.pid}) has not been able to write the history since ${w.silentSince} (its store is locked or full); events it saw since then wait in its memory and are not listed here. They are stored once it can write again.\n`);
    }
    while (options.follow && !(await sleep(FOLLOW_POLL_MS))) {
      // A store that did not exist yet (or was read before any writer) is opened again.
      if (store.path === null) {
        store.close();
        store = History.openReader({ dataDir: config.historyDir });
      }
      const fresh = (function* () {
        for (const entry of store.entries(filter, lastSeq)) if (entry.kind === 'event') yield entry;
      })();
      if (!(await emit(fresh))) break;
    }
  } finally {
    store.close();
  }
  return EXIT.clear;
}

/** The newest `limit` events of the stream, oldest first (memory bounded by the limit). */
function newestEvents(entries: Iterable<HistoryEntry>, limit: number): HistoryEntry[] {
  const ring: HistoryEntry[] = [];
  for (const entry of entries) if (entry.kind === 'event' && ring.push(entry) > limit) ring.shift();
  return ring;
}

/** A sleep that ends early, resolving true, once the command is stopped. */
function sleeper(io: CliIo): (ms: number) => Promise<boolean> {
  let stopped = false;
  let wake: (() => void) | null = null;
  void io.stopped.then(() => {
    stopped = true;
    wake?.();
  });
  return (ms) =>
    new Promise((resolve) => {
      if (stopped) return resolve(true);
      const timer = setTimeout(() => resolve(stopped), ms);
      wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
}

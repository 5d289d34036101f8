/**
 * The durable history of events, in SQLite (`node:sqlite`: built into Node 22.13+ and into
 * Electron's Node, so nothing native to build or rebuild for packaging).
 *
 * - `record()` commits before it returns (WAL, synchronous=FULL), so an event that was announced
 *   survives a SIGKILL of any process right after.
 * - An unreadable store (corrupt, truncated, not a database, locked beyond the busy timeout) is
 *   moved aside (never deleted), reported as a `history-recovered` issue, and a fresh one started.
 * - A write that fails for lack of space (or any I/O error) moves the history to memory with a
 *   `history-unavailable` warning: monitoring goes on and nothing already recorded is touched.
 * - Retention (age and count) never deletes events a recent query returned (they are on screen).
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { HealthIssue, PortEvent, PortSocket } from '../common/model.ts';
import type { HistoryPage, HistoryQuery, TimelineBucket, TimelineQuery } from '../common/history-query.ts';

/** File name of the history inside the data directory. */
export const HISTORY_FILE = 'history.db';

/** Retention limits. */
export interface Retention {
  readonly maxAgeDays: number;
  readonly maxEvents: number;
}

/** How to open a history. */
export interface HistoryOptions {
  /** Directory holding history.db; null for an in-memory history. */
  readonly dataDir: string | null;
  /** How long to wait on a lock held by another Ghostport process, in ms. */
  readonly busyTimeoutMs?: number;
}

// How long events returned by a query stay protected from retention.
const PIN_MS = 10 * 60_000;
const DEFAULT_PAGE = 200;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  type TEXT NOT NULL,
  watched_port INTEGER NOT NULL,
  protocol TEXT NOT NULL,
  pid INTEGER,
  process_name TEXT,
  process_path TEXT,
  flapping INTEGER NOT NULL,
  search TEXT NOT NULL,
  event_json TEXT NOT NULL
);
-- (at_ms, type) covers the activity chart's GROUP BY without touching the rows.
CREATE INDEX IF NOT EXISTS events_at_type ON events(at_ms, type);
DROP INDEX IF EXISTS events_at;
CREATE INDEX IF NOT EXISTS events_port_at ON events(watched_port, at_ms);
CREATE INDEX IF NOT EXISTS events_pid ON events(pid);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '1');
`;

/** The event store. */
export class History {
  #db: DatabaseSync;
  #insert: StatementSync;
  readonly #path: string | null;
  readonly #issues: HealthIssue[] = [];
  #inMemory: boolean;
  #pin: { seq: number; until: number } | null = null;
  /** The highest sequence number handed out, so a move to memory continues it rather than reusing 1, 2... */
  #lastSeq: number;

  private constructor(db: DatabaseSync, path: string | null) {
    this.#db = db;
    this.#path = path;
    this.#inMemory = path === null;
    this.#insert = prepareInsert(db);
    const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
    this.#lastSeq = Number(row?.seq ?? 0);
  }

  /** Opens (or creates) the history; never throws for a bad store, it recovers and reports. */
  static open(options: HistoryOptions): History {
    if (options.dataDir === null) return new History(openDatabase(':memory:', 0), null);
    mkdirSync(options.dataDir, { recursive: true });
    const path = join(options.dataDir, HISTORY_FILE);
    const busy = options.busyTimeoutMs ?? 5000;
    try {
      return new History(openDatabase(path, busy), path);
    } catch (error) {
      const reason = describeSqliteError(error);
      let moved: string | null = null;
      try {
        moved = moveAside(path);
        const history = new History(openDatabase(path, busy), path);
        history.#issues.push({
          code: 'history-recovered',
          message: `The history file could not be read (${reason}); it was moved to ${moved} and a new history was started.`,
          hint: 'Nothing was deleted: the old file is kept for inspection or recovery.',
        });
        return history;
      } catch (again) {
        const history = new History(openDatabase(':memory:', 0), null);
        history.#issues.push({
          code: 'history-unavailable',
          message: `The history cannot be stored in ${options.dataDir} (${describeSqliteError(again)}); events are kept in memory until Ghostport restarts.`,
          hint: moved ? `The unreadable file was moved to ${moved}.` : 'Check the permissions and free space of the data directory.',
        });
        return history;
      }
    }
  }

  /** Problems met while opening or writing (recovered store, memory-only mode). */
  get issues(): readonly HealthIssue[] {
    return this.#issues;
  }

  /** Path of the database file, or null when the history lives in memory. */
  get path(): string | null {
    return this.#inMemory ? null : this.#path;
  }

  /** Persists events (one transaction) and returns them with their sequence numbers. */
  record(events: readonly Omit<PortEvent, 'seq'>[]): PortEvent[] {
    if (events.length === 0) return [];
    try {
      return this.#insertAll(events);
    } catch (error) {
      this.#fallBackToMemory(error);
      return this.#insertAll(events);
    }
  }

  #insertAll(events: readonly Omit<PortEvent, 'seq'>[]): PortEvent[] {
    const out: PortEvent[] = [];
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const e of events) {
        const s = e.socket;
        const result = this.#insert.run(
          Date.parse(e.at),
          e.type,
          s.watchedPort,
          s.protocol,
          s.pid,
          s.process?.name ?? null,
          s.process?.path ?? null,
          e.flapping ? 1 : 0,
          searchText(s),
          JSON.stringify(e),
        );
        out.push({ ...e, seq: Number(result.lastInsertRowid) });
      }
      this.#db.exec('COMMIT');
      this.#lastSeq = Math.max(this.#lastSeq, ...out.map((e) => e.seq));
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // The failed statement may already have rolled back.
      }
      throw error;
    }
    return out;
  }

  #fallBackToMemory(error: unknown): void {
    if (this.#inMemory) throw error;
    const reason = describeSqliteError(error);
    try {
      this.#db.close();
    } catch {
      // Closing a database whose disk is full may fail too; the memory store replaces it anyway.
    }
    this.#db = openDatabase(':memory:', 0);
    // Sequence numbers identify events to the window and to `watch --json` readers: never reuse one.
    this.#db.prepare("INSERT INTO sqlite_sequence(name, seq) VALUES ('events', ?)").run(this.#lastSeq);
    this.#insert = prepareInsert(this.#db);
    this.#inMemory = true;
    this.#issues.push({
      code: 'history-unavailable',
      message: `The history could not be written (${reason}); new events are kept in memory until Ghostport restarts.`,
      hint: 'Free some disk space and restart Ghostport; events already stored are safe.',
    });
  }

  /** One page of events matching the filter, with the total. */
  query(q: HistoryQuery = {}): HistoryPage {
    const { where, params } = buildWhere(q);
    const order = q.order === 'asc' ? 'ASC' : 'DESC';
    const limit = q.limit ?? DEFAULT_PAGE;
    const offset = q.offset ?? 0;
    const total = Number((this.#db.prepare(`SELECT COUNT(*) AS n FROM events ${where}`).get(...params) as { n: number }).n);
    const rows = this.#db
      .prepare(`SELECT seq, event_json FROM events ${where} ORDER BY seq ${order} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as { seq: number; event_json: string }[];
    const events = rows.flatMap((r) => decodeRow(r));
    this.#pinEvents(events);
    return { total, offset, events };
  }

  /** Every event matching the filter, oldest first, read in pages (for the CLI and exports). */
  *iterate(q: Omit<HistoryQuery, 'offset' | 'limit' | 'order'> = {}): Generator<PortEvent> {
    let afterSeq = 0;
    for (;;) {
      const { where, params } = buildWhere(q, afterSeq);
      const rows = this.#db
        .prepare(`SELECT seq, event_json FROM events ${where} ORDER BY seq ASC LIMIT 1000`)
        .all(...params) as { seq: number; event_json: string }[];
      if (rows.length === 0) return;
      for (const row of rows) yield* decodeRow(row);
      afterSeq = Number(rows.at(-1)!.seq);
    }
  }

  /** Event counts per time slice, for the activity chart. */
  timeline(q: TimelineQuery): TimelineBucket[] {
    const since = Date.parse(q.since);
    const until = Date.parse(q.until);
    const width = Math.max(1, Math.ceil((until - since) / q.buckets));
    // One index range count per slice: ten times faster at 100,000 events than a GROUP BY on
    // the computed slice, which sorts every row in a temporary B-tree.
    const { where, params } = buildWhere(q.filter ?? {});
    const range = where ? `${where} AND at_ms >= ? AND at_ms < ?` : 'WHERE at_ms >= ? AND at_ms < ?';
    const count = this.#db.prepare(`SELECT type, COUNT(*) AS n FROM events ${range} GROUP BY type`);
    return Array.from({ length: q.buckets }, (_, i) => {
      const start = since + i * width;
      const bucket = { start: new Date(start).toISOString(), appeared: 0, disappeared: 0 };
      for (const row of count.all(...params, start, Math.min(start + width, until)) as { type: string; n: number }[]) {
        if (row.type === 'appeared') bucket.appeared = Number(row.n);
        else if (row.type === 'disappeared') bucket.disappeared = Number(row.n);
      }
      return bucket;
    });
  }

  /** Number of stored events. */
  count(): number {
    return Number((this.#db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n);
  }

  /** Deletes events older than the age limit and beyond the count limit; returns how many. */
  prune(retention: Retention, nowMs = Date.now()): number {
    const cutoffMs = nowMs - retention.maxAgeDays * 86_400_000;
    const keepFrom = this.#db
      .prepare('SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?')
      .get(retention.maxEvents - 1) as { seq: number } | undefined;
    let protectedFrom = Number.MAX_SAFE_INTEGER;
    if (this.#pin && this.#pin.until > nowMs) protectedFrom = this.#pin.seq;
    const bySeq = keepFrom ? Math.min(Number(keepFrom.seq), protectedFrom) : protectedFrom;
    const result = this.#db
      .prepare('DELETE FROM events WHERE (at_ms < ? AND seq < ?) OR seq < ?')
      .run(cutoffMs, protectedFrom, keepFrom ? bySeq : 0);
    return Number(result.changes);
  }

  /** Flushes and closes the store. */
  close(): void {
    try {
      if (!this.#inMemory) this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // A checkpoint is an optimisation; the WAL is replayed on the next open.
    }
    this.#db.close();
  }

  #pinEvents(events: readonly PortEvent[]): void {
    if (events.length === 0) return;
    const lowest = Math.min(...events.map((e) => e.seq));
    const until = Date.now() + PIN_MS;
    this.#pin = this.#pin && this.#pin.until > Date.now() ? { seq: Math.min(this.#pin.seq, lowest), until } : { seq: lowest, until };
  }
}

function openDatabase(path: string, busyTimeoutMs: number): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  try {
    if (path !== ':memory:') {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = FULL');
    }
    const check = db.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
    const verdict = check.map((r) => r.quick_check).join('; ');
    if (verdict !== 'ok') throw new Error(`integrity check failed: ${verdict.slice(0, 200)}`);
    db.exec(SCHEMA);
    // A table of the same name with other columns (a foreign or older file) is unreadable for us.
    db.prepare('SELECT seq, at_ms, type, watched_port, protocol, pid, process_name, process_path, flapping, search, event_json FROM events LIMIT 0').all();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function prepareInsert(db: DatabaseSync): StatementSync {
  return db.prepare(
    'INSERT INTO events (at_ms, type, watched_port, protocol, pid, process_name, process_path, flapping, search, event_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
}

function moveAside(path: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = `${path}.corrupt-${stamp}`;
  renameSync(path, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  return target;
}

/** One line describing a SQLite failure. */
export function describeSqliteError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 300);
}

function searchText(s: PortSocket): string {
  const p = s.process;
  return [p?.name, p?.path, p?.command, p?.user, s.pid, s.localAddress, s.remoteAddress, s.state, s.protocol]
    .filter((v) => v !== null && v !== undefined)
    .join('\n')
    .toLowerCase();
}

function decodeRow(row: { seq: number; event_json: string }): PortEvent[] {
  try {
    const event = JSON.parse(row.event_json) as Omit<PortEvent, 'seq'>;
    return [{ ...event, seq: Number(row.seq) }];
  } catch {
    // A row damaged by hand is skipped rather than failing the whole page.
    return [];
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function buildWhere(q: Omit<HistoryQuery, 'offset' | 'limit' | 'order'>, afterSeq = 0): { where: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (afterSeq > 0) {
    clauses.push('seq > ?');
    params.push(afterSeq);
  }
  if (q.maxSeq !== undefined) {
    clauses.push('seq <= ?');
    params.push(q.maxSeq);
  }
  if (q.since) {
    clauses.push('at_ms >= ?');
    params.push(Date.parse(q.since));
  }
  if (q.until) {
    clauses.push('at_ms < ?');
    params.push(Date.parse(q.until));
  }
  if (q.ports?.length) {
    clauses.push(`watched_port IN (${q.ports.map(() => '?').join(',')})`);
    params.push(...q.ports);
  }
  if (q.protocols?.length) {
    clauses.push(`protocol IN (${q.protocols.map(() => '?').join(',')})`);
    params.push(...q.protocols);
  }
  if (q.types?.length) {
    clauses.push(`type IN (${q.types.map(() => '?').join(',')})`);
    params.push(...q.types);
  }
  if (q.process) {
    if (/^\d+$/.test(q.process)) {
      clauses.push('pid = ?');
      params.push(Number(q.process));
    } else {
      clauses.push('(process_name = ? OR process_path = ?)');
      params.push(q.process, q.process);
    }
  }
  if (q.text) {
    clauses.push("search LIKE ? ESCAPE '\\'");
    params.push(`%${escapeLike(q.text.toLowerCase())}%`);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

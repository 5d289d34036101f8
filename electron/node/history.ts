/**
 * The durable history of events, in SQLite (`node:sqlite`: built into Node 22.13+ and into
 * Electron's Node, so nothing native to build or rebuild for packaging).
 *
 * - Writers (`History.open`): any number of processes on one data dir (the tray app, a `watch`,
 *   the service). Every write goes through one de-duplicating path: the store keeps the set of
 *   sockets it holds open, so a socket's `appeared` and `disappeared` are each stored once,
 *   whoever saw them; a second watcher gets the first one's stored event back (same seq).
 * - A writer registers a watching session (pid, start, heartbeat, clean stop), so gaps in
 *   coverage show in the history. The first writer on a data dir (no other session alive) is
 *   the one that reconciles the history's open sockets with its first full scan.
 * - `record()` commits before it returns (WAL, synchronous=FULL). When the store cannot take a
 *   write (locked by another process, disk full, file-size limit, read-only...), events wait in
 *   memory (bounded, counted in the issue's `pending`) and are written, in order, when a retry
 *   with backoff succeeds: nothing announced is lost, and the issue ends by itself. The waiting
 *   events sit in an in-memory SQLite table of the same shape, so this writer's own queries
 *   (the window, the service's API) list them too, after the stored ones, with seq 0.
 * - "Corrupt" means SQLite said so (SQLITE_CORRUPT, SQLITE_NOTADB, a failed quick_check): only
 *   then does a writer move the file aside (never deleted) and start a new one.
 * - Readers (`History.openReader`) open read-only, create nothing, move nothing, and fail with
 *   a `HistoryError` saying what is wrong.
 * - Retention (age and count) never deletes events a recent query returned (they are on screen).
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HealthIssue, PortEvent, PortSocket } from '#common/model.ts';
import type { CoverageMark, HistoryEntry, HistoryPage, HistoryQuery, TimelineBucket, TimelineQuery } from '#common/history-query.ts';
import { checkDataDir, checkStoreFile, createPrivateFile } from './data-dir.ts';
import { moveAside } from './atomic-file.ts';
import { errorMessage } from '#common/error-message.ts';
import { historyKey } from '#common/socket-identity.ts';
import { completeProcess, LATE_REASON, type LateEvidence } from '#common/late-evidence.ts';

/** File name of the history inside the data directory. */
export const HISTORY_FILE = 'history.db';

/** Retention limits. */
export interface Retention {
  readonly maxAgeDays: number;
  readonly maxEvents: number;
}

/** How to open a history for writing. */
export interface HistoryOptions {
  /** Directory holding history.db; null for an in-memory history. */
  readonly dataDir: string | null;
  /** How long one write waits on another process's lock before the events wait in memory, in ms. */
  readonly busyTimeoutMs?: number;
  /** Who is watching, as shown in the coverage lines ("tray", "watch", "service"). */
  readonly label?: string;
  /** Bound on the events waiting in memory while the store cannot take them. */
  readonly maxPending?: number;
}

/** What went wrong with a store, as far as the user needs to know. */
export type StoreFailure = 'corrupt' | 'busy' | 'read-only' | 'permission' | 'full' | 'file-size-limit' | 'io' | 'other';

/** A store that cannot be read, with the kind of failure (never "corrupt" unless SQLite said so). */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  readonly kind: StoreFailure;
  constructor(kind: StoreFailure, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** The columns every version of the store has (older ones lack socket_id). */
const COLUMNS = 'seq, at_ms, type, watched_port, protocol, pid, process_name, process_path, flapping, search, event_json';
const PIN_MS = 10 * 60_000;
const DEFAULT_PAGE = 200;
const DEFAULT_BUSY_MS = 500;
const DEFAULT_MAX_PENDING = 100_000;
const HEARTBEAT_MS = 10_000;
const MAX_LATE_WAITING = 1000;
// Rows per read: small pages keep few rows alive between collections (116 MB peak RSS at 300,000 events vs 151 MB with 500).
const STREAM_PAGE = 100;

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
  event_json TEXT NOT NULL,
  socket_id TEXT
);
-- (at_ms, type) covers the activity chart's GROUP BY without touching the rows.
CREATE INDEX IF NOT EXISTS events_at_type ON events(at_ms, type);
DROP INDEX IF EXISTS events_at;
CREATE INDEX IF NOT EXISTS events_port_at ON events(watched_port, at_ms);
CREATE INDEX IF NOT EXISTS events_pid ON events(pid);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '1');
-- The sockets the history holds open, with their 'appeared' (kept here past retention): the de-duplicating path.
CREATE TABLE IF NOT EXISTS open_sockets (socket_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, event_json TEXT);
-- Watching sessions: coverage, and which writers are alive.
CREATE TABLE IF NOT EXISTS sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  label TEXT NOT NULL,
  pid INTEGER NOT NULL,
  proc_start TEXT,
  started_ms INTEGER NOT NULL,
  alive_ms INTEGER NOT NULL,
  stopped_ms INTEGER,
  clean INTEGER
);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions(started_ms);
`;

// SQLite's primary result codes (https://sqlite.org/rescode.html) and errno names, by failure.
const SQLITE_FAILURES: Readonly<Record<number, StoreFailure>> = { 3: 'permission', 5: 'busy', 6: 'busy', 8: 'read-only', 10: 'io', 11: 'corrupt', 13: 'full', 14: 'permission', 23: 'permission', 26: 'corrupt' };
const ERRNO_FAILURES: Readonly<Record<string, StoreFailure>> = { EACCES: 'permission', EPERM: 'permission', EROFS: 'read-only', ENOSPC: 'full', EFBIG: 'file-size-limit', EBUSY: 'busy' };

/** Sorts a store failure out of an error from SQLite or the file system. */
export function classifyStoreError(error: unknown, dir: string | null = null): StoreFailure {
  const { errcode, code } = (error ?? {}) as { errcode?: number; code?: string };
  const kind = typeof errcode === 'number' ? (SQLITE_FAILURES[errcode & 0xff] ?? 'other') : (ERRNO_FAILURES[code ?? ''] ?? 'other');
  if ((kind === 'io' || kind === 'full') && fileSizeLimited() && !diskFull(dir)) return 'file-size-limit';
  if (kind === 'io' && diskFull(dir)) return 'full';
  return kind;
}

/** True when this process runs under a file-size limit (`ulimit -f`): SQLite reports it as an I/O error. */
function fileSizeLimited(): boolean {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max file size'));
    return line !== undefined && !/\bunlimited\b/.test(line.slice(0, 45));
  } catch {
    return false;
  }
}

function diskFull(dir: string | null): boolean {
  if (dir === null) return false;
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

const PROBLEMS: Readonly<Record<StoreFailure, (path: string, reason: string) => string>> = {
  busy: (p, r) => `The history ${p} is locked by another process (${r})`,
  'read-only': (p, r) => `The history ${p} is read-only (${r})`,
  permission: (p, r) => `Ghostport is not allowed to write the history ${p} (${r})`,
  full: (p) => `The disk holding the history ${p} is full`,
  'file-size-limit': (p) => `The history ${p} reached this process's file-size limit (ulimit -f)`,
  corrupt: (p, r) => `SQLite reports the history ${p} damaged (${r}); restart Ghostport to move it aside and start a new one`,
  io: (p, r) => `Writing the history ${p} failed (${r})`,
  other: (p, r) => `Writing the history ${p} failed (${r})`,
};

const HINTS: Readonly<Record<StoreFailure, string>> = {
  busy: 'Nothing is lost: Ghostport retries by itself and writes them when the lock clears.',
  'read-only': 'Give Ghostport write access to its data directory, or point --data-dir elsewhere; it retries by itself.',
  permission: 'Give Ghostport write access to its data directory, or point --data-dir elsewhere; it retries by itself.',
  full: 'Free some disk space: Ghostport retries by itself and writes them, nothing already stored is touched.',
  'file-size-limit': 'Raise the limit (ulimit -f) or prune the history; Ghostport retries by itself.',
  corrupt: 'Nothing was moved or deleted while Ghostport runs.',
  io: 'Ghostport retries by itself; events already stored are safe.',
  other: 'Ghostport retries by itself; events already stored are safe.',
};

/** Why a store cannot be read, for readers (who never repair anything). */
const READ_PROBLEMS: Readonly<Record<StoreFailure, (path: string, reason: string) => string>> = {
  ...PROBLEMS,
  busy: (p, r) => `The history ${p} is locked by another process (${r}); try again in a moment.`,
  permission: (p, r) => `Not allowed to read the history ${p} (${r}). Run as its owner or root, or ask for read access.`,
  'read-only': (p, r) => `The history ${p} could not be opened read-only (${r}).`,
  corrupt: (p, r) => `SQLite reports the history ${p} damaged (${r}). Nothing was changed; the next Ghostport watcher moves it aside and starts a new one.`,
  other: (p, r) => `The history ${p} cannot be read (${r}).`,
};

interface Problem {
  readonly kind: StoreFailure;
  readonly reason: string;
}

/** The event store. */
export class History {
  #db: DatabaseSync | null;
  #insert: StatementSync | null = null;
  readonly #path: string | null;
  readonly #dir: string | null;
  readonly #writable: boolean;
  readonly #label: string;
  readonly #busyMs: number;
  readonly #maxPending: number;
  readonly #openIssues: HealthIssue[] = [];
  readonly #log: string[] = [];
  /** Late evidence the store could not take yet (see completeEvidence). */
  #lateWaiting: LateEvidence[] = [];
  /** Events waiting to be written: an in-memory store with the same table, so one WHERE reads both. */
  #waiting: { readonly db: DatabaseSync; readonly insert: StatementSync; count: number } | null = null;
  #dropped = 0;
  #problem: Problem | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #retryMs = 0;
  #heartbeat: NodeJS.Timeout | null = null;
  #session: number | null = null;
  /** Highest seq stored when this writer started: older events are not announced again. */
  #startSeq = 0;
  /** True when no other writer was alive at start: this one reconciles the open sockets. */
  #first = false;
  #reconciled = false;
  #immutable = false;
  #pin: { seq: number; until: number } | null = null;

  private constructor(db: DatabaseSync | null, dir: string | null, writable: boolean, options: Partial<HistoryOptions> = {}) {
    this.#db = db;
    this.#dir = dir;
    this.#path = dir === null ? null : join(dir, HISTORY_FILE);
    this.#writable = writable;
    this.#label = options.label ?? 'ghostport';
    this.#busyMs = options.busyTimeoutMs ?? DEFAULT_BUSY_MS;
    this.#maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    if (db) this.#insert = prepareInsert(db);
  }

  /**
   * Opens (or creates) the history for writing and registers this process's watching session.
   * Throws `UnsafePathError` (from data-dir.ts) for a linked or foreign store; otherwise never
   * throws: a corrupt store is moved aside and reported, any other failure makes events wait in
   * memory while Ghostport retries.
   */
  static open(options: HistoryOptions): History {
    if (options.dataDir === null) {
      const history = new History(openDatabase(':memory:', 0), null, true, options);
      history.#startSession();
      return history;
    }
    const dir = options.dataDir;
    checkDataDir(dir, true);
    const path = join(dir, HISTORY_FILE);
    for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) checkStoreFile(file);
    if (!existsSync(path)) createPrivateFile(path);
    const busy = options.busyTimeoutMs ?? DEFAULT_BUSY_MS;
    let db: DatabaseSync | null = null;
    let problem: Problem | null = null;
    const recovered: HealthIssue[] = [];
    try {
      db = openDatabase(path, busy);
    } catch (error) {
      const kind = classifyStoreError(error, dir);
      if (kind === 'corrupt') {
        const reason = describeSqliteError(error);
        const moved = moveAside(path, new Date(), ['-wal', '-shm']);
        createPrivateFile(path);
        db = openDatabase(path, busy);
        recovered.push({
          code: 'history-recovered',
          message: `SQLite reports the history file damaged (${reason}); it was moved to ${moved} and a new history was started.`,
          hint: 'Nothing was deleted: the old file is kept for inspection or recovery.',
        });
      } else {
        problem = { kind, reason: describeSqliteError(error) };
      }
    }
    const history = new History(db, dir, true, options);
    history.#openIssues.push(...recovered);
    if (db) history.#startSession();
    else history.#fail(problem!);
    return history;
  }

  /**
   * Opens the history read-only: creates, moves and repairs nothing. A missing store reads as
   * empty. Throws `HistoryError` when the store cannot be read, `UnsafePathError` for a link.
   */
  static openReader(options: { readonly dataDir: string }): History {
    const dir = options.dataDir;
    const path = join(dir, HISTORY_FILE);
    if (!checkDataDir(dir, false)) return new History(openDatabase(':memory:', 0), null, false);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) checkStoreFile(file);
    if (!existsSync(path)) return new History(openDatabase(':memory:', 0), null, false);
    const history = new History(null, dir, false);
    history.#openRead();
    return history;
  }

  #openRead(): void {
    const path = this.#path!;
    // Without a -wal file no writer is active, and a plain read-only open would create the -wal
    // and -shm files: read it as immutable instead, and switch when a writer shows up.
    this.#immutable = !existsSync(`${path}-wal`);
    const target = this.#immutable ? new URL(`${pathToFileURL(path).href}?immutable=1`) : path;
    try {
      const db = new DatabaseSync(target, { readOnly: true, timeout: 5000 });
      try {
        db.prepare(`SELECT ${COLUMNS} FROM events LIMIT 0`).all();
      } catch (error) {
        db.close();
        throw error;
      }
      this.#db?.close();
      this.#db = db;
    } catch (error) {
      if (error instanceof HistoryError) throw error;
      const kind = classifyStoreError(error);
      throw new HistoryError(kind, READ_PROBLEMS[kind](path, describeSqliteError(error)));
    }
  }

  /**
   * Problems met while opening or writing (recovered store, events waiting in memory). The text
   * of an issue stays the same while it lasts, so a terminal prints it once; the counts that
   * change are fields (`pending`, `dropped`) for the window and the health JSON.
   */
  get issues(): readonly HealthIssue[] {
    if (!this.#problem) return this.#openIssues;
    return [
      ...this.#openIssues,
      {
        code: this.#problem.kind === 'busy' ? 'history-busy' : 'history-unavailable',
        message: `${PROBLEMS[this.#problem.kind](this.#path ?? 'in memory', this.#problem.reason)}; new events wait in memory until it can be written.`,
        hint: HINTS[this.#problem.kind],
        pending: this.pendingCount,
        ...(this.#dropped > 0 ? { dropped: this.#dropped } : {}),
      },
    ];
  }

  /** Events shown but not yet stored (the store is locked, full or read-only). */
  get pendingCount(): number {
    return this.#waiting?.count ?? 0;
  }

  /** Lines worth telling a terminal user since the last call: the store is writable again (its problem is in `issues`). */
  takeLog(): string[] {
    return this.#log.splice(0);
  }

  /** Path of the database file, or null when the history lives in memory. */
  get path(): string | null {
    return this.#path;
  }

  /**
   * Persists events (one transaction) and returns those to announce, with their sequence
   * numbers: an event another watcher already stored comes back with its seq; one that was
   * stored before this writer started (a socket still open across a restart) is not returned.
   * While the store cannot take writes, the events wait in memory and come back with seq 0.
   */
  record(events: readonly Omit<PortEvent, 'seq'>[]): PortEvent[] {
    if (!this.#writable) throw new Error('This history is open read-only.');
    if (events.length === 0) return [];
    if (this.#problem === null) {
      try {
        return this.#store(events);
      } catch (error) {
        this.#fail({ kind: classifyStoreError(error, this.#dir), reason: describeSqliteError(error) });
      }
    }
    this.#queue(events);
    return events.map((e) => ({ ...e, seq: 0 }));
  }

  /**
   * At the first full scan after start: sockets the history holds open on the watched ports but
   * absent from `sockets` went while Ghostport was not watching; each gets a `disappeared`,
   * stored and returned, saying when it was last seen. Only the first writer on the data dir
   * does this (another one alive has been watching), and only once.
   */
  reconcile(sockets: readonly PortSocket[], ports: readonly number[], at = new Date().toISOString()): PortEvent[] {
    if (this.#reconciled || !this.#first || !this.#db || this.#problem) return [];
    this.#reconciled = true;
    const db = this.#db;
    const present = new Set(sockets.map(historyKey));
    const watched = new Set(ports);
    const lastSeenMs = Number(
      (db.prepare('SELECT MAX(stopped_ms) AS t FROM sessions WHERE stopped_ms IS NOT NULL AND id != ?').get(this.#session ?? 0) as { t: number | null }).t ?? 0,
    );
    const gone = (db.prepare('SELECT seq, event_json FROM open_sockets').all() as { seq: number; event_json: string }[])
      .flatMap((row) => decodeRow(row))
      .filter((e) => !present.has(historyKey(e.socket)) && watched.has(e.socket.watchedPort));
    if (gone.length === 0) return [];
    const lastSeenAt = new Date(Math.max(lastSeenMs, ...gone.map((e) => Date.parse(e.at)))).toISOString();
    return this.record(gone.map((e) => ({ type: 'disappeared', at, socket: e.socket, flapping: false, unwatched: { lastSeenAt } })));
  }

  #store(events: readonly Omit<PortEvent, 'seq'>[]): PortEvent[] {
    const db = this.#db!;
    const out: PortEvent[] = [];
    const openRow = db.prepare('SELECT seq, event_json FROM open_sockets WHERE socket_id = ?');
    const lastOf = db.prepare('SELECT seq, type, at_ms, event_json FROM events WHERE socket_id = ? ORDER BY seq DESC LIMIT 1');
    const changesTo = db.prepare("SELECT seq, event_json FROM events WHERE socket_id = ? AND seq > ? AND type = 'owner-changed' AND pid IS ?");
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const e of events) {
        const key = historyKey(e.socket);
        const open = openRow.get(key) as { seq: number; event_json: string | null } | undefined;
        const last = open ? undefined : (lastOf.get(key) as { seq: number; type: string; at_ms: number; event_json: string } | undefined);
        const duplicate = this.#storedAlready(e, key, open, last, changesTo);
        if (duplicate) {
          // Stored by another watcher during this session: follow it (same seq). Before: old news.
          if (duplicate.seq > this.#startSeq && duplicate.type === e.type) out.push(duplicate);
          continue;
        }
        const seq = insertEvent(this.#insert!, e);
        if (e.type === 'appeared') db.prepare('INSERT OR REPLACE INTO open_sockets(socket_id, seq, event_json) VALUES (?, ?, ?)').run(key, seq, JSON.stringify(e));
        else if (e.type === 'disappeared') db.prepare('DELETE FROM open_sockets WHERE socket_id = ?').run(key);
        out.push({ ...e, seq });
      }
      db.exec('COMMIT');
    } catch (error) {
      rollback(db);
      throw error;
    }
    return out;
  }

  /**
   * The stored event `e` repeats, or null when `e` is new. A repeat: an appearance of a socket
   * already open, or seen late by a slower watcher (its scan read the table before the close but
   * finished after it: a kernel socket, one with an inode, that closed never comes back; without
   * an inode only an older sighting is late); a disappearance or owner change of a socket already
   * closed; a change to an owner already recorded since the socket appeared. An appearance stored
   * without its owner (a watcher without privileges) takes the owner a repeat names.
   */
  #storedAlready(
    e: Omit<PortEvent, 'seq'>,
    key: string,
    open: { seq: number; event_json: string | null } | undefined,
    last: { seq: number; type: string; at_ms: number; event_json: string } | undefined,
    changesTo: StatementSync,
  ): PortEvent | null {
    const stored = (row: { seq: number; event_json: string | null } | undefined) => (row?.event_json ? (decodeRow({ seq: row.seq, event_json: row.event_json })[0] ?? null) : null);
    if (!open) {
      const late = last?.type === 'disappeared' && (e.type !== 'appeared' || last.at_ms >= Date.parse(e.at) || (e.socket.inode ?? 0) > 0);
      return late ? stored(last) : null;
    }
    if (e.type === 'disappeared') return null;
    if (e.type === 'owner-changed') {
      const changes = (changesTo.all(key, open.seq, e.socket.pid) as { seq: number; event_json: string }[]).flatMap((row) => decodeRow(row));
      return changes.find((c) => c.socket.process?.startedAt === e.socket.process?.startedAt) ?? null;
    }
    const first = stored(open);
    if (first && first.socket.pid === null && e.socket.pid !== null) return this.#addOwner(first, e.socket, key);
    return first ?? { ...e, seq: open.seq };
  }

  /** Gives a stored appearance the owner another watcher saw (the first saw none: no privileges). */
  #addOwner(first: PortEvent, socket: PortSocket, key: string): PortEvent {
    const { seq, ...event } = { ...first, socket };
    const json = JSON.stringify(event);
    this.#db!.prepare('UPDATE events SET pid = ?, process_name = ?, process_path = ?, search = ?, event_json = ? WHERE seq = ?').run(socket.pid, socket.process?.name ?? null, socket.process?.path ?? null, searchText(socket), json, seq);
    this.#db!.prepare('UPDATE open_sockets SET event_json = ? WHERE socket_id = ?').run(json, key);
    return { ...event, seq };
  }

  /**
   * Fills in evidence that finished after the events of its process were recorded (a large
   * binary's hash...): each such event is updated in place, stored or waiting, and keeps its seq;
   * the socket's open copy with it. Whichever writer finishes first fills it; the others find
   * nothing waiting. While the store cannot take it (locked...), it is applied again when the
   * waiting events are written. Returns the events completed now (seq 0: waiting).
   */
  completeEvidence(late: LateEvidence): PortEvent[] {
    if (!this.#writable) throw new Error('This history is open read-only.');
    const completed = this.#waiting ? completeRows(this.#waiting.db, late, false) : [];
    const wait = () => (this.#lateWaiting = [...this.#lateWaiting, late].slice(-MAX_LATE_WAITING));
    // As record(): while the store has a problem, nothing waits on its lock here.
    if (this.#problem !== null || !this.#db) wait();
    else {
      try {
        completed.push(...completeRows(this.#db, late));
      } catch (error) {
        wait();
        this.#fail({ kind: classifyStoreError(error, this.#dir), reason: describeSqliteError(error) });
      }
    }
    return completed;
  }

  #queue(events: readonly Omit<PortEvent, 'seq'>[]): void {
    if (!this.#waiting) {
      const db = openDatabase(':memory:', 0);
      this.#waiting = { db, insert: prepareInsert(db), count: 0 };
    }
    const waiting = this.#waiting;
    waiting.db.exec('BEGIN');
    for (const e of events) insertEvent(waiting.insert, e);
    waiting.db.exec('COMMIT');
    waiting.count += events.length;
    const excess = waiting.count - this.#maxPending;
    if (excess > 0) {
      waiting.db.prepare('DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?)').run(excess);
      waiting.count -= excess;
      this.#dropped += excess;
    }
  }

  #fail(problem: Problem): void {
    // On a full disk some writes fail as plain I/O errors (a few bytes freed meanwhile): same cause.
    const same = problem.kind === 'io' && (this.#problem?.kind === 'full' || this.#problem?.kind === 'file-size-limit');
    this.#problem = same ? this.#problem : problem;
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#retryTimer) return;
    const [base, cap] = this.#problem?.kind === 'busy' ? [50, 2000] : [1000, 30_000];
    this.#retryMs = Math.min(cap, this.#retryMs === 0 ? base : this.#retryMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.flush();
    }, this.#retryMs);
    this.#retryTimer.unref();
  }

  /** Writes the events waiting in memory, if the store takes them now; true when none wait. */
  flush(): boolean {
    if (this.#problem === null) return true;
    try {
      if (!this.#db) {
        this.#db = openDatabase(this.#path!, this.#busyMs);
        this.#insert = prepareInsert(this.#db);
        this.#startSession();
      }
      const waiting = this.#waiting;
      const n = this.pendingCount;
      if (waiting) this.#store((waiting.db.prepare('SELECT seq, event_json FROM events ORDER BY seq').all() as { seq: number; event_json: string }[]).flatMap((row) => decodeRow(row, false)).map(({ seq: _, ...event }) => event));
      waiting?.db.close();
      this.#waiting = null;
      for (const late of this.#lateWaiting) completeRows(this.#db, late);
      this.#lateWaiting = [];
      this.#log.push(`The history ${this.#path} is writable again: ${n} waiting ${n === 1 ? 'event was' : 'events were'} stored${this.#dropped ? ` (${this.#dropped} were dropped while waiting)` : ''}.`);
      this.#problem = null;
      this.#dropped = 0;
      this.#retryMs = 0;
      return true;
    } catch (error) {
      this.#fail({ kind: classifyStoreError(error, this.#dir), reason: describeSqliteError(error) });
      return false;
    }
  }

  #startSession(): void {
    const db = this.#db!;
    const now = Date.now();
    db.exec('BEGIN IMMEDIATE');
    try {
      // Sessions whose process is gone ended without a clean stop (killed, crashed, power loss).
      const live = db.prepare('SELECT id, pid, proc_start FROM sessions WHERE stopped_ms IS NULL').all() as { id: number; pid: number; proc_start: string | null }[];
      let others = 0;
      for (const s of live) {
        if (processStart(s.pid) !== null && processStart(s.pid) === s.proc_start) others++;
        else db.prepare('UPDATE sessions SET stopped_ms = alive_ms, clean = 0 WHERE id = ?').run(s.id);
      }
      this.#first = others === 0;
      this.#startSeq = Number((db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM events').get() as { n: number }).n);
      const result = db.prepare('INSERT INTO sessions(label, pid, proc_start, started_ms, alive_ms) VALUES (?, ?, ?, ?, ?)').run(this.#label, process.pid, processStart(process.pid), now, now);
      this.#session = Number(result.lastInsertRowid);
      db.exec('COMMIT');
    } catch (error) {
      rollback(db);
      throw error;
    }
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  #beat(): void {
    if (!this.#db || this.#session === null) return;
    // Not an event: committed without waiting for the disk (a heartbeat lost to a power cut only
    // makes the crash look a few seconds earlier). With the wait, each beat cost an idle watch
    // 0.5-0.8 ms of CPU instead of 0.2 ms, six times a minute.
    const db = this.#db;
    try {
      db.exec('PRAGMA synchronous = NORMAL');
      db.prepare('UPDATE sessions SET alive_ms = ? WHERE id = ?').run(Date.now(), this.#session);
    } catch {
      // A missed heartbeat only makes a later crash look a few seconds earlier.
    } finally {
      try {
        db.exec('PRAGMA synchronous = FULL');
      } catch {
        // The store is gone or broken: every later write finds out and says so.
      }
    }
    if (this.#problem) this.flush();
  }

  /**
   * One page of events matching the filter, with the total. The events waiting in memory count
   * as the newest (they will be stored after every stored one), with seq 0; `maxSeq` bounds the
   * stored ones only.
   */
  query(q: HistoryQuery = {}): HistoryPage {
    const order = q.order === 'asc' ? 'ASC' : 'DESC';
    const limit = q.limit ?? DEFAULT_PAGE;
    const offset = q.offset ?? 0;
    const sources = this.#sources(q);
    if (order === 'DESC') sources.reverse();
    let total = 0;
    let waiting = 0;
    let skip = offset;
    const events: PortEvent[] = [];
    for (const { db, where, params, stored } of sources) {
      const n = Number((db.prepare(`SELECT COUNT(*) AS n FROM events ${where}`).get(...params) as { n: number }).n);
      total += n;
      if (!stored) waiting = n;
      if (events.length < limit && skip < n) {
        const rows = db.prepare(`SELECT seq, event_json FROM events ${where} ORDER BY seq ${order} LIMIT ? OFFSET ?`).all(...params, limit - events.length, skip) as { seq: number; event_json: string }[];
        events.push(...rows.flatMap((r) => decodeRow(r, stored)));
      }
      skip = Math.max(0, skip - n);
    }
    this.#pinEvents(events.filter((e) => e.seq > 0));
    return { total, offset, events, ...(waiting > 0 ? { waiting } : {}) };
  }

  /** Where events are: the store, then the events waiting in memory; each with the filter's WHERE. */
  #sources(q: Omit<HistoryQuery, 'offset' | 'limit' | 'order'>): { db: DatabaseSync; where: string; params: (string | number)[]; stored: boolean }[] {
    const waiting = this.#waiting;
    const sources = this.#db || !waiting ? [{ db: this.#reading(), ...buildWhere(q), stored: true }] : [];
    if (waiting) sources.push({ db: waiting.db, ...buildWhere({ ...q, maxSeq: undefined }), stored: false });
    return sources;
  }

  /**
   * Every event matching the filter, oldest first, read a page at a time (bounded memory), then
   * the events waiting in memory (seq 0). `afterSeq` skips stored events up to it.
   */
  *iterate(q: Omit<HistoryQuery, 'offset' | 'limit' | 'order'> = {}, afterSeq = 0): Generator<PortEvent> {
    const { where, params } = buildWhere(q);
    const sql = `SELECT seq, event_json FROM events WHERE seq > ? ${where.replace('WHERE', 'AND')} ORDER BY seq ASC LIMIT ${STREAM_PAGE}`;
    if (this.#db || !this.#waiting) {
      // One statement for the whole walk: a statement per page would hold native memory until a GC.
      let db = this.#reading();
      let page = db.prepare(sql);
      for (let read = 1; read > 0; ) {
        if (this.#reading() !== db) page = (db = this.#reading()).prepare(sql);
        read = 0;
        // Row by row: a page read whole would keep its rows alive through young-generation collections.
        for (const row of page.iterate(afterSeq, ...params) as Iterable<{ seq: number; event_json: string }>) {
          read++;
          afterSeq = Number(row.seq);
          yield* decodeRow(row);
        }
      }
    }
    // Waiting events, a page at a time by their place in the queue, until none are left (written meanwhile).
    const rest = buildWhere({ ...q, maxSeq: undefined });
    const waitingSql = sql.replace(where.replace('WHERE', 'AND'), rest.where.replace('WHERE', 'AND'));
    for (let after = 0; this.#waiting; ) {
      const rows = this.#waiting.db.prepare(waitingSql).all(after, ...rest.params) as { seq: number; event_json: string }[];
      if (rows.length === 0) return;
      after = Number(rows.at(-1)!.seq);
      for (const row of rows) yield* decodeRow(row, false);
    }
  }

  /**
   * The history as `ghostport history` lists it, oldest first: the events matching the filter,
   * with the moments watching started and stopped in between, so gaps in coverage show.
   * A page at a time: memory stays bounded, and a consumer that stops pulling stops the reads.
   * `afterSeq` starts after an event already listed (`--follow`), without reading the ones before.
   */
  *entries(q: Omit<HistoryQuery, 'offset' | 'limit' | 'order'> = {}, afterSeq = 0): Generator<HistoryEntry> {
    const marks = this.coverage(q.since, q.until);
    let next = 0;
    for (const event of this.iterate(q, afterSeq)) {
      const at = Date.parse(event.at);
      while (next < marks.length && Date.parse(marks[next]!.at) <= at) yield { kind: 'coverage', mark: marks[next++]! };
      yield { kind: 'event', event };
    }
    while (next < marks.length) yield { kind: 'coverage', mark: marks[next++]! };
  }

  /**
   * Watchers that are running but have not written their heartbeat for two beats: their store
   * writes fail (locked or full), so events they saw since `silentSince` wait in their memory,
   * out of this reader's sight. Empty for a store without sessions.
   */
  stalledWriters(now = Date.now()): { label: string; pid: number; silentSince: string }[] {
    let live: { label: string; pid: number; proc_start: string | null; alive_ms: number }[];
    try {
      live = this.#reading().prepare('SELECT label, pid, proc_start, alive_ms FROM sessions WHERE stopped_ms IS NULL AND alive_ms < ?').all(now - 2 * HEARTBEAT_MS) as never;
    } catch {
      return [];
    }
    return live.filter((s) => s.proc_start !== null && processStart(s.pid) === s.proc_start).map((s) => ({ label: s.label, pid: s.pid, silentSince: new Date(s.alive_ms).toISOString() }));
  }

  /** When watching started and stopped in [since, until), oldest first. */
  coverage(since?: string, until?: string): CoverageMark[] {
    const from = since ? Date.parse(since) : 0;
    const to = until ? Date.parse(until) : Number.MAX_SAFE_INTEGER;
    const sessions = this.#sessions(from, to);
    const marks: CoverageMark[] = [];
    for (const s of sessions) {
      const by = { label: s.label, pid: s.pid };
      if (s.started_ms >= from && s.started_ms < to) marks.push({ type: 'watching-started', at: new Date(s.started_ms).toISOString(), ...by });
      if (s.stopped_ms !== null && s.stopped_ms >= from && s.stopped_ms < to) marks.push({ type: 'watching-stopped', at: new Date(s.stopped_ms).toISOString(), ...by, clean: s.clean === 1 });
    }
    return marks.sort((a, b) => a.at.localeCompare(b.at));
  }

  #sessions(from: number, to: number): { label: string; pid: number; started_ms: number; stopped_ms: number | null; alive_ms: number; clean: number | null }[] {
    try {
      return this.#reading()
        .prepare('SELECT label, pid, started_ms, stopped_ms, alive_ms, clean FROM sessions WHERE started_ms < ? AND COALESCE(stopped_ms, ?) >= ? ORDER BY started_ms')
        .all(to, Number.MAX_SAFE_INTEGER, from) as never;
    } catch {
      // A store written by a version without sessions: no coverage known.
      return [];
    }
  }

  /** Event counts per time slice, with how much of each slice nobody was watching, for the activity chart. */
  timeline(q: TimelineQuery): TimelineBucket[] {
    const since = Date.parse(q.since);
    const until = Date.parse(q.until);
    const width = Math.max(1, Math.ceil((until - since) / q.buckets));
    // One index range count per slice: ten times faster at 100,000 events than a GROUP BY on
    // the computed slice, which sorts every row in a temporary B-tree.
    const counts = this.#sources(q.filter ?? {}).map(({ db, where, params }) => {
      const statement = db.prepare(`SELECT type, COUNT(*) AS n FROM events ${where ? `${where} AND` : 'WHERE'} at_ms >= ? AND at_ms < ? GROUP BY type`);
      return (start: number, end: number) => statement.all(...params, start, end) as { type: string; n: number }[];
    });
    const watched = this.#db ? this.#watchedIntervals(since, until) : null;
    return Array.from({ length: q.buckets }, (_, i) => {
      const start = since + i * width;
      const end = Math.min(start + width, until);
      const bucket = { start: new Date(start).toISOString(), appeared: 0, disappeared: 0, unwatchedMs: 0 };
      for (const row of counts.flatMap((count) => count(start, end))) {
        if (row.type === 'appeared') bucket.appeared += Number(row.n);
        else if (row.type === 'disappeared') bucket.disappeared += Number(row.n);
      }
      if (watched) bucket.unwatchedMs = Math.max(0, end - start - watched.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, end) - Math.max(a, start)), 0));
      return bucket;
    });
  }

  /** Merged intervals someone was watching, or null before sessions were recorded (unknown, not a gap). */
  #watchedIntervals(since: number, until: number): [number, number][] | null {
    const first = this.#sessions(0, Number.MAX_SAFE_INTEGER)[0];
    if (!first) return null;
    const now = Date.now();
    // A session without a stop is live while its heartbeat is fresh; otherwise it ended at its last one.
    const spans = this.#sessions(since, until).map((s): [number, number] => [s.started_ms, s.stopped_ms ?? (now - s.alive_ms < 3 * HEARTBEAT_MS ? now : s.alive_ms)]);
    const merged: [number, number][] = [[Number.MIN_SAFE_INTEGER, first.started_ms]];
    for (const [a, b] of spans) {
      const last = merged.at(-1)!;
      if (a <= last[1]) last[1] = Math.max(last[1], b);
      else merged.push([a, b]);
    }
    // Before the first recorded session, coverage is unknown: counted as watched, never as a gap.
    return merged;
  }

  /** Deletes events older than the age limit and beyond the count limit; returns how many. */
  prune(retention: Retention, nowMs = Date.now()): number {
    const db = this.#db;
    if (!db || !this.#writable) return 0;
    const cutoffMs = nowMs - retention.maxAgeDays * 86_400_000;
    const keepFrom = db.prepare('SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?').get(retention.maxEvents - 1) as { seq: number } | undefined;
    let protectedFrom = Number.MAX_SAFE_INTEGER;
    if (this.#pin && this.#pin.until > nowMs) protectedFrom = this.#pin.seq;
    const bySeq = keepFrom ? Math.min(Number(keepFrom.seq), protectedFrom) : protectedFrom;
    // A socket still open keeps its 'appeared' in open_sockets, so a restart can still reconcile it.
    const result = db.prepare('DELETE FROM events WHERE (at_ms < ? AND seq < ?) OR seq < ?').run(cutoffMs, protectedFrom, keepFrom ? bySeq : 0);
    return Number(result.changes);
  }

  /** Writes what waits, records the clean end of this watching session, and closes the store. */
  close(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#retryTimer = this.#heartbeat = null;
    const db = this.#db;
    if (!db) return;
    if (this.#writable) {
      if (this.#problem) this.flush();
      try {
        if (this.#session !== null) db.prepare('UPDATE sessions SET stopped_ms = ?, alive_ms = ?, clean = 1 WHERE id = ?').run(Date.now(), Date.now(), this.#session);
      } catch {
        // Left open, the session reads as "stopped uncleanly at its last heartbeat".
      }
      try {
        if (this.#path) db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      } catch {
        // A checkpoint is an optimisation; the WAL is replayed on the next open.
      }
    }
    db.close();
    this.#db = null;
  }

  /** The connection to read from; a reader of an immutable file switches once a writer shows up. */
  #reading(): DatabaseSync {
    if (this.#immutable && existsSync(`${this.#path}-wal`)) this.#openRead();
    if (this.#db) return this.#db;
    throw new HistoryError(this.#problem?.kind ?? 'other', `${PROBLEMS[this.#problem?.kind ?? 'other'](this.#path ?? '', this.#problem?.reason ?? 'not open')}.`);
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
    if (verdict !== 'ok') throw Object.assign(new Error(`integrity check failed: ${verdict.slice(0, 200)}`), { errcode: 11 });
    db.exec(SCHEMA);
    migrate(db);
    // A table of the same name with other columns (a foreign file) is unreadable for us.
    try {
      db.prepare(`SELECT ${COLUMNS} FROM events LIMIT 0`).all();
    } catch (error) {
      throw Object.assign(new Error(`not a Ghostport history: ${describeSqliteError(error)}`), { errcode: 26 });
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * A store from before the de-duplicating path: index events by socket, and open those whose last
 * event is 'appeared'. A store keyed by the full socket identity (owner included): keyed again
 * by historyKey, the sockets open under two keys (two watchers that saw them differently) kept once.
 */
function migrate(db: DatabaseSync): void {
  const columnsOf = (table: string) => (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);
  const columns = columnsOf('events');
  const done = (step: string) => db.prepare('SELECT 1 FROM meta WHERE key = ?').get(step) !== undefined;
  if (columns.includes('socket_id') && columnsOf('open_sockets').includes('event_json') && done('open_sockets') && done('history_key')) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    if (!done('open_sockets')) migrateOpenSockets(db, columns, columnsOf);
    if (!done('history_key')) {
      db.function('ghostport_history_key', (json) => historyKey((JSON.parse(String(json)) as PortEvent).socket));
      db.exec('UPDATE events SET socket_id = ghostport_history_key(event_json) WHERE socket_id IS NOT NULL');
      // SQLite takes the bare event_json from the row holding MIN(seq): the first appearance.
      db.exec('CREATE TEMP TABLE rekeyed AS SELECT ghostport_history_key(event_json) AS socket_id, MIN(seq) AS seq, event_json FROM open_sockets WHERE event_json IS NOT NULL GROUP BY 1');
      db.exec('DELETE FROM open_sockets');
      db.exec('INSERT INTO open_sockets(socket_id, seq, event_json) SELECT socket_id, seq, event_json FROM temp.rekeyed');
      db.exec('DROP TABLE temp.rekeyed');
      db.exec("INSERT OR REPLACE INTO meta(key, value) VALUES ('history_key', '1')");
    }
    db.exec('COMMIT');
  } catch (error) {
    rollback(db);
    throw error;
  }
}

/** The first migration: a socket column on events, and the open sockets with their 'appeared'. */
function migrateOpenSockets(db: DatabaseSync, columns: readonly string[], columnsOf: (table: string) => string[]): void {
  if (!columnsOf('open_sockets').includes('event_json')) db.exec('ALTER TABLE open_sockets ADD COLUMN event_json TEXT');
  if (!columns.includes('socket_id')) {
    db.exec('ALTER TABLE events ADD COLUMN socket_id TEXT');
    db.exec("UPDATE events SET socket_id = json_extract(event_json, '$.socket.id')");
  }
  db.exec('CREATE INDEX IF NOT EXISTS events_socket ON events(socket_id, seq)');
  // SQLite takes the bare `type` from the row holding MAX(seq).
  db.exec("INSERT OR REPLACE INTO open_sockets(socket_id, seq, event_json) SELECT socket_id, seq, event_json FROM (SELECT socket_id, MAX(seq) AS seq, type, event_json FROM events WHERE socket_id IS NOT NULL GROUP BY socket_id) WHERE type = 'appeared'");
  db.exec('UPDATE open_sockets SET event_json = (SELECT event_json FROM events WHERE events.seq = open_sockets.seq) WHERE event_json IS NULL');
  db.exec("INSERT OR REPLACE INTO meta(key, value) VALUES ('open_sockets', '1')");
}

function rollback(db: DatabaseSync): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // The failed statement may already have rolled back.
  }
}

function prepareInsert(db: DatabaseSync): StatementSync {
  return db.prepare('INSERT INTO events (at_ms, type, watched_port, protocol, pid, process_name, process_path, flapping, search, event_json, socket_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
}

/** Inserts one event with `insert` (from prepareInsert) and returns its seq. */
function insertEvent(insert: StatementSync, e: Omit<PortEvent, 'seq'>): number {
  const s = e.socket;
  const result = insert.run(Date.parse(e.at), e.type, s.watchedPort, s.protocol, s.pid, s.process?.name ?? null, s.process?.path ?? null, e.flapping ? 1 : 0, searchText(s), JSON.stringify(e), historyKey(s));
  return Number(result.lastInsertRowid);
}

/** completeEvidence on one database (the store, or the events waiting in memory: `stored` false). */
function completeRows(db: DatabaseSync, late: LateEvidence, stored = true): PortEvent[] {
  db.exec('BEGIN IMMEDIATE');
  try {
    const rows = db.prepare(`SELECT seq, event_json FROM events WHERE pid = ? AND event_json LIKE ? ESCAPE '\\'`).all(late.pid, `%${escapeLike(LATE_REASON)}%`) as { seq: number; event_json: string }[];
    const updateEvent = db.prepare('UPDATE events SET event_json = ? WHERE seq = ?');
    const updateOpen = db.prepare('UPDATE open_sockets SET event_json = ? WHERE seq = ?');
    const completed: PortEvent[] = [];
    for (const row of rows) {
      const event = decodeRow(row)[0];
      const process = event && completeProcess(event.socket.process, late);
      if (!event || !process) continue;
      const { seq, ...rest } = event;
      const done = { ...rest, socket: { ...rest.socket, process } };
      const json = JSON.stringify(done);
      updateEvent.run(json, seq);
      // The open socket's copy answers other writers' repeats of this appearance.
      updateOpen.run(json, seq);
      completed.push({ ...done, seq: stored ? seq : 0 });
    }
    db.exec('COMMIT');
    return completed;
  } catch (error) {
    rollback(db);
    throw error;
  }
}

/** The start time of a process as the kernel counts it (pid reuse check), or null when it is gone. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    if (process.platform === 'linux') return null;
    try {
      process.kill(pid, 0);
      return 'alive';
    } catch {
      return null;
    }
  }
}

/** One line describing a SQLite failure. */
export function describeSqliteError(error: unknown): string {
  const message = errorMessage(error);
  return message.split('\n')[0]!.slice(0, 300);
}

function searchText(s: PortSocket): string {
  const p = s.process;
  return [p?.name, p?.path, p?.command, p?.user, s.pid, s.localAddress, s.remoteAddress, s.state, s.protocol]
    .filter((v) => v !== null && v !== undefined)
    .join('\n')
    .toLowerCase();
}

/** The event of a row; `stored` false for one waiting in memory (seq 0: it has no place in the history yet). */
function decodeRow(row: { seq: number; event_json: string }, stored = true): PortEvent[] {
  try {
    // Set on the parsed object rather than spread into a copy: one object less per streamed row.
    return [Object.assign(JSON.parse(row.event_json) as Omit<PortEvent, 'seq'>, { seq: stored ? Number(row.seq) : 0 })];
  } catch {
    // A row damaged by hand is skipped rather than failing the whole page.
    return [];
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function buildWhere(q: Omit<HistoryQuery, 'offset' | 'limit' | 'order'>): { where: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  const add = (clause: string, ...values: (string | number)[]) => {
    clauses.push(clause);
    params.push(...values);
  };
  const list = (column: string, values: readonly (string | number)[] | undefined) => {
    if (values?.length) add(`${column} IN (${values.map(() => '?').join(',')})`, ...values);
  };
  if (q.maxSeq !== undefined) add('seq <= ?', q.maxSeq);
  if (q.since) add('at_ms >= ?', Date.parse(q.since));
  if (q.until) add('at_ms < ?', Date.parse(q.until));
  list('watched_port', q.ports);
  list('protocol', q.protocols);
  list('type', q.types);
  if (q.process) {
    if (/^\d+$/.test(q.process)) add('pid = ?', Number(q.process));
    else add('(process_name = ? OR process_path = ?)', q.process, q.process);
  }
  if (q.text) add("search LIKE ? ESCAPE '\\'", `%${escapeLike(q.text.toLowerCase())}%`);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

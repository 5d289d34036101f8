/**
 * History export as CSV or JSON. Pure. CSV follows RFC 4180 (CRLF rows, quotes doubled) and
 * defuses spreadsheet formulas: a process name like `=HYPERLINK(...)` is attacker-chosen text,
 * so any cell starting with = + - @ (or a tab/CR that some spreadsheets skip) gets a leading
 * apostrophe (OWASP "CSV injection").
 */
import type { PortEvent } from './model.ts';

/** Columns of the CSV export, in order. */
export const CSV_COLUMNS = [
  'seq',
  'at',
  'type',
  'protocol',
  'family',
  'local_address',
  'local_port',
  'remote_address',
  'remote_port',
  'state',
  'watched_port',
  'side',
  'pid',
  'process_name',
  'process_path',
  'process_user',
  'process_started_at',
  'parent_pid',
  'command',
  'owner_unknown_reason',
  'flapping',
] as const;

type Cell = string | number | boolean | null | undefined;

/** One event as CSV cells, in CSV_COLUMNS order. */
export function eventToCells(event: PortEvent): readonly Cell[] {
  const s = event.socket;
  const p = s.process;
  return [
    event.seq,
    event.at,
    event.type,
    s.protocol,
    s.family,
    s.localAddress,
    s.localPort,
    s.remoteAddress,
    s.remotePort,
    s.state,
    s.watchedPort,
    s.side,
    s.pid,
    p?.name,
    p?.path,
    p?.user,
    p?.startedAt,
    p?.parentPid,
    p?.command,
    s.ownerUnknownReason,
    event.flapping,
  ];
}

/** One CSV field: formula-neutralised, quoted when it holds a comma, quote or line break. */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  // Only text can carry a formula; numbers (including negative ones) are safe as they are.
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV header line (CRLF-terminated). */
export function csvHeaderLine(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** One event as a CSV line (CRLF-terminated). */
export function csvLine(event: PortEvent): string {
  return `${eventToCells(event).map(csvField).join(',')}\r\n`;
}

/** What a JSON export says about itself. */
export interface ExportMeta {
  readonly exportedAt: string;
  readonly app: string;
  readonly version: string;
  /** The filter the events were selected with. */
  readonly query: unknown;
}

/**
 * The JSON export in pieces, so a large history can be streamed to disk a page at a time:
 * `jsonOpening(meta)`, then `jsonEvent(e, i)` for each event, then `jsonClosing(count)`.
 * Together they make `{ ...meta, "events": [...], "count": n }`.
 */
export function jsonOpening(meta: ExportMeta): string {
  const head = JSON.stringify(meta, null, 2).slice(0, -2);
  return `${head},\n  "events": [`;
}

/** One event of the JSON export; `index` 0 is the first (no leading comma). */
export function jsonEvent(event: PortEvent, index: number): string {
  return `${index === 0 ? '' : ','}\n    ${JSON.stringify(event)}`;
}

/** The end of the JSON export. */
export function jsonClosing(count: number): string {
  return `${count === 0 ? '' : '\n  '}],\n  "count": ${count}\n}\n`;
}

/** A default file name for an export, e.g. `ghostport-events-2026-01-31T10-00-00Z.csv`. */
export function defaultExportFileName(format: 'csv' | 'json', at: Date): string {
  const stamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-');
  return `ghostport-events-${stamp}.${format}`;
}

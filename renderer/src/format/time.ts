/**
 * Times and durations as the window shows them: local wall-clock times in an unambiguous
 * `YYYY-MM-DD HH:MM:SS` shape (this is a forensic tool, dates must not be guessed) and short
 * durations. Pure, so they run under Node in the unit tests.
 */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Local date as `YYYY-MM-DD`. */
export function formatDate(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Local time as `HH:MM:SS`. */
export function formatTimeOfDay(date: Date): string {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Full local timestamp, `YYYY-MM-DD HH:MM:SS`; an em dash for a missing or unreadable time. */
export function formatTimestamp(iso: string | null | undefined): string {
  const date = parseTime(iso);
  return date ? `${formatDate(date)} ${formatTimeOfDay(date)}` : '\u2014';
}

/** A timestamp shortened to the time of day when it is on the same local day as `now`. */
export function formatShortTimestamp(iso: string | null | undefined, now: number): string {
  const date = parseTime(iso);
  if (!date) return '\u2014';
  return formatDate(date) === formatDate(new Date(now)) ? formatTimeOfDay(date) : `${formatDate(date)} ${formatTimeOfDay(date)}`;
}

/** Durations and intervals: one formatter each for the window, the CLI and the evidence text. */
export { formatDuration, formatInterval } from '#common/display-text.ts';

/** How long ago, in words: `just now`, `12 s ago`, `3 min ago`; absolute beyond a day. */
export function formatAgo(iso: string | null | undefined, now: number): string {
  const date = parseTime(iso);
  if (!date) return 'never';
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (seconds < 2) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return formatTimestamp(iso);
}

/** Milliseconds between an ISO time and `now`, or NaN when the time is missing. */
export function elapsedSince(iso: string | null | undefined, now: number): number {
  const date = parseTime(iso);
  return date ? now - date.getTime() : Number.NaN;
}

/** Parses an ISO time; null for anything unreadable. */
export function parseTime(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const time = Date.parse(iso);
  return Number.isNaN(time) ? null : new Date(time);
}

/** Converts an ISO time to the value of an `<input type="datetime-local">` (local, to the second). */
export function toDateTimeLocalValue(iso: string | null): string {
  const date = parseTime(iso);
  return date ? `${formatDate(date)}T${formatTimeOfDay(date)}` : '';
}

/** Converts the value of an `<input type="datetime-local">` back to ISO; null when empty or invalid. */
export function fromDateTimeLocalValue(value: string): string | null {
  if (!value) return null;
  // A datetime-local value has no zone: `new Date(y, m, d, ...)` reads it as local time.
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? '0'));
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}



/**
 * Filters and pages over the stored event history: shared by the SQLite history, the CLI,
 * the IPC contract and the window.
 */
import { z } from 'zod';
import { portSchema } from './settings.ts';
import type { PortEvent } from './model.ts';

const isoDate = z.string().max(64).refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');

/** Schema of a history query: every field optional, sane bounds on each. */
export const historyQuerySchema = z
  .object({
    /** Inclusive lower bound on the event time (ISO-8601). */
    since: isoDate.optional(),
    /** Exclusive upper bound on the event time (ISO-8601). */
    until: isoDate.optional(),
    ports: z.array(portSchema).max(64).optional(),
    protocols: z.array(z.enum(['tcp', 'udp'])).max(2).optional(),
    types: z.array(z.enum(['appeared', 'disappeared', 'owner-changed'])).max(3).optional(),
    /** Exact process name or executable path, or a pid as digits. */
    process: z.string().max(4096).optional(),
    /** Free text, matched case-insensitively against name, path, command, user and addresses. */
    text: z.string().max(1000).optional(),
    /** Newest first (the window) or oldest first (the CLI). */
    order: z.enum(['asc', 'desc']).optional(),
    /** Only events up to this sequence number: pins a view so new events do not shift its pages. */
    maxSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    offset: z.number().int().min(0).max(100_000_000).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();

/** A filter and page over the history. */
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

/** One page of events and the total matching the filter. */
export interface HistoryPage {
  readonly total: number;
  readonly offset: number;
  readonly events: readonly PortEvent[];
  /** Of `total`, the events matching the filter that wait in memory to be written (seq 0, the newest); absent when none. */
  readonly waiting?: number;
}

/** Schema of a timeline request: the filter plus how many buckets to split its range into. */
export const timelineQuerySchema = z
  .object({
    since: isoDate,
    until: isoDate,
    buckets: z.number().int().min(1).max(1000),
    filter: historyQuerySchema.omit({ since: true, until: true, order: true, offset: true, limit: true, maxSeq: true }).optional(),
  })
  .strict();

/** A request for the activity chart. */
export type TimelineQuery = z.infer<typeof timelineQuerySchema>;

/** Event counts in one slice of time. */
export interface TimelineBucket {
  readonly start: string;
  readonly appeared: number;
  readonly disappeared: number;
  /** How much of this slice no Ghostport was watching, in ms (0 where unknown: before coverage was recorded). */
  readonly unwatchedMs?: number;
}

/** A moment watching started or stopped (a watching session of the tray app, a `watch`, the service). */
export interface CoverageMark {
  readonly type: 'watching-started' | 'watching-stopped';
  readonly at: string;
  /** Who was watching: "tray", "watch", "service"... */
  readonly label: string;
  readonly pid: number;
  /** On a stop: false when the watcher did not stop cleanly (killed, crashed); `at` is then its last sign of life. */
  readonly clean?: boolean;
}

/** One line of the listed history: an event, or watching starting or stopping. */
export type HistoryEntry = { readonly kind: 'event'; readonly event: PortEvent } | { readonly kind: 'coverage'; readonly mark: CoverageMark };

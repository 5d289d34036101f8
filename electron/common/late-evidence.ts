/**
 * Evidence that finished after detection (a large binary's hash, the package lookup, the other
 * sockets): what arrives, and the one rule that completes a captured process with it. The
 * history, the engine's snapshot and anything else holding the process apply the same rule.
 */
import type { ProcessInfo } from './model.ts';

/** How `reasons.<field>` begins for a part still being computed when the event was recorded. */
export const LATE_REASON = 'still being computed at detection';

/** The evidence fields that may finish after detection. */
export const LATE_FIELDS = ['exeSha256', 'package', 'otherSockets'] as const;

/** One process's late evidence: each field that missed detection, with its value or why there is none. */
export interface LateEvidence {
  readonly pid: number;
  /** With the pid, the process's identity. */
  readonly startedAt: string;
  /** When it finished (ISO-8601). */
  readonly at: string;
  readonly values: Partial<Pick<ProcessInfo, (typeof LATE_FIELDS)[number]>>;
  /** Why a field that finished has no value (e.g. the process exited before it could be read). */
  readonly reasons: Readonly<Record<string, string>>;
}

/**
 * The process with the late evidence filled in where it was still being computed (value set,
 * reason replaced or removed, `evidenceCompletedAt` set), or null when it is another process or
 * has nothing waiting: applying twice changes nothing.
 */
export function completeProcess(process: ProcessInfo | null | undefined, late: LateEvidence): ProcessInfo | null {
  if (!process || process.pid !== late.pid || process.startedAt !== late.startedAt) return null;
  const waiting = LATE_FIELDS.filter((field) => process.reasons?.[field]?.startsWith(LATE_REASON) && (field in late.values || field in late.reasons));
  if (waiting.length === 0) return null;
  const reasons: Record<string, string> = { ...process.reasons };
  const values: Record<string, unknown> = {};
  for (const field of waiting) {
    delete reasons[field];
    if (late.reasons[field] !== undefined) reasons[field] = late.reasons[field];
    values[field] = late.values[field] ?? null;
  }
  const { reasons: _, ...rest } = process;
  return { ...rest, ...values, ...(Object.keys(reasons).length > 0 ? { reasons } : {}), evidenceCompletedAt: late.at };
}

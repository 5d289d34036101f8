/**
 * The IPC contract: the request table (ipc-api.ts, re-exported here) plus the schemas that
 * validate each request's arguments at every boundary (Electron IPC, the service's socket).
 * Pure (zod and types only).
 */
import { z } from 'zod';
import { historyQuerySchema, timelineQuerySchema } from './history-query.ts';
import { allowlistEntrySchema, settingsPatchSchema } from './settings.ts';
import { REQUESTS } from './ipc-api.ts';
import type { ArgumentKinds, EvidenceTarget, ExportRequest, ProcessRef, RequestArgs, RequestName } from './ipc-api.ts';

export * from './ipc-api.ts';

/** A process identity as a request names it. */
export const processRefSchema = z
  .object({
    pid: z.number().int().min(1).max(4_194_304),
    startedAt: z.string().max(64).nullable(),
  })
  .strict() satisfies z.ZodType<ProcessRef>;

/** Which socket's evidence to export. */
export const evidenceTargetSchema = z
  .object({ process: processRefSchema, socketId: z.string().max(2048).nullable(), seq: z.number().int().min(0).nullable() })
  .strict() satisfies z.ZodType<EvidenceTarget>;

/** Export formats. */
export const exportFormatSchema = z.enum(['csv', 'json']);

/** An export request: the filter currently shown, and a format. */
export const exportRequestSchema = z.object({ query: historyQuerySchema, format: exportFormatSchema }).strict() satisfies z.ZodType<ExportRequest>;

/** One schema per argument kind of the request table. */
const ARGUMENT_SCHEMAS: { readonly [K in keyof ArgumentKinds]: z.ZodType<ArgumentKinds[K]> } = {
  historyQuery: historyQuerySchema,
  timelineQuery: timelineQuerySchema,
  exportRequest: exportRequestSchema,
  settingsPatch: settingsPatchSchema,
  processRef: processRefSchema,
  allowlistEntry: allowlistEntrySchema,
  evidenceTarget: evidenceTargetSchema,
};

/** Each request's arguments as one tuple schema, derived from the table. */
const ARGS_SCHEMAS = Object.fromEntries(
  Object.entries(REQUESTS).map(([name, spec]) => [name, z.tuple(spec.args.map((kind) => ARGUMENT_SCHEMAS[kind]) as [z.ZodType, ...z.ZodType[]])]),
) as unknown as { readonly [M in RequestName]: z.ZodType<RequestArgs<M>> };

/** Validates the raw arguments of a request; a one-line reason when they do not fit. */
export function parseRequestArgs<M extends RequestName>(name: M, args: unknown): { ok: true; args: RequestArgs<M> } | { ok: false; reason: string } {
  const parsed = ARGS_SCHEMAS[name].safeParse(args);
  if (parsed.success) return { ok: true, args: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `argument ${issue.path.join('.')}` : 'arguments';
  return { ok: false, reason: `${where}: ${issue?.message ?? 'invalid'}` };
}

/**
 * User settings: their shape, defaults and validation. Pure; the store that reads and writes
 * the file lives in electron/node/settings-store.ts.
 */
import { z } from 'zod';
import { DEFAULT_INTERVAL_MS, DEFAULT_PORT } from './model.ts';

/** Smallest and largest poll intervals a user may choose, in milliseconds. */
export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 3_600_000;

/** Schema of a port number. */
export const portSchema = z.number().int().min(1).max(65535);

/** One allowlisted program: never notified about on the given port (or any watched port when null). */
export const allowlistEntrySchema = z
  .object({
    /** Executable path when known, else the process name. */
    program: z.string().min(1).max(4096),
    port: portSchema.nullable(),
  })
  .strict();

/** A program the user chose not to be alerted about. */
export type AllowlistEntry = z.infer<typeof allowlistEntrySchema>;

/** Schema of the whole settings document (strict: unknown keys are an error). */
export const settingsSchema = z
  .object({
    ports: z.array(portSchema).min(1).max(64),
    intervalMs: z.number().int().min(MIN_INTERVAL_MS).max(MAX_INTERVAL_MS),
    notifications: z
      .object({
        enabled: z.boolean(),
        onAppeared: z.boolean(),
        onDisappeared: z.boolean(),
      })
      .strict(),
    startAtLogin: z.boolean(),
    allowlist: z.array(allowlistEntrySchema).max(1000),
    retention: z
      .object({
        maxAgeDays: z.number().int().min(1).max(3650),
        maxEvents: z.number().int().min(100).max(5_000_000),
      })
      .strict(),
  })
  .strict();

/** Every user setting. */
export type Settings = z.infer<typeof settingsSchema>;

/** What a fresh install uses. */
export const DEFAULT_SETTINGS: Settings = {
  ports: [DEFAULT_PORT],
  intervalMs: DEFAULT_INTERVAL_MS,
  notifications: { enabled: true, onAppeared: true, onDisappeared: false },
  startAtLogin: false,
  allowlist: [],
  retention: { maxAgeDays: 90, maxEvents: 100_000 },
};

/** Schema of a partial update sent by the window: any top-level subset. */
export const settingsPatchSchema = settingsSchema.partial().strict();

/** A partial update of the settings. */
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

/** Result of validating untrusted settings data. */
export type SettingsParse =
  | { readonly ok: true; readonly settings: Settings }
  | { readonly ok: false; readonly reason: string };

/** Validates untrusted data as a settings document, with a one-line reason on failure. */
export function parseSettings(data: unknown): SettingsParse {
  const parsed = settingsSchema.safeParse(data);
  if (parsed.success) return { ok: true, settings: { ...parsed.data, ports: dedupePorts(parsed.data.ports) } };
  return { ok: false, reason: describeZodError(parsed.error) };
}

/** Applies a validated patch to settings. */
export function applySettingsPatch(settings: Settings, patch: SettingsPatch): Settings {
  const next = { ...settings, ...patch };
  return { ...next, ports: dedupePorts(next.ports) };
}

function dedupePorts(ports: readonly number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** Turns a zod error into one short line: the first problem and where it is. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid value';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'value';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${where}: ${issue.message}${more}`;
}

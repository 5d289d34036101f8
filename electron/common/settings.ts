/**
 * User settings: their shape, defaults and validation. Pure; the store that reads and writes
 * the file lives in electron/node/settings-store.ts.
 */
import { z } from 'zod';
import { DEFAULT_INTERVAL_MS, DEFAULT_PORT, MAX_INTERVAL_MS, MIN_INTERVAL_MS } from './model.ts';
import { normalizePorts } from './ports.ts';

export { MAX_INTERVAL_MS, MIN_INTERVAL_MS };

/** Schema of a port number. */
export const portSchema = z.number().int().min(1).max(65535);

const text = z.string().min(1).max(4096);
const scope = { port: portSchema.nullable() };

/**
 * One allowlist entry (settings version 2): by executable hash, package, path plus leading
 * arguments, user, unit or (from version 1) bare name; on one port, or any watched port when
 * `port` is null. Matching lives in allowlist.ts.
 */
export const allowlistEntrySchema = z.discriminatedUnion('by', [
  z.object({ by: z.literal('hash'), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex SHA-256'), ...scope }).strict(),
  z.object({ by: z.literal('package'), manager: z.enum(['dpkg', 'rpm']), name: text, ...scope }).strict(),
  /** `argsPrefix`: the first arguments after the program name that must match (none: any arguments). */
  z.object({ by: z.literal('path'), path: text, argsPrefix: z.array(z.string().max(4096)).max(32), ...scope }).strict(),
  z.object({ by: z.literal('user'), user: text, ...scope }).strict(),
  z.object({ by: z.literal('unit'), unit: text, ...scope }).strict(),
  z.object({ by: z.literal('name'), name: text, ...scope }).strict(),
]);

/** A program the user chose not to be alerted about. */
export type AllowlistEntry = z.infer<typeof allowlistEntrySchema>;

/** The settings format this build writes; older files are migrated on load. */
export const SETTINGS_VERSION = 2;

/** Schema of the whole settings document (strict: unknown keys are an error). */
export const settingsSchema = z
  .object({
    version: z.literal(SETTINGS_VERSION),
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
  version: SETTINGS_VERSION,
  ports: [DEFAULT_PORT],
  intervalMs: DEFAULT_INTERVAL_MS,
  notifications: { enabled: true, onAppeared: true, onDisappeared: false },
  startAtLogin: false,
  allowlist: [],
  retention: { maxAgeDays: 90, maxEvents: 100_000 },
};

/** Schema of a partial update sent by the window: any top-level subset. */
export const settingsPatchSchema = settingsSchema.omit({ version: true }).partial().strict();

/** A partial update of the settings. */
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

/** Result of validating untrusted settings data. */
export type SettingsParse =
  | { readonly ok: true; readonly settings: Settings }
  | { readonly ok: false; readonly reason: string };

/** Validates untrusted data as a settings document, with a one-line reason on failure. */
export function parseSettings(data: unknown): SettingsParse {
  const parsed = settingsSchema.safeParse(migrateSettings(data));
  if (parsed.success) return { ok: true, settings: { ...parsed.data, ports: normalizePorts(parsed.data.ports) } };
  return { ok: false, reason: describeZodError(parsed.error) };
}

// Each step takes a document of version N (no `version` key means 1) to N + 1.
const MIGRATIONS: Readonly<Record<number, (doc: Record<string, unknown>) => Record<string, unknown>>> = {
  1: (doc) => ({
    ...doc,
    allowlist: Array.isArray(doc.allowlist) ? doc.allowlist.map((e) => {
      const v1 = v1EntrySchema.safeParse(e);
      return v1.success ? migrateEntryV1(v1.data) : e;
    }) : doc.allowlist,
  }),
};

const v1EntrySchema = z.object({ program: text, port: portSchema.nullable() }).strict();

/** A version-1 entry (`program`: an executable path, or a bare process name) as a version-2 entry. */
function migrateEntryV1(entry: z.infer<typeof v1EntrySchema>): AllowlistEntry {
  const isPath = entry.program.includes('/') || entry.program.includes('\\');
  return isPath ? { by: 'path', path: entry.program, argsPrefix: [], port: entry.port } : { by: 'name', name: entry.program, port: entry.port };
}

/** Brings an older settings document up to SETTINGS_VERSION (anything else passes through to validation). */
export function migrateSettings(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  let doc = data as Record<string, unknown>;
  let version = doc.version === undefined ? 1 : typeof doc.version === 'number' ? doc.version : Number.NaN;
  for (let step = MIGRATIONS[version]; step; step = MIGRATIONS[version]) {
    version += 1;
    doc = { ...step(doc), version };
  }
  return doc;
}

/** Applies a validated patch to settings. */
export function applySettingsPatch(settings: Settings, patch: SettingsPatch): Settings {
  const next = { ...settings, ...patch };
  return { ...next, ports: normalizePorts(next.ports) };
}

/** Turns a zod error into one short line: the first problem and where it is. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid value';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'value';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${where}: ${issue.message}${more}`;
}

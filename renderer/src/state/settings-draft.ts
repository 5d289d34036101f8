/**
 * The settings form: what the inputs hold (text, so a half-typed value is not lost) and how it
 * turns back into a `SettingsPatch`, with a message per field the user must fix. Pure. The
 * main process validates again; this only gives fast, specific feedback.
 */
import type { Settings, SettingsPatch } from '#common/settings.ts';

/** Bounds the form checks; the schema in electron/common/settings.ts is the authority. */
export const SETTINGS_LIMITS = {
  minIntervalSeconds: 0.25,
  maxIntervalSeconds: 3600,
  maxPorts: 64,
  minRetentionDays: 1,
  maxRetentionDays: 3650,
  minRetentionEvents: 100,
  maxRetentionEvents: 5_000_000,
} as const;

/** The form's fields, as typed. */
export interface SettingsDraft {
  readonly ports: string;
  readonly intervalSeconds: string;
  readonly notificationsEnabled: boolean;
  readonly notifyAppeared: boolean;
  readonly notifyDisappeared: boolean;
  readonly startAtLogin: boolean;
  readonly retentionDays: string;
  readonly retentionEvents: string;
}

/** A field of the form. */
export type DraftField = keyof SettingsDraft;

/** Either the patch to send or what to fix. */
export type DraftParse =
  | { readonly ok: true; readonly patch: SettingsPatch }
  | { readonly ok: false; readonly errors: Readonly<Partial<Record<DraftField, string>>> };

/** The form filled from the current settings. */
export function draftFromSettings(settings: Settings): SettingsDraft {
  return {
    ports: settings.ports.join(', '),
    intervalSeconds: String(settings.intervalMs / 1000),
    notificationsEnabled: settings.notifications.enabled,
    notifyAppeared: settings.notifications.onAppeared,
    notifyDisappeared: settings.notifications.onDisappeared,
    startAtLogin: settings.startAtLogin,
    retentionDays: String(settings.retention.maxAgeDays),
    retentionEvents: String(settings.retention.maxEvents),
  };
}

/** Parses the form into the patch that would make the settings match it (only changed groups). */
export function parseDraft(draft: SettingsDraft, current: Settings): DraftParse {
  const errors: Partial<Record<DraftField, string>> = {};
  const ports = parsePorts(draft.ports);
  if (typeof ports === 'string') errors.ports = ports;
  const seconds = parseNumber(draft.intervalSeconds);
  if (seconds === null || seconds < SETTINGS_LIMITS.minIntervalSeconds || seconds > SETTINGS_LIMITS.maxIntervalSeconds) {
    errors.intervalSeconds = `Enter a number of seconds from ${SETTINGS_LIMITS.minIntervalSeconds} to ${SETTINGS_LIMITS.maxIntervalSeconds}.`;
  }
  const days = parseNumber(draft.retentionDays);
  if (days === null || !Number.isInteger(days) || days < SETTINGS_LIMITS.minRetentionDays || days > SETTINGS_LIMITS.maxRetentionDays) {
    errors.retentionDays = `Enter whole days from ${SETTINGS_LIMITS.minRetentionDays} to ${SETTINGS_LIMITS.maxRetentionDays}.`;
  }
  const events = parseNumber(draft.retentionEvents.replace(/[\s,_]/g, ''));
  if (events === null || !Number.isInteger(events) || events < SETTINGS_LIMITS.minRetentionEvents || events > SETTINGS_LIMITS.maxRetentionEvents) {
    errors.retentionEvents = `Enter a whole number from ${SETTINGS_LIMITS.minRetentionEvents} to ${SETTINGS_LIMITS.maxRetentionEvents.toLocaleString('en-US')}.`;
  }
  if (Object.keys(errors).length > 0 || typeof ports === 'string' || seconds === null || days === null || events === null) {
    return { ok: false, errors };
  }
  const patch: { -readonly [K in keyof SettingsPatch]: SettingsPatch[K] } = {};
  if (ports.join(',') !== current.ports.join(',')) patch.ports = ports;
  const intervalMs = Math.round(seconds * 1000);
  if (intervalMs !== current.intervalMs) patch.intervalMs = intervalMs;
  const notifications = { enabled: draft.notificationsEnabled, onAppeared: draft.notifyAppeared, onDisappeared: draft.notifyDisappeared };
  const n = current.notifications;
  if (notifications.enabled !== n.enabled || notifications.onAppeared !== n.onAppeared || notifications.onDisappeared !== n.onDisappeared) {
    patch.notifications = notifications;
  }
  if (draft.startAtLogin !== current.startAtLogin) patch.startAtLogin = draft.startAtLogin;
  if (days !== current.retention.maxAgeDays || events !== current.retention.maxEvents) patch.retention = { maxAgeDays: days, maxEvents: events };
  return { ok: true, patch };
}

/** Ports typed as `596, 8080`: sorted, without duplicates; a message when any is not a port. */
export function parsePorts(text: string): number[] | string {
  const parts = text.split(/[\s,;]+/).filter((part) => part !== '');
  if (parts.length === 0) return 'Watch at least one port.';
  const ports = new Set<number>();
  for (const part of parts) {
    const port = /^\d{1,5}$/.test(part) ? Number(part) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) return `\u201C${part.slice(0, 20)}\u201D is not a port number (1\u201365535).`;
    ports.add(port);
  }
  if (ports.size > SETTINGS_LIMITS.maxPorts) return `Watch at most ${SETTINGS_LIMITS.maxPorts} ports.`;
  return [...ports].sort((a, b) => a - b);
}

function parseNumber(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/**
 * The tray as data: its state, icon, tooltip and menu, derived from the app state. Pure, so
 * "which state", "which words" and "which items" are unit-tested; the Electron adapter only
 * turns this model into a Tray and a Menu (and can skip the work when the model is unchanged).
 */
import { isSocketAllowed } from './allowlist.ts';
import { displayText, describeEndpoint, describeOwnerShort, describePorts, describeWhere } from './display-text.ts';
import type { AppState, OpenTarget } from './ipc-contract.ts';
import type { PortSocket } from './model.ts';
import { openTargetForSocket } from './open-target.ts';

/**
 * What the tray shows, by precedence: paused (the user chose it; nothing is being watched),
 * error (scans fail, so anything shown is stale), alert (something not allowlisted is on a
 * watched port), degraded (blind or owners hidden: must never look clear), clear.
 */
export type TrayState = 'clear' | 'alert' | 'paused' | 'degraded' | 'error';

/** Every tray state, for icon generation and tests. */
export const TRAY_STATES: readonly TrayState[] = ['clear', 'alert', 'paused', 'degraded', 'error'];

/** What a tray menu item does when clicked. */
export type TrayCommand =
  | { readonly type: 'open-window' }
  | { readonly type: 'open-target'; readonly target: OpenTarget }
  | { readonly type: 'scan-now' }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'set-notifications'; readonly enabled: boolean }
  | { readonly type: 'set-start-at-login'; readonly enabled: boolean }
  | { readonly type: 'quit' };

/** One line of the tray menu. Labels are final: `&` is already doubled (Electron reads `&x` as a mnemonic). */
export type TrayMenuItem =
  | { readonly kind: 'label'; readonly label: string }
  | { readonly kind: 'separator' }
  | { readonly kind: 'action'; readonly label: string; readonly command: TrayCommand }
  | { readonly kind: 'checkbox'; readonly label: string; readonly checked: boolean; readonly command: TrayCommand };

/** Everything the tray shows. */
export interface TrayModel {
  readonly state: TrayState;
  /** Tooltip, at most TOOLTIP_MAX characters (Windows truncates longer ones). */
  readonly tooltip: string;
  readonly menu: readonly TrayMenuItem[];
}

/** Windows limits tray tooltips to 127 characters (NOTIFYICONDATA.szTip holds 128 with the NUL). */
export const TOOLTIP_MAX = 127;

/** Tuning of the model. */
export interface TrayModelOptions {
  /** Most sockets listed in the menu before "N more…". */
  readonly maxMenuSockets?: number;
}

/** The tray's state for an app state. */
export function deriveTrayState(app: AppState, options: TrayModelOptions = {}): TrayState {
  if (app.status.paused) return 'paused';
  if (app.status.consecutiveFailures > 0) return 'error';
  const snapshot = app.snapshot;
  if (!snapshot) return app.status.lastError ? 'error' : 'degraded';
  if (alertingSockets(app, options).length > 0) return 'alert';
  if (snapshot.health !== 'ok') return 'degraded';
  return 'clear';
}

/** Builds the whole tray model. */
export function buildTrayModel(app: AppState, options: TrayModelOptions = {}): TrayModel {
  const state = deriveTrayState(app, options);
  const line = describeState(app, state, options);
  const maxSockets = options.maxMenuSockets ?? 8;
  const sockets = app.snapshot?.sockets ?? [];
  const menu: TrayMenuItem[] = [{ kind: 'label', label: menuLabel(line) }];
  for (const socket of sockets.slice(0, maxSockets)) {
    const allowlisted = isSocketAllowed(app.settings.allowlist, socket, app.platform);
    menu.push({
      kind: 'action',
      label: menuLabel(`${describeOwnerShort(socket)} · ${describeEndpoint(socket)}${allowlisted ? ' (allowlisted)' : ''}`),
      command: { type: 'open-target', target: openTargetForSocket(socket) },
    });
  }
  if (sockets.length > maxSockets) {
    menu.push({ kind: 'action', label: `${sockets.length - maxSockets} more…`, command: { type: 'open-window' } });
  }
  const notificationsLabel = app.notificationsSupported ? 'Notifications' : 'Notifications (unavailable on this desktop)';
  menu.push(
    { kind: 'separator' },
    { kind: 'action', label: 'Open Ghostport', command: { type: 'open-window' } },
    { kind: 'action', label: 'Scan now', command: { type: 'scan-now' } },
    app.status.paused
      ? { kind: 'action', label: 'Resume monitoring', command: { type: 'resume' } }
      : { kind: 'action', label: 'Pause monitoring', command: { type: 'pause' } },
    { kind: 'separator' },
    {
      kind: 'checkbox',
      label: notificationsLabel,
      checked: app.settings.notifications.enabled,
      command: { type: 'set-notifications', enabled: !app.settings.notifications.enabled },
    },
    {
      kind: 'checkbox',
      label: 'Start at login',
      checked: app.settings.startAtLogin,
      command: { type: 'set-start-at-login', enabled: !app.settings.startAtLogin },
    },
    { kind: 'separator' },
    { kind: 'action', label: 'Quit Ghostport', command: { type: 'quit' } },
  );
  return { state, tooltip: truncate(line, TOOLTIP_MAX), menu };
}

/** Sockets that make the tray alert: live on a watched port and not allowlisted. */
export function alertingSockets(app: AppState, options: TrayModelOptions = {}): readonly PortSocket[] {
  return (app.snapshot?.sockets ?? []).filter((s) => !isSocketAllowed(app.settings.allowlist, s, app.platform));
}

function describeState(app: AppState, state: TrayState, options: TrayModelOptions): string {
  const ports = app.snapshot?.ports ?? app.status.ports;
  const where = describePorts(ports.length > 0 ? ports : app.settings.ports);
  const Where = where.charAt(0).toUpperCase() + where.slice(1);
  const firstIssue = app.snapshot?.issues[0];
  switch (state) {
    case 'paused':
      return `Monitoring paused: ${where} not watched`;
    case 'error':
      return `Scanning ${where} fails: ${displayText(app.status.lastError ?? 'unknown error', 80)}`;
    case 'alert': {
      const sockets = alertingSockets(app, options);
      const owners = [...new Set(sockets.map((s) => `${describeOwnerShort(s)}${describeWhere(s)}`))];
      const noun = sockets.length === 1 ? 'socket' : 'sockets';
      return `${sockets.length} ${noun} on ${where}: ${owners.join(', ')}`;
    }
    case 'degraded':
      if (!app.snapshot) return `Starting: first scan of ${where} pending`;
      if (app.snapshot.health === 'blind') {
        return `Cannot see sockets on ${where}${firstIssue ? `: ${displayText(firstIssue.message, 90)}` : ''}`;
      }
      return `${Where} clear as far as visible: ${firstIssue ? displayText(firstIssue.message, 90) : 'some details are hidden'}`;
    case 'clear': {
      const allowlisted = app.snapshot?.sockets.length ?? 0;
      return allowlisted > 0 ? `${Where} clear (${allowlisted} allowlisted)` : `${Where} clear`;
    }
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function menuLabel(text: string): string {
  return truncate(text, 100).replaceAll('&', '&&');
}

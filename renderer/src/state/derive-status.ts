/**
 * What the header says: one verdict about the watched ports plus the banners that explain
 * why the verdict may be incomplete. Pure; derived from `AppState` on every render.
 */
import type { HealthIssue } from '#common/model.ts';
import type { AppState, EngineSource } from '#common/ipc-contract.ts';
import { isSocketAllowed } from '#common/allowlist.ts';
import { describePorts, issueHint } from '#common/display-text.ts';

/** The colour and icon of the verdict. */
export type StatusTone = 'loading' | 'clear' | 'alert' | 'allowed' | 'blind' | 'paused';

/** One banner under the header: what is wrong and what to do. */
export interface StatusBanner {
  readonly id: string;
  readonly severity: 'info' | 'warning' | 'error';
  readonly message: string;
  readonly hint: string | null;
  /** An action the banner offers, handled by the header. */
  readonly action: 'resume' | 'scan' | null;
}

/** The header's verdict. */
export interface DerivedStatus {
  readonly tone: StatusTone;
  readonly title: string;
  readonly detail: string;
  readonly socketCount: number;
  readonly allowedCount: number;
  readonly paused: boolean;
  /** The last scan is older than a few intervals although monitoring is not paused. */
  readonly stale: boolean;
  readonly banners: readonly StatusBanner[];
}

const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

/**
 * Derives the header's verdict and banners from the app state at time `now`. Paused shows as
 * paused (not in the colours of the last state, which may be long out of date), saying what the
 * last scan found.
 */
export function deriveStatus(app: AppState | null, now: number): DerivedStatus {
  const verdict = deriveVerdict(app, now);
  if (!verdict.paused || verdict.tone === 'loading') return verdict;
  const ports = app?.snapshot?.ports ?? app?.status.ports ?? [];
  return { ...verdict, tone: 'paused', title: 'Paused', detail: `Not watching ${describePorts(ports)}. The last scan found: ${verdict.title.toLowerCase()}.` };
}

function deriveVerdict(app: AppState | null, now: number): DerivedStatus {
  if (!app) {
    return { tone: 'loading', title: 'Connecting\u2026', detail: '', socketCount: 0, allowedCount: 0, paused: false, stale: false, banners: [] };
  }
  const { snapshot, status, settings } = app;
  const ports = snapshot?.ports ?? status.ports;
  const banners: StatusBanner[] = [];
  if (app.source) banners.push(SOURCE_BANNERS[app.source](app));
  const paused = status.paused;
  if (paused) {
    banners.push({
      id: 'paused',
      severity: 'warning',
      message: 'Monitoring is paused: nothing new on the port is detected or recorded.',
      hint: 'Resume to watch the port again.',
      action: 'resume',
    });
  }
  const lastScan = status.lastScanAt ?? snapshot?.scannedAt ?? null;
  // While kernel events cover a clear port, the full scan runs only as the safety net.
  const staleAfter = Math.max(3 * (snapshot?.sight?.safetyNetMs ?? status.intervalMs), 10_000);
  // The service scans on its own and streams only changes: an open stream is its sign of life.
  const stale = !paused && status.running && app.source !== 'service' && lastScan !== null && now - Date.parse(lastScan) > staleAfter;
  if (stale) {
    banners.push({
      id: 'stale',
      severity: 'warning',
      message: 'The last scan is older than expected, so this view may be out of date.',
      hint: 'Scan now; if this persists, restart Ghostport.',
      action: 'scan',
    });
  }
  if (status.consecutiveFailures > 0 && status.lastError) {
    banners.push({
      id: 'scan-failing',
      severity: 'error',
      message: `The last ${plural(status.consecutiveFailures, 'scan')} failed: ${status.lastError}`,
      hint: 'Ghostport keeps retrying; scan now to try immediately.',
      action: 'scan',
    });
  }
  for (const issue of snapshot?.issues ?? []) banners.push(issueBanner(issue, snapshot?.health === 'blind' ? 'error' : 'warning'));

  if (!snapshot) {
    return { tone: 'loading', title: 'Waiting for the first scan\u2026', detail: `Watching ${describePorts(ports)}`, socketCount: 0, allowedCount: 0, paused, stale, banners };
  }
  if (snapshot.health === 'blind') {
    return {
      tone: 'blind',
      title: 'Cannot see the port',
      detail: `Ghostport cannot read the socket tables, so it cannot tell whether ${describePorts(ports)} is in use.`,
      socketCount: 0,
      allowedCount: 0,
      paused,
      stale,
      banners,
    };
  }
  const socketCount = snapshot.sockets.length;
  const allowedCount = snapshot.sockets.filter((socket) => isSocketAllowed(settings.allowlist, socket, app.platform)).length;
  if (socketCount === 0) {
    return { tone: 'clear', title: 'Clear', detail: `Nothing is using ${describePorts(ports)}.`, socketCount, allowedCount, paused, stale, banners };
  }
  const owners = new Set(snapshot.sockets.map((socket) => socket.pid ?? `?${socket.id}`)).size;
  const detail = `${plural(owners, 'process', 'processes')} on ${describePorts(ports)}${allowedCount > 0 ? `, ${allowedCount} allowed by you` : ''}.`;
  if (allowedCount === socketCount) {
    return { tone: 'allowed', title: `${plural(socketCount, 'socket')}, all allowed`, detail, socketCount, allowedCount, paused, stale, banners };
  }
  return { tone: 'alert', title: `${plural(socketCount, 'socket')} on the port`, detail, socketCount, allowedCount, paused, stale, banners };
}

/** Which engine the window follows, and what it can see: the tray app follows the service whenever it can. */
const SOURCE_BANNERS: Readonly<Record<EngineSource, (app: AppState) => StatusBanner>> = {
  service: () => ({
    id: 'service',
    severity: 'info',
    message: 'Watching through the Ghostport service: full sight.',
    hint: 'Every owner and the host\'s history come from ghostport serve; its own settings choose the ports.',
    action: null,
  }),
  local: ({ elevated, snapshot, platform }) => {
    const hidden = elevated ? '' : ': owners of other users\' sockets are hidden';
    const missed = snapshot?.sight && !snapshot.sight.kernelEvents ? ` ${snapshot.sight.note}` : '';
    return {
      id: 'local',
      severity: 'info',
      message: `Watching with this app's own engine${hidden}.${missed}`,
      hint: `For full sight, run the Ghostport service (${platform === 'linux' ? 'sudo systemctl enable --now ghostport' : 'sudo ghostport serve'}) and join its group: the app switches to it by itself, and back when it stops.`,
      action: null,
    };
  },
};

function issueBanner(issue: HealthIssue, severity: 'warning' | 'error'): StatusBanner {
  return { id: `issue:${issue.code}`, severity, message: issue.message, hint: issueHint(issue), action: null };
}

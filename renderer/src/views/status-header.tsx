/**
 * The top of the window: the verdict (clear / something on the port / cannot see), what is
 * watched and when it was last scanned, the scan-now and pause buttons, and the banners that
 * say why the verdict may be incomplete and what to do.
 */
import type { EngineStatus, Sight } from '#common/model.ts';
import type { DerivedStatus, StatusBanner } from '../state/derive-status.ts';
import { formatAgo, formatInterval, formatTimestamp } from '../format/time.ts';
import { Icon } from './icons.tsx';
import type { IconName } from './icons.tsx';

/** Props of `StatusHeader`. */
export interface StatusHeaderProps {
  readonly status: DerivedStatus;
  readonly engine: EngineStatus | null;
  /** What the engine sees between scans (absent before the first). */
  readonly sight: Sight | null;
  readonly ports: readonly number[];
  readonly now: number;
  readonly scanning: boolean;
  readonly pausing: boolean;
  readonly onScanNow: () => void;
  readonly onPause: () => void;
  readonly onResume: () => void;
}

const TONE_ICON: Readonly<Record<DerivedStatus['tone'], IconName>> = {
  loading: 'loader',
  clear: 'check',
  alert: 'alert',
  allowed: 'shield',
  blind: 'eye-off',
  paused: 'pause',
};

/** The status header. */
export function StatusHeader({ status, engine, sight, ports, now, scanning, pausing, onScanNow, onPause, onResume }: StatusHeaderProps) {
  const lastScan = engine?.lastScanAt ?? null;
  const every = engine ? formatInterval(sight?.safetyNetMs ?? engine.intervalMs) : null;
  const cadence = every === null ? '' : sight?.kernelEvents ? `, as it happens (kernel events), full scan every ${every}` : `, every ${every}`;
  return (
    <header className="status-header">
      <div className={`verdict tone-${status.tone}`} role="status" aria-live="polite" aria-atomic="true" data-testid="verdict">
        <span className="verdict-icon">
          <Icon name={TONE_ICON[status.tone]} />
        </span>
        <span className="verdict-text">
          <span className="verdict-title">{status.title}</span>
          <span className="verdict-detail">{status.detail}</span>
        </span>
      </div>
      <div className="header-actions">
        <button type="button" className="button" onClick={onScanNow} disabled={scanning || !engine} aria-busy={scanning}>
          <Icon name="refresh" className={scanning ? 'spin' : undefined} />
          <span>Scan now</span>
        </button>
        {status.paused ? (
          <button type="button" className="button" onClick={onResume} disabled={pausing || !engine}>
            <Icon name="play" />
            <span>Resume</span>
          </button>
        ) : (
          <button type="button" className="button" onClick={onPause} disabled={pausing || !engine}>
            <Icon name="pause" />
            <span>Pause</span>
          </button>
        )}
      </div>
      <p className="header-meta">
        <span>
          Watching <strong>TCP and UDP</strong>, IPv4 and IPv6, on <strong>{ports.length === 1 ? `port ${ports[0]}` : `ports ${ports.join(', ')}`}</strong>
          {cadence}
        </span>
        <span className="meta-sep" aria-hidden="true">
          {'\u00B7'}
        </span>
        <span title={lastScan ? formatTimestamp(lastScan) : undefined}>
          Last scan <time dateTime={lastScan ?? undefined} className="num">{formatAgo(lastScan, now)}</time>
        </span>
      </p>
      {status.banners.length > 0 ? (
        <ul className="banners" aria-label="Monitoring problems">
          {status.banners.map((banner) => (
            <Banner key={banner.id} banner={banner} onScanNow={onScanNow} onResume={onResume} />
          ))}
        </ul>
      ) : null}
    </header>
  );
}

function Banner({ banner, onScanNow, onResume }: { readonly banner: StatusBanner; readonly onScanNow: () => void; readonly onResume: () => void }) {
  return (
    <li className={`banner severity-${banner.severity}`} data-banner={banner.id}>
      <Icon name={banner.severity === 'info' ? 'info' : 'alert'} />
      <div className="banner-text">
        <span className="banner-message">{banner.message}</span>
        {banner.hint ? <span className="banner-hint">{banner.hint}</span> : null}
      </div>
      {banner.action === 'resume' ? (
        <button type="button" className="button button-small" onClick={onResume}>
          Resume
        </button>
      ) : banner.action === 'scan' ? (
        <button type="button" className="button button-small" onClick={onScanNow}>
          Scan now
        </button>
      ) : null}
    </li>
  );
}


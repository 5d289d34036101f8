/** Problems of the app itself (`AppState.notices`: settings or history recovered, notifications unavailable), dismissible. */
import type { HealthIssue } from '#common/model.ts';
import { issueHint } from '#common/display-text.ts';
import { Icon } from './icons.tsx';

/** Props of `Notices`. */
export interface NoticesProps {
  readonly notices: readonly HealthIssue[];
  readonly dismissed: readonly string[];
  readonly onDismiss: (code: string) => void;
}

/** The notices strip; renders nothing when there is nothing to say. */
export function Notices({ notices, dismissed, onDismiss }: NoticesProps) {
  const shown = notices.filter((notice) => !dismissed.includes(notice.code));
  if (shown.length === 0) return null;
  return (
    <ul className="notices" aria-label="Notices">
      {shown.map((notice) => (
        <li key={notice.code} className="notice" data-notice={notice.code}>
          <Icon name="info" />
          <div className="banner-text">
            <span className="banner-message">{notice.message}</span>
            {issueHint(notice) ? <span className="banner-hint">{issueHint(notice)}</span> : null}
          </div>
          <button type="button" className="icon-button" onClick={() => onDismiss(notice.code)} aria-label={`Dismiss: ${notice.message}`}>
            <Icon name="x" />
          </button>
        </li>
      ))}
    </ul>
  );
}

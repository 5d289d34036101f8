/**
 * Untrusted text (process names, command lines, paths, users) as React text nodes only, with
 * hidden characters shown as highlighted markers and the run isolated from the surrounding
 * text direction, so a name cannot reorder or fake the UI around it.
 */
import { escapeUnsafe, toVisibleSegments } from '#common/display-text.ts';

/** Props of `SafeText`. */
export interface SafeTextProps {
  readonly value: string | null | undefined;
  /** Shown when the value is missing. */
  readonly fallback?: string;
  readonly className?: string;
  /** Also put the (escaped) full value in a tooltip, for cells that truncate. */
  readonly withTitle?: boolean;
}

/** Renders untrusted text safely. */
export function SafeText({ value, fallback = '\u2014', className, withTitle = false }: SafeTextProps) {
  if (value === null || value === undefined || value === '') {
    return <span className={['safe-text', 'is-missing', className].filter(Boolean).join(' ')}>{fallback}</span>;
  }
  const segments = toVisibleSegments(value);
  return (
    <bdi className={['safe-text', className].filter(Boolean).join(' ')} dir="ltr" title={withTitle ? escapeUnsafe(value) : undefined}>
      {segments.map((segment, index) =>
        segment.hidden ? (
          <span key={index} className="hidden-char" title="hidden character">
            {segment.text}
          </span>
        ) : (
          segment.text
        ),
      )}
    </bdi>
  );
}

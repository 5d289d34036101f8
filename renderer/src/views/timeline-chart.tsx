/**
 * The activity chart: one stacked bar per time slice (appeared below, disappeared above),
 * drawn as SVG at the container's pixel width so labels stay crisp. Clicking a bar narrows
 * the history to that slice.
 */
import { useMemo, useRef } from 'react';
import type { TimelineBucket } from '#common/history-query.ts';
import { axisTicks, describeTimeline, layoutBars, maxCount } from '../state/timeline-scale.ts';
import { formatDuration, formatTimestamp } from '../format/time.ts';
import { useElementSize } from './use-element-size.ts';

/** Props of `TimelineChart`. */
export interface TimelineChartProps {
  readonly buckets: readonly TimelineBucket[];
  readonly since: string | null;
  readonly until: string | null;
  readonly rangeLabel: string;
  readonly loading: boolean;
  readonly error: string | null;
  readonly onSelectSlice: (since: string, until: string) => void;
}

const HEIGHT = 132;

/** A tick label centred on its tick unless that would cut it at either edge of the chart. */
function labelAnchor(x: number, label: string, width: number): 'start' | 'middle' | 'end' {
  const half = (label.length * 6.5) / 2;
  if (x - half < 0) return 'start';
  if (x + half > width) return 'end';
  return 'middle';
}
const MARGIN = { left: 36, right: 8, top: 10, bottom: 22 } as const;

/** The chart. */
export function TimelineChart({ buckets, since, until, rangeLabel, loading, error, onSelectSlice }: TimelineChartProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const { width } = useElementSize(boxRef);
  const max = maxCount(buckets);
  // Room for the largest count's label (about 7 px a digit at 11 px), so "12,345" is never cut.
  const left = Math.max(MARGIN.left, 12 + 7 * max.toLocaleString('en-US').length);
  const area = useMemo(
    () => ({ left, top: MARGIN.top, width: Math.max(0, width - left - MARGIN.right), height: HEIGHT - MARGIN.top - MARGIN.bottom }),
    [width, left],
  );
  const bars = useMemo(() => (until ? layoutBars(buckets, until, area) : []), [buckets, until, area]);
  const ticks = useMemo(() => (since && until ? axisTicks(since, until, area, Math.max(2, Math.floor(area.width / 90))) : []), [since, until, area]);
  const empty = buckets.every((b) => b.appeared + b.disappeared === 0);
  const summary = error ? `Chart unavailable: ${error}` : describeTimeline(buckets, rangeLabel);

  return (
    <figure className="timeline" aria-busy={loading}>
      <div className="timeline-box" ref={boxRef}>
        {width > 0 ? (
          <svg width={width} height={HEIGHT} role="img" aria-label={summary} data-testid="timeline-svg">
            <line className="axis" x1={area.left} x2={area.left + area.width} y1={area.top + area.height + 0.5} y2={area.top + area.height + 0.5} />
            <line className="gridline" x1={area.left} x2={area.left + area.width} y1={area.top + 0.5} y2={area.top + 0.5} />
            <text className="axis-label" x={area.left - 6} y={area.top + 4} textAnchor="end">
              {empty ? '' : max.toLocaleString('en-US')}
            </text>
            <text className="axis-label" x={area.left - 6} y={area.top + area.height} textAnchor="end">
              0
            </text>
            {ticks.map((tick) => (
              <g key={`${tick.x}-${tick.label}`}>
                <line className="tick" x1={tick.x} x2={tick.x} y1={area.top + area.height} y2={area.top + area.height + 4} />
                <text className="axis-label" x={tick.x} y={HEIGHT - 6} textAnchor={labelAnchor(tick.x, tick.label, width)}>
                  {tick.label}
                </text>
              </g>
            ))}
            {bars.map((bar) => {
              // Issue 15: slices (partly) not covered by any watching Ghostport, drawn behind the bars.
              const unwatchedMs = buckets[bar.index]?.unwatchedMs ?? 0;
              return unwatchedMs > 0 ? (
                <rect key={`gap-${bar.index}`} className="bar-unwatched" x={bar.x} y={area.top} width={bar.width} height={area.height} data-unwatched-ms={unwatchedMs}>
                  <title>{`${formatTimestamp(bar.start)} \u2013 ${formatTimestamp(bar.end)}: Ghostport was not watching for ${formatDuration(unwatchedMs)}; sockets may have come and gone unseen.`}</title>
                </rect>
              ) : null;
            })}
            {bars.map((bar) =>
              bar.appeared + bar.disappeared === 0 ? null : (
                <g key={bar.index} className="bar" onClick={() => onSelectSlice(bar.start, bar.end)} data-bucket={bar.index}>
                  <title>{`${formatTimestamp(bar.start)} \u2013 ${formatTimestamp(bar.end)}: ${bar.appeared} appeared, ${bar.disappeared} disappeared. Click to show only these.`}</title>
                  <rect className="bar-hit" x={bar.x} y={area.top} width={bar.width} height={area.height} />
                  <rect className="bar-appeared" x={bar.x} y={bar.appearedY} width={bar.width} height={bar.appearedHeight} rx={bar.width > 4 ? 1 : 0} />
                  {bar.disappearedHeight > 0 ? (
                    <rect className="bar-disappeared" x={bar.x} y={bar.disappearedY} width={bar.width} height={bar.disappearedHeight} rx={bar.width > 4 ? 1 : 0} />
                  ) : null}
                </g>
              ),
            )}
            {empty && !loading ? (
              <text className="chart-empty" x={area.left + area.width / 2} y={area.top + area.height / 2 + 4} textAnchor="middle">
                {error ? 'Chart unavailable' : 'No activity in this range'}
              </text>
            ) : null}
          </svg>
        ) : null}
      </div>
      <figcaption className="timeline-legend">
        <span className="legend-item">
          <span className="swatch swatch-appeared" aria-hidden="true" />
          appeared
        </span>
        <span className="legend-item">
          <span className="swatch swatch-disappeared" aria-hidden="true" />
          disappeared
        </span>
        {buckets.some((b) => (b.unwatchedMs ?? 0) > 0) ? (
          <span className="legend-item">
            <span className="swatch swatch-unwatched" aria-hidden="true" />
            not watching
          </span>
        ) : null}
        <span className="legend-hint">Click a bar to show only that time.</span>
      </figcaption>
    </figure>
  );
}


/**
 * "History": the activity chart and the event list for one filter, the count of matching
 * events, and export of exactly those events as CSV or JSON (written by the main process).
 */
import { useMemo } from 'react';
import type { GhostportApi } from '#common/ipc-contract.ts';
import type { HistoryQuery } from '#common/history-query.ts';
import type { PortEvent } from '#common/model.ts';
import type { HistoryFilter } from '../state/history-filter.ts';
import { buildHistoryQuery, RANGE_LABELS } from '../state/history-filter.ts';
import { useHistoryList } from '../state/use-history-list.ts';
import { useTimeline } from '../state/use-timeline.ts';
import { HistoryFilters } from './history-filters.tsx';
import { TimelineChart } from './timeline-chart.tsx';
import { EventList } from './event-list.tsx';
import { Icon } from './icons.tsx';

/** Props of `HistoryView`. */
export interface HistoryViewProps {
  readonly source: Pick<GhostportApi, 'queryHistory' | 'getTimeline'>;
  readonly filter: HistoryFilter;
  readonly ports: readonly number[];
  readonly revision: number;
  readonly now: number;
  readonly selectedSeq: number | null;
  readonly exporting: boolean;
  readonly onFilterChange: (filter: HistoryFilter) => void;
  readonly onOpen: (event: PortEvent) => void;
  readonly onExport: (query: HistoryQuery, format: 'csv' | 'json') => void;
}

/** The history view. */
export function HistoryView({ source, filter, ports, revision, now, selectedSeq, exporting, onFilterChange, onOpen, onExport }: HistoryViewProps) {
  // The moving window ("last hour") is pinned when the filter is chosen, so pages stay consistent while scrolling.
  const query = useMemo(() => buildHistoryQuery(filter, Date.now()), [filter]);
  const list = useHistoryList(source, query, revision);
  const total = list.pages.total;
  const timeline = useTimeline(source, filter, revision, total !== null);

  return (
    <div className="history-view">
      <HistoryFilters filter={filter} ports={ports} onChange={onFilterChange} />
      <TimelineChart
        buckets={timeline.buckets}
        since={timeline.query?.since ?? null}
        until={timeline.query?.until ?? null}
        rangeLabel={RANGE_LABELS[filter.range]}
        loading={timeline.loading}
        error={timeline.error}
        onSelectSlice={(since, until) => onFilterChange({ ...filter, range: 'custom', since, until })}
      />
      <div className="list-toolbar">
        <p className="result-count" aria-live="polite" data-testid="result-count">
          {total === null ? 'Loading\u2026' : `${total.toLocaleString('en-US')} event${total === 1 ? '' : 's'}`}
        </p>
        {list.pages.error ? (
          <p className="inline-error" role="alert">
            {list.pages.error}
          </p>
        ) : null}
        <div className="export-buttons" role="group" aria-label="Export these events">
          <button type="button" className="button" disabled={!total || exporting} onClick={() => onExport(query, 'csv')}>
            <Icon name="download" />
            <span>CSV</span>
          </button>
          <button type="button" className="button" disabled={!total || exporting} onClick={() => onExport(query, 'json')}>
            <Icon name="download" />
            <span>JSON</span>
          </button>
        </div>
      </div>
      <EventList pages={list.pages} now={now} selectedSeq={selectedSeq} onShowRows={list.showRows} onOpen={onOpen} />
    </div>
  );
}

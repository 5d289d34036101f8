/**
 * The history's event list, virtualized: only the rows in view (plus a few) exist in the DOM,
 * fixed-height so scrolling never measures, fed page by page from the main process. Arrow keys,
 * Page Up/Down, Home and End move through it; Enter opens the details.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import type { PortEvent } from '#common/model.ts';
import type { HistoryPages } from '../state/history-pages.ts';
import { rowAt } from '../state/history-pages.ts';
import { computeVirtualWindow, DEFAULT_MAX_HEIGHT, scrollTopForRow } from '../virtual/virtual-window.ts';
import { formatShortTimestamp, formatTimestamp } from '../format/time.ts';
import { SafeText } from './safe-text.tsx';
import { useElementSize } from './use-element-size.ts';
import { formatEndpoint } from '#common/display-text.ts';

/** Height of one row in pixels (two lines of text); CSS uses the same value. */
export const ROW_HEIGHT = 56;
const OVERSCAN = 6;

/** Props of `EventList`. */
export interface EventListProps {
  readonly pages: HistoryPages;
  readonly now: number;
  readonly selectedSeq: number | null;
  readonly onShowRows: (start: number, end: number) => void;
  readonly onOpen: (event: PortEvent) => void;
}

/** The virtualized list. */
export function EventList({ pages, now, selectedSeq, onShowRows, onOpen }: EventListProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const { height: viewportHeight } = useElementSize(scrollRef);
  const [scrollTop, setScrollTop] = useState(0);
  const [active, setActive] = useState(0);
  const total = pages.total ?? 0;
  const win = useMemo(
    () => computeVirtualWindow({ total, rowHeight: ROW_HEIGHT, scrollTop, viewportHeight: viewportHeight || ROW_HEIGHT * 10, overscan: OVERSCAN, maxHeight: DEFAULT_MAX_HEIGHT }),
    [total, scrollTop, viewportHeight],
  );

  useEffect(() => {
    onShowRows(win.start, Math.max(win.end, win.start + 1));
  }, [win.start, win.end, onShowRows]);

  // Keep the rows being read in place when newer events arrive at the top.
  const appliedGrowth = useRef<number | null>(null);
  useLayoutEffect(() => {
    const growth = pages.growth;
    const element = scrollRef.current;
    if (!growth || growth.rows <= 0 || appliedGrowth.current === growth.version || !element) return;
    appliedGrowth.current = growth.version;
    if (element.scrollTop > 0 && total * ROW_HEIGHT <= DEFAULT_MAX_HEIGHT) {
      element.scrollTop += growth.rows * ROW_HEIGHT;
      setActive((index) => index + growth.rows);
    }
  }, [pages.growth, total]);

  // A new filter starts at the top.
  useEffect(() => {
    if (pages.total === null && scrollRef.current) {
      scrollRef.current.scrollTop = 0;
      setScrollTop(0);
      setActive(0);
    }
  }, [pages.total]);

  const moveTo = (index: number): void => {
    const next = Math.max(0, Math.min(total - 1, index));
    setActive(next);
    const element = scrollRef.current;
    if (!element) return;
    const input = { total, rowHeight: ROW_HEIGHT, viewportHeight: element.clientHeight, maxHeight: DEFAULT_MAX_HEIGHT };
    if (next < win.firstVisible + 1) element.scrollTop = scrollTopForRow(next, input);
    else if (next >= win.lastVisible - 2) element.scrollTop = scrollTopForRow(Math.max(0, next - Math.floor(element.clientHeight / ROW_HEIGHT) + 1), input);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const pageRows = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW_HEIGHT * 10) / ROW_HEIGHT) - 1);
    const moves: Readonly<Record<string, number>> = { ArrowDown: 1, ArrowUp: -1, PageDown: pageRows, PageUp: -pageRows };
    if (event.key in moves) {
      event.preventDefault();
      moveTo(active + (moves[event.key] ?? 0));
    } else if (event.key === 'Home') {
      event.preventDefault();
      moveTo(0);
    } else if (event.key === 'End') {
      event.preventDefault();
      moveTo(total - 1);
    } else if (event.key === 'Enter' || event.key === ' ') {
      const row = rowAt(pages, active);
      if (row) {
        event.preventDefault();
        onOpen(row);
      }
    }
  };

  const rows = [];
  for (let index = win.start; index < win.end; index += 1) {
    const top = win.offset + (index - win.start) * ROW_HEIGHT;
    const event = rowAt(pages, index);
    rows.push(
      <EventRow
        // Events waiting to be written all have seq 0: keyed by place, like rows still loading.
        key={event && event.seq > 0 ? `e${event.seq}` : `p${index}`}
        index={index}
        top={top}
        event={event}
        now={now}
        active={index === active}
        selected={event !== undefined && event.seq > 0 && event.seq === selectedSeq}
        onOpen={(e) => {
          setActive(index);
          onOpen(e);
        }}
      />,
    );
  }

  return (
    <div
      className="event-list"
      ref={scrollRef}
      role="grid"
      aria-label="Recorded events, newest first"
      aria-rowcount={total}
      aria-activedescendant={total > 0 ? `event-row-${active}` : undefined}
      tabIndex={0}
      onKeyDown={onKeyDown}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      data-testid="event-list"
    >
      <div className="event-list-spacer" style={{ height: win.height }} role="presentation">
        {rows}
      </div>
      {pages.total === 0 ? <p className="list-empty">No events match.</p> : null}
    </div>
  );
}

interface EventRowProps {
  readonly index: number;
  readonly top: number;
  readonly event: PortEvent | undefined;
  readonly now: number;
  readonly active: boolean;
  readonly selected: boolean;
  readonly onOpen: (event: PortEvent) => void;
}

function EventRow({ index, top, event, now, active, selected, onOpen }: EventRowProps) {
  const className = ['event-row', active ? 'is-active' : '', selected ? 'is-selected' : '', event ? '' : 'is-loading'].filter(Boolean).join(' ');
  if (!event) {
    return (
      <div className={className} role="row" aria-rowindex={index + 1} id={`event-row-${index}`} style={{ transform: `translateY(${top}px)` }}>
        <div role="gridcell" className="event-cell">
          <span className="skeleton" />
        </div>
      </div>
    );
  }
  const socket = event.socket;
  const process = socket.process;
  return (
    <div
      className={className}
      role="row"
      aria-rowindex={index + 1}
      aria-selected={selected}
      id={`event-row-${index}`}
      style={{ transform: `translateY(${top}px)` }}
      onClick={() => onOpen(event)}
      data-seq={event.seq}
      data-pid={process?.pid ?? ''}
      data-type={event.type}
      data-protocol={socket.protocol}
    >
      <div role="gridcell" className="event-cell">
        <div className="event-line">
          <span className={`event-type type-${event.type}`}>{event.type}</span>
          <time className="event-time num" dateTime={event.at} title={formatTimestamp(event.at)}>
            {formatShortTimestamp(event.at, now)}
          </time>
          <span className={`proto proto-${socket.protocol}`}>{socket.protocol.toUpperCase()}</span>
          <span className="family">v{socket.family}</span>
          <span className="mono endpoint">
            <SafeText value={formatEndpoint(socket.localAddress, socket.localPort)} />
            {socket.remoteAddress !== null && socket.remotePort ? (
              <>
                {' \u2192 '}
                <SafeText value={formatEndpoint(socket.remoteAddress, socket.remotePort)} />
              </>
            ) : null}
          </span>
          <span className="event-state">{socket.state}</span>
          {event.flapping ? <span className="chip chip-flapping">flapping</span> : null}
        </div>
        <div className="event-line secondary">
          {process ? (
            <>
              <SafeText value={process.name} className="process-name" />
              <span className="pid num">pid {process.pid}</span>
              {process.user ? <SafeText value={process.user} className="event-user" /> : null}
              <SafeText value={process.command} className="mono event-command" withTitle />
            </>
          ) : (
            <span className="unknown">{socket.pid !== null ? `pid ${socket.pid}` : 'owner unknown'}</span>
          )}
        </div>
      </div>
    </div>
  );
}

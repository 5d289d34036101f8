/**
 * The history's filter bar: time range (presets or custom bounds), port, protocol, event type,
 * process and free text. Text fields apply after a short pause in typing.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { EventType, Protocol } from '#common/model.ts';
import type { HistoryFilter, HistoryRange } from '../state/history-filter.ts';
import { defaultHistoryFilter, isNarrowed, RANGE_LABELS } from '../state/history-filter.ts';
import { fromDateTimeLocalValue, toDateTimeLocalValue } from '../format/time.ts';

/** Props of `HistoryFilters`. */
export interface HistoryFiltersProps {
  readonly filter: HistoryFilter;
  readonly ports: readonly number[];
  readonly onChange: (filter: HistoryFilter) => void;
}

const RANGES: readonly HistoryRange[] = ['hour', 'day', 'week', 'all', 'custom'];
/** How long typing must pause before a text filter applies. */
export const TYPING_DEBOUNCE_MS = 300;

/** The filter bar. */
export function HistoryFilters({ filter, ports, onChange }: HistoryFiltersProps) {
  const id = useId();
  const set = (patch: Partial<HistoryFilter>): void => onChange({ ...filter, ...patch });
  return (
    <div className="filters" role="search" aria-label="Filter the history">
      <div className="range-row">
        <div className="segmented" role="radiogroup" aria-label="Time range">
          {RANGES.map((range) => (
            <button
              key={range}
              type="button"
              role="radio"
              aria-checked={filter.range === range}
              className={filter.range === range ? 'is-on' : undefined}
              onClick={() => set(range === 'custom' ? { range, since: filter.since, until: filter.until } : { range })}
            >
              {RANGE_LABELS[range]}
            </button>
          ))}
        </div>
        {filter.range === 'custom' ? (
          <div className="custom-range">
            <div className="field-inline">
              <label htmlFor={`${id}-since`}>From</label>
              <input
                id={`${id}-since`}
                type="datetime-local"
                step={1}
                value={toDateTimeLocalValue(filter.since)}
                onChange={(e) => set({ since: fromDateTimeLocalValue(e.currentTarget.value) })}
              />
            </div>
            <div className="field-inline">
              <label htmlFor={`${id}-until`}>To</label>
              <input
                id={`${id}-until`}
                type="datetime-local"
                step={1}
                value={toDateTimeLocalValue(filter.until)}
                onChange={(e) => set({ until: fromDateTimeLocalValue(e.currentTarget.value) })}
              />
            </div>
          </div>
        ) : null}
      </div>
      <div className="filter-row">
        <SelectField
          id={`${id}-port`}
          label="Port"
          value={filter.port === null ? '' : String(filter.port)}
          options={ports.map((port) => [String(port), String(port)] as const)}
          onChange={(value) => set({ port: value === '' ? null : Number(value) })}
        />
        <SelectField
          id={`${id}-protocol`}
          label="Protocol"
          value={filter.protocol ?? ''}
          options={[
            ['tcp', 'TCP'],
            ['udp', 'UDP'],
          ]}
          onChange={(value) => set({ protocol: (value || null) as Protocol | null })}
        />
        <SelectField
          id={`${id}-type`}
          label="Event"
          value={filter.type ?? ''}
          options={[
            ['appeared', 'Appeared'],
            ['disappeared', 'Disappeared'],
          ]}
          onChange={(value) => set({ type: (value || null) as EventType | null })}
        />
        <DebouncedInput
          id={`${id}-process`}
          label="Process"
          placeholder="name, path or pid"
          value={filter.process}
          onCommit={(process) => set({ process })}
          className="field-process"
        />
        <DebouncedInput
          id={`${id}-text`}
          label="Search"
          placeholder="command, user, address…"
          value={filter.text}
          onCommit={(text) => set({ text })}
          type="search"
          className="field-search"
        />
        {isNarrowed(filter) ? (
          <button type="button" className="button button-quiet" onClick={() => onChange({ ...defaultHistoryFilter, range: filter.range, since: filter.since, until: filter.until })}>
            Clear filters
          </button>
        ) : null}
      </div>
    </div>
  );
}

interface SelectFieldProps {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  /** Value and label of each choice besides "Any" (the empty value). */
  readonly options: readonly (readonly [string, string])[];
  readonly onChange: (value: string) => void;
}

function SelectField({ id, label, value, options, onChange }: SelectFieldProps) {
  return (
    <div className="field-inline">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">Any</option>
        {options.map(([optionValue, optionLabel]) => (
          <option key={optionValue} value={optionValue}>
            {optionLabel}
          </option>
        ))}
      </select>
    </div>
  );
}

interface DebouncedInputProps {
  readonly id: string;
  readonly label: string;
  readonly placeholder: string;
  readonly value: string;
  readonly onCommit: (value: string) => void;
  readonly type?: 'text' | 'search';
  readonly className?: string;
}

function DebouncedInput({ id, label, placeholder, value, onCommit, type = 'text', className }: DebouncedInputProps) {
  const [draft, setDraft] = useState(value);
  // The parent re-renders every second (clocks); a ref keeps that from restarting the pause.
  const commitRef = useRef(onCommit);
  commitRef.current = onCommit;
  useEffect(() => setDraft(value), [value]);
  useEffect(() => {
    if (draft === value) return;
    const timer = setTimeout(() => commitRef.current(draft), TYPING_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [draft, value]);
  return (
    <div className={['field-inline', className].filter(Boolean).join(' ')}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={draft}
        placeholder={placeholder}
        spellCheck={false}
        autoComplete="off"
        onChange={(e) => setDraft(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') onCommit(draft);
        }}
      />
    </div>
  );
}

/**
 * The details of one socket's process: what was captured when it was first seen, whether it
 * still runs, its parents and sockets, and the actions (copy, reveal, allowlist, end). The
 * panel never acts itself: every action is a callback into the main process, which confirms
 * anything destructive natively.
 */
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { PortEvent, PortSocket, ProcessInfo } from '#common/model.ts';
import type { ApiError, EvidenceTarget, ProcessDetails, ProcessRef } from '#common/ipc-contract.ts';
import { evidenceGroups, evidenceWarnings } from '#common/evidence-text.ts';
import { LATE_FIELDS, LATE_REASON } from '#common/late-evidence.ts';
import type { EvidenceRow } from '#common/evidence-text.ts';
import type { AllowlistEntry, Settings } from '#common/settings.ts';
import { allowChoices, allowingEntries } from '#common/allowlist.ts';
import { escapeUnsafe, formatEndpoint, whyItMatters } from '#common/display-text.ts';
import { describeState, formatBytes, formatPercent } from '../format/socket.ts';
import { formatTimestamp } from '../format/time.ts';
import { SafeText } from './safe-text.tsx';
import { Icon } from './icons.tsx';

/** Props of `ProcessDetailsPanel`. */
export interface ProcessDetailsPanelProps {
  readonly processRef: ProcessRef | null;
  readonly socket: PortSocket | null;
  readonly event: PortEvent | null;
  readonly details: ProcessDetails | null;
  readonly loading: boolean;
  readonly error: ApiError | null;
  readonly settings: Settings;
  /** `process.platform` of the main process: the allowlist's path case rule. */
  readonly platform: string;
  readonly busy: readonly string[];
  readonly onClose: () => void;
  readonly onCopy: () => void;
  readonly onReveal: (ref: ProcessRef) => void;
  readonly onCopyText: (label: string, text: string) => void;
  readonly onExportEvidence: (target: EvidenceTarget) => void;
  readonly onAllow: (entry: AllowlistEntry) => void;
  readonly onDisallow: (entry: AllowlistEntry) => void;
  readonly onEnd: (ref: ProcessRef) => void;
}

/** The details panel. */
export function ProcessDetailsPanel(props: ProcessDetailsPanelProps) {
  const { processRef, socket, event, details, loading, error, settings, busy, onClose } = props;
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    headingRef.current?.focus();
  }, [processRef?.pid, processRef?.startedAt, socket?.id, event?.seq]);

  const captured: ProcessInfo | null = details?.captured ?? socket?.process ?? event?.socket.process ?? null;
  const port = socket?.watchedPort ?? null;
  const evidence = captured ? withLateEvidence(captured, details?.live ?? null, details?.parents ?? []) : null;
  const title = captured ? captured.name : socket?.pid ? `pid ${socket.pid}` : 'Unknown owner';

  return (
    <aside
      className="details-panel"
      role="dialog"
      aria-modal="false"
      aria-labelledby="details-title"
      data-testid="details-panel"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <header className="details-header">
        <div className="details-heading">
          <h2 id="details-title" ref={headingRef} tabIndex={-1}>
            {captured ? <SafeText value={title} /> : title}
            {captured ? <span className="pid num">pid {captured.pid}</span> : null}
          </h2>
          <RunningChip details={details} loading={loading} known={processRef !== null} />
        </div>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close details">
          <Icon name="x" />
        </button>
      </header>

      <div className="details-body">
        {evidence ? <EvidenceWarnings process={evidence} /> : null}
        {port !== null ? <p className="why">{whyItMatters(port)}</p> : null}
        {processRef && captured ? (
          <Actions {...props} processRef={processRef} captured={captured} port={port} busyActions={busy} />
        ) : null}
        {error && error.code !== 'not-found' ? (
          <p className="inline-error" role="alert">
            {error.message}
          </p>
        ) : null}

        {event ? (
          <Section title="Event" fields>
            <Field label="What">
              <span className={`event-type type-${event.type}`}>{event.type === 'appeared' ? 'Appeared' : 'Disappeared'}</span>
              {event.flapping ? <span className="chip chip-flapping">flapping</span> : null}
            </Field>
            <Field label="When">
              <time dateTime={event.at}>{formatTimestamp(event.at)}</time>
            </Field>
            <Field label="History entry">#{event.seq}</Field>
          </Section>
        ) : null}

        {socket ? (
          <Section title="Socket" fields>
            <Field label="Protocol">
              {socket.protocol.toUpperCase()} over IPv{socket.family}
            </Field>
            <Field label="Local" mono>
              <SafeText value={formatEndpoint(socket.localAddress, socket.localPort)} />
            </Field>
            <Field label="Remote" mono>
              <SafeText value={socket.remoteAddress === null ? null : formatEndpoint(socket.remoteAddress, socket.remotePort)} />
            </Field>
            <Field label="State">
              {describeState(socket.state)} <span className="muted">({socket.state})</span>
            </Field>
            {socket.netns ? (
              <Field label="Lives in">
                {socket.netns.host ? "the host's network namespace" : <SafeText value={socket.netns.label} />} <span className="muted">(net:[{socket.netns.inode}])</span>
              </Field>
            ) : null}
            <Field label="First seen">{formatTimestamp(socket.firstSeenAt)}</Field>
          </Section>
        ) : null}

        {captured ? (
          <>
            <ProcessSection captured={captured} live={details?.live ?? null} />
            {evidence ? <EvidenceSections process={evidence} onCopyText={props.onCopyText} /> : null}
          </>
        ) : (
          <Section title="Process">
            <p className="muted">
              Ghostport could not see which program owns this socket
              {socket?.ownerUnknownReason ? (
                <>
                  : <SafeText value={socket.ownerUnknownReason} />
                </>
              ) : null}
              . Owners of other users{'\u2019'} sockets are only visible when Ghostport runs with administrator (root) rights.
            </p>
          </Section>
        )}

        {details ? (
          <Section title="Its sockets on watched ports now">
            {details.sockets.length === 0 ? (
              <p className="muted">None{details.running ? '' : ': the process is no longer running'}.</p>
            ) : (
              <ul className="socket-list">
                {details.sockets.map((s) => (
                  <li key={s.id} className="mono">
                    <span className={`proto proto-${s.protocol}`}>{s.protocol.toUpperCase()}</span> <SafeText value={formatEndpoint(s.localAddress, s.localPort)} />
                    {s.remoteAddress !== null ? (
                      <>
                        {' \u2192 '}
                        <SafeText value={formatEndpoint(s.remoteAddress, s.remotePort)} />
                      </>
                    ) : null}{' '}
                    <span className="muted">{s.state}</span>
                  </li>
                ))}
              </ul>
            )}
          </Section>
        ) : null}
      </div>
    </aside>
  );
}

function RunningChip({ details, loading, known }: { readonly details: ProcessDetails | null; readonly loading: boolean; readonly known: boolean }) {
  if (!known) return <span className="chip chip-unknown">owner unknown</span>;
  if (!details) return <span className="chip chip-unknown">{loading ? 'checking\u2026' : 'not recorded'}</span>;
  return details.running ? (
    <span className="chip chip-running" data-running="true">
      running
    </span>
  ) : (
    <span className="chip chip-exited" data-running="false">
      no longer running
    </span>
  );
}

function Actions({
  processRef,
  captured,
  port,
  details,
  settings,
  platform,
  busyActions,
  onCopy,
  onReveal,
  onExportEvidence,
  socket,
  event,
  onAllow,
  onDisallow,
  onEnd,
}: ProcessDetailsPanelProps & { readonly processRef: ProcessRef; readonly captured: ProcessInfo; readonly port: number | null; readonly busyActions: readonly string[] }) {
  const matching = allowingEntries(settings.allowlist, captured, port === null ? settings.ports : [port], platform);
  const allowed = matching.length > 0 || details?.allowlisted === true;
  const running = details?.running ?? false;
  const [choice, setChoice] = useState(0);
  const [onlyThisPort, setOnlyThisPort] = useState(true);
  const choices = allowChoices(captured, port !== null && onlyThisPort ? port : null);
  const chosen = choices[Math.min(choice, choices.length - 1)]!;
  return (
    <div className="details-actions" role="group" aria-label="Actions">
      <button type="button" className="button" onClick={onCopy}>
        <Icon name="copy" />
        <span>Copy details</span>
      </button>
      <button
        type="button"
        className="button"
        onClick={() => onExportEvidence({ process: processRef, socketId: socket?.id ?? event?.socket.id ?? null, seq: event?.seq ?? null })}
        disabled={busyActions.includes('export-evidence')}
      >
        <Icon name="download" />
        <span>Export evidence</span>
      </button>
      <button type="button" className="button" onClick={() => onReveal(processRef)} disabled={!captured.path || busyActions.includes('reveal')}>
        <Icon name="folder" />
        <span>Show executable</span>
      </button>
      {allowed ? (
        <button type="button" className="button" onClick={() => matching.forEach(onDisallow)} disabled={matching.length === 0 || busyActions.includes('allowlist')}>
          <Icon name="shield" />
          <span>Alert me again</span>
        </button>
      ) : (
        <div className="allow-choice" role="group" aria-label="Allow">
          <select aria-label="What to allow" value={Math.min(choice, choices.length - 1)} onChange={(e) => setChoice(Number(e.target.value))} data-testid="allow-choice">
            {choices.map((c, index) => (
              <option key={c.label} value={index}>
                {escapeUnsafe(c.label)}
              </option>
            ))}
          </select>
          {port !== null ? (
            <label className="checkbox">
              <input type="checkbox" checked={onlyThisPort} onChange={(e) => setOnlyThisPort(e.target.checked)} /> only on port {port}
            </label>
          ) : null}
          <button type="button" className="button" onClick={() => onAllow(chosen.entry)} disabled={busyActions.includes('allowlist')}>
            <Icon name="shield" />
            <span>Allow</span>
          </button>
        </div>
      )}
      <button
        type="button"
        className="button button-danger"
        onClick={() => onEnd(processRef)}
        disabled={!running || busyActions.includes('end')}
        title={running ? 'Ghostport asks you to confirm before ending it.' : 'The process is not running.'}
      >
        <Icon name="stop" />
        <span>End process{'\u2026'}</span>
      </button>
    </div>
  );
}

function ProcessSection({ captured, live }: { readonly captured: ProcessInfo; readonly live: ProcessInfo | null }) {
  return (
    <Section title="Process (as first seen)" fields>
      <Field label="Name">
        <SafeText value={captured.name} />
      </Field>
      <Field label="PID">
        <span className="num">{captured.pid}</span>
      </Field>
      <Field label="Command line" mono wide>
        <SafeText value={captured.command} className="command" />
      </Field>
      <Field label="CPU, average since start">{formatPercent(live?.cpuPercent ?? captured.cpuPercent)}</Field>
      <Field label="Memory">{formatBytes(live?.memoryBytes ?? captured.memoryBytes)}</Field>
    </Section>
  );
}

/** The warnings a responder must not miss (deleted executable, modified package file, not from a package), at the top. */
function EvidenceWarnings({ process }: { readonly process: ProcessInfo }) {
  const warnings = evidenceWarnings(process);
  if (warnings.length === 0) return null;
  return (
    <ul className="evidence-warnings" data-testid="evidence-warnings" aria-label="Warnings">
      {warnings.map((w) => (
        <li key={w}>
          <Icon name="alert" />
          <SafeText value={capitalize(w)} />
        </li>
      ))}
    </ul>
  );
}

/** The evidence captured at detection, grouped as a responder reads it: Who, What, How it started, Talking to. */
function EvidenceSections({ process, onCopyText }: { readonly process: ProcessInfo; readonly onCopyText: (label: string, text: string) => void }) {
  return (
    <>
      {evidenceGroups(process).map((group) => (
        <Section key={group.title} title={group.title} fields>
          {group.rows.map((row) => (
            <Field key={row.label} label={row.label} wide={Array.isArray(row.value) || row.label === 'SHA-256'} mono={MONO.has(row.label)} warning={row.warning === true}>
              <EvidenceValue row={row} onCopyText={onCopyText} />
            </Field>
          ))}
        </Section>
      ))}
    </>
  );
}

/**
 * The evidence to show: as captured, with the hash and package that were still being computed
 * at detection (and not filled in by the history yet) taken from the live read of the same
 * process, and, for records from before
 * ancestry was captured, the parents read now.
 */
function withLateEvidence(captured: ProcessInfo, live: ProcessInfo | null, parents: readonly ProcessInfo[]): ProcessInfo {
  let merged: ProcessInfo = {
    ...captured,
    ancestry: captured.ancestry ?? parents.map((p) => ({ pid: p.pid, name: p.name, command: p.command, user: p.user, startedAt: p.startedAt })),
  };
  for (const field of LATE_FIELDS) {
    if (!live || captured[field] || !captured.reasons?.[field]?.startsWith(LATE_REASON)) continue;
    const { [field]: _late, ...reasons } = merged.reasons ?? {};
    const reason = live.reasons?.[field];
    merged = { ...merged, [field]: live[field] ?? null, reasons: reason ? { ...reasons, [field]: reason } : reasons };
  }
  return merged;
}

const MONO = new Set(['Executable', 'SHA-256', 'Arguments', 'Working directory', 'Started by', 'Listening on', 'Connected to', 'Network namespace']);

function EvidenceValue({ row, onCopyText }: { readonly row: EvidenceRow; readonly onCopyText: (label: string, text: string) => void }) {
  if (row.value === null) return <span className="muted">{row.reason ? <SafeText value={row.reason} /> : 'not known'}</span>;
  if (typeof row.value === 'string') {
    if (row.label !== 'SHA-256') return <SafeText value={row.value} />;
    const hash = row.value;
    return (
      <span className="hash">
        <SafeText value={hash} className="hash-text" />
        <button type="button" className="button button-small" onClick={() => onCopyText('SHA-256', hash)} aria-label="Copy SHA-256">
          <Icon name="copy" />
          <span>Copy</span>
        </button>
      </span>
    );
  }
  const chain = row.label === 'Started by';
  return (
    <ol className={chain ? 'parent-chain' : row.label === 'Arguments' ? 'argv' : 'evidence-list'} start={row.label === 'Arguments' ? 0 : 1}>
      {row.value.map((item, index) => (
        <li key={index} style={chain ? { paddingInlineStart: `${Math.min(index, 8) * 0.75}rem` } : undefined}>
          <SafeText value={item} fallback={'\u00AB empty \u00BB'} />
        </li>
      ))}
    </ol>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function Section({ title, children, fields = false }: { readonly title: string; readonly children: ReactNode; readonly fields?: boolean }) {
  return (
    <section className="details-section">
      <h3>{title}</h3>
      {fields ? <dl className="field-grid">{children}</dl> : children}
    </section>
  );
}

function Field({
  label,
  children,
  mono = false,
  wide = false,
  warning = false,
}: {
  readonly label: string;
  readonly children: ReactNode;
  readonly mono?: boolean;
  readonly wide?: boolean;
  readonly warning?: boolean;
}) {
  return (
    <div className={['field', wide ? 'is-wide' : '', warning ? 'is-warning' : ''].filter(Boolean).join(' ')} data-field={label}>
      <dt>{label}</dt>
      <dd className={mono ? 'mono' : undefined}>{children}</dd>
    </div>
  );
}

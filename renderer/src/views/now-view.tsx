/**
 * "Now": every socket currently on the watched ports, one row each, and an empty state that
 * explains the port and that "clear" is the good, normal state. Rows open the details panel.
 */
import type { KeyboardEvent } from 'react';
import type { PortSocket, Snapshot } from '#common/model.ts';
import type { Settings } from '#common/settings.ts';
import { isSocketAllowed } from '#common/allowlist.ts';
import { DEFAULT_PORT } from '#common/model.ts';
import { describeState, orderForDisplay } from '../format/socket.ts';
import { elapsedSince, formatDuration, formatShortTimestamp, formatTimestamp } from '../format/time.ts';
import { SafeText } from './safe-text.tsx';
import { Icon } from './icons.tsx';
import { describeWhere, escapeUnsafe, formatEndpoint } from '#common/display-text.ts';

/** Props of `NowView`. */
export interface NowViewProps {
  readonly snapshot: Snapshot | null;
  readonly settings: Settings;
  /** `process.platform` of the main process: the allowlist's path case rule. */
  readonly platform: string;
  readonly now: number;
  readonly selectedSocketId: string | null;
  readonly onSelect: (socket: PortSocket) => void;
}

/** The "Now" view. */
export function NowView({ snapshot, settings, platform, now, selectedSocketId, onSelect }: NowViewProps) {
  if (!snapshot) {
    return <p className="placeholder">Waiting for the first scan{'\u2026'}</p>;
  }
  if (snapshot.health === 'blind') {
    return <BlindState snapshot={snapshot} />;
  }
  return (
    <div className="now-view">
      {snapshot.sockets.length === 0 ? (
        <EmptyState ports={snapshot.ports} />
      ) : (
        <SocketTable sockets={snapshot.sockets} settings={settings} platform={platform} now={now} selectedSocketId={selectedSocketId} onSelect={onSelect} />
      )}
      {snapshot.lingering.length > 0 ? (
        <details className="lingering">
          <summary>
            {snapshot.lingering.length} closed connection{snapshot.lingering.length === 1 ? '' : 's'} still lingering in the kernel (no owner, not alerted)
          </summary>
          <SocketTable sockets={snapshot.lingering} settings={settings} platform={platform} now={now} selectedSocketId={selectedSocketId} onSelect={onSelect} />
        </details>
      ) : null}
    </div>
  );
}

function SocketTable({ sockets, settings, platform, now, selectedSocketId, onSelect }: Omit<NowViewProps, 'snapshot'> & { readonly sockets: readonly PortSocket[] }) {
  const onKeyDown = (socket: PortSocket) => (event: KeyboardEvent<HTMLTableRowElement>) => {
    if (event.target !== event.currentTarget) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelect(socket);
    }
  };
  return (
    <table className="socket-table" aria-label="Sockets on the watched ports now">
      <colgroup>
        <col className="col-proto" />
        <col className="col-local" />
        <col className="col-remote" />
        <col className="col-state" />
        <col className="col-process" />
        <col className="col-user" />
        <col className="col-time" />
        <col className="col-duration" />
      </colgroup>
      <thead>
        <tr>
          <th scope="col">Protocol</th>
          <th scope="col">Local</th>
          <th scope="col">Remote</th>
          <th scope="col">State</th>
          <th scope="col">Process</th>
          <th scope="col">User</th>
          <th scope="col" title="First seen">Since</th>
          <th scope="col">For</th>
        </tr>
      </thead>
      <tbody>
        {orderForDisplay(sockets).map((socket) => {
          const allowed = isSocketAllowed(settings.allowlist, socket, platform);
          return (
            <tr
              key={socket.id}
              className={socket.id === selectedSocketId ? 'is-selected' : undefined}
              tabIndex={0}
              aria-label={`${socket.protocol.toUpperCase()} socket on port ${socket.watchedPort}${describeWhere(socket)}, owned by ${socket.process ? `pid ${socket.process.pid}` : 'an unknown process'}. Press Enter for details.`}
              aria-selected={socket.id === selectedSocketId}
              onClick={() => onSelect(socket)}
              onKeyDown={onKeyDown(socket)}
              data-socket-id={socket.id}
              data-pid={socket.pid ?? ''}
            >
              <td data-label="Protocol">
                <span className={`proto proto-${socket.protocol}`}>{socket.protocol.toUpperCase()}</span>
                <span className="family">IPv{socket.family}</span>
              </td>
              <td data-label="Local" className="mono">
                <SafeText value={formatEndpoint(socket.localAddress, socket.localPort)} withTitle />
                {socket.netns && !socket.netns.host ? (
                  // Where it lives: a container or namespace is where listeners hide.
                  <span className="netns" title={`In ${escapeUnsafe(socket.netns.label)}: network namespace net:[${socket.netns.inode}]`} data-testid="socket-netns">
                    in <SafeText value={socket.netns.label} />
                  </span>
                ) : null}
              </td>
              <td data-label="Remote" className="mono">
                <SafeText value={socket.remoteAddress === null ? null : formatEndpoint(socket.remoteAddress, socket.remotePort)} withTitle />
              </td>
              <td data-label="State" title={socket.state}>
                {describeState(socket.state)}
              </td>
              <td data-label="Process" className="cell-process">
                {socket.process ? (
                  <>
                    <SafeText value={socket.process.name} className="process-name" withTitle />
                    <span className="pid num">pid {socket.process.pid}</span>
                  </>
                ) : socket.pid !== null ? (
                  <span className="pid num">pid {socket.pid}</span>
                ) : (
                  <span className="unknown" title={socket.ownerUnknownReason}>
                    unknown
                  </span>
                )}
                {allowed ? <span className="chip chip-allowed">allowed</span> : null}
              </td>
              <td data-label="User">
                <SafeText value={socket.process?.user} withTitle />
              </td>
              <td data-label="Since" className="num" title={formatTimestamp(socket.firstSeenAt)}>
                {formatShortTimestamp(socket.firstSeenAt, now)}
              </td>
              <td data-label="For" className="num">
                {formatDuration(elapsedSince(socket.firstSeenAt, now))}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function EmptyState({ ports }: { readonly ports: readonly number[] }) {
  const watches596 = ports.includes(DEFAULT_PORT);
  const portText = ports.length === 1 ? `Port ${ports[0]} is clear` : `Ports ${ports.join(', ')} are clear`;
  return (
    <section className="empty-state" aria-labelledby="empty-title" data-testid="empty-state">
      <div className="empty-icon">
        <Icon name="check" />
      </div>
      <h2 id="empty-title">{portText}</h2>
      <p className="empty-lead">No program is listening on, bound to, or talking over {ports.length === 1 ? 'this port' : 'these ports'}. This is the normal, good state: there is nothing to do.</p>
      {watches596 ? (
        <p>
          Port 596 is registered to SMSD, a DEC protocol that nothing speaks today, so any program that binds to it or connects over it is worth a
          look. Ghostport checks it on TCP and UDP, IPv4 and IPv6, and records who was there.
        </p>
      ) : null}
      <p className="empty-hint">If something shows up, it appears here with its process, and in History.</p>
    </section>
  );
}

function BlindState({ snapshot }: { readonly snapshot: Snapshot }) {
  return (
    <section className="empty-state is-blind" aria-labelledby="blind-title" data-testid="blind-state">
      <div className="empty-icon">
        <Icon name="eye-off" />
      </div>
      <h2 id="blind-title">Ghostport cannot see the port right now</h2>
      <p className="empty-lead">This is not the same as clear: sockets on the port would be invisible.</p>
      <ul className="issue-list">
        {snapshot.issues.map((issue) => (
          <li key={issue.code}>
            <strong>{issue.message}</strong>
            {issue.hint ? <span> {issue.hint}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

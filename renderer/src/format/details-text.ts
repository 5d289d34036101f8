/**
 * The plain-text form of a process's details, for "Copy details". Hidden characters are made
 * visible here too: pasted into a terminal or a ticket, the text must not carry control codes.
 */
import type { PortEvent, PortSocket, ProcessInfo } from '#common/model.ts';
import type { ProcessDetails } from '#common/ipc-contract.ts';
import { formatTimestamp } from './time.ts';
import { escapeUnsafe, formatEndpoint } from '#common/display-text.ts';
import { formatEvidenceLines } from '#common/evidence-text.ts';

const v = (value: string | null | undefined): string => (value === null || value === undefined || value === '' ? '-' : escapeUnsafe(value));

/** One socket as a line: `TCP IPv4 0.0.0.0:596 -> - LISTEN`. */
export function socketLine(socket: PortSocket): string {
  const remote = socket.remoteAddress === null ? '-' : formatEndpoint(socket.remoteAddress, socket.remotePort);
  return `${socket.protocol.toUpperCase()} IPv${socket.family} ${v(formatEndpoint(socket.localAddress, socket.localPort))} -> ${v(remote)} ${v(socket.state)}`;
}

/** The lines describing one process. */
export function processLines(process: ProcessInfo): string[] {
  return [
    `Name: ${v(process.name)}`,
    `PID: ${process.pid}`,
    `Executable: ${v(process.path)}`,
    `Command line: ${v(process.command)}`,
    `User: ${v(process.user)}${process.uid !== undefined && process.uid !== null ? ` (uid ${process.uid})` : ''}`,
    `Parent PID: ${process.parentPid ?? '-'}`,
    `Started: ${formatTimestamp(process.startedAt)}${process.startedAt ? ` (${process.startedAt})` : ''}`,
  ];
}

/** Everything the details panel shows, as text. */
export function formatDetailsText(input: {
  readonly details: ProcessDetails | null;
  readonly socket: PortSocket | null;
  readonly event: PortEvent | null;
}): string {
  const { details, socket, event } = input;
  const lines: string[] = ['Ghostport process details'];
  if (event) lines.push(`Event: ${event.type} at ${formatTimestamp(event.at)} (${event.at}), history #${event.seq}`);
  if (socket) lines.push(`Socket: ${socketLine(socket)}`, `Watched port: ${socket.watchedPort} (${socket.side} side)`);
  const process = details?.captured ?? socket?.process ?? null;
  if (process) {
    lines.push(...processLines(process), 'Evidence captured at detection:', ...formatEvidenceLines(process));
  } else if (socket) {
    lines.push(`Owner: unknown${socket.ownerUnknownReason ? ` (${v(socket.ownerUnknownReason)})` : ''}`);
  }
  if (details) {
    lines.push(`Running now: ${details.running ? 'yes' : 'no'}`, `Allowlisted: ${details.allowlisted ? 'yes' : 'no'}`);
    if (details.parents.length > 0) {
      lines.push('Parents:', ...details.parents.map((parent) => `  ${parent.pid} ${v(parent.name)} ${v(parent.command)}`));
    }
    if (details.sockets.length > 0) lines.push('Sockets on watched ports now:', ...details.sockets.map((s) => `  ${socketLine(s)}`));
  }
  return `${lines.join('\n')}\n`;
}

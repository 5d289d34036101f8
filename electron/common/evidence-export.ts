/**
 * "Export evidence": one socket's full record as a JSON document a responder can attach to a
 * ticket: the socket and its process as captured at detection (every evidence field), the
 * event it was seen in, and what the process looked like at export time. Pure.
 */
import type { PortEvent, PortSocket, ProcessInfo } from './model.ts';

/** Version of the evidence document; bumped when a field changes meaning, type or goes away. */
export const EVIDENCE_SCHEMA = 1;

/** Everything one export holds. */
export interface EvidenceRecord {
  readonly socket: PortSocket;
  readonly event: PortEvent | null;
  readonly running: boolean;
  readonly live: ProcessInfo | null;
}

/** The exported document. */
export function evidenceDocument(record: EvidenceRecord, exportedAt: Date, version: string): object {
  const { socket, event, running, live } = record;
  return {
    kind: 'ghostport-evidence',
    schema: EVIDENCE_SCHEMA,
    exportedAt: exportedAt.toISOString(),
    app: { name: 'Ghostport', version },
    socket,
    event: event ? { seq: event.seq, type: event.type, at: event.at, flapping: event.flapping } : null,
    runningAtExport: running,
    liveAtExport: live,
  };
}

/** `ghostport-evidence-python3-4711-20261201T0450Z.json`: names reduced to safe file-name characters. */
export function evidenceFileName(socket: PortSocket, at: Date): string {
  const name = (socket.process?.name ?? 'unknown').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.]+/, '').slice(0, 40) || 'process';
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `ghostport-evidence-${name}-${socket.pid ?? 'unknown'}-${stamp}.json`;
}

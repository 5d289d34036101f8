/**
 * Many plausible stored events for the history view's scale test and benchmark, written through
 * the real `History.record` into a real SQLite file (only the events are made up, not the store).
 */
import { History } from '#node/history.ts';
import type { PortEvent, PortSocket } from '#common/model.ts';

const PROGRAMS = [
  { name: 'nc', path: '/usr/bin/nc.openbsd', args: ['-lkp', '596'] },
  { name: 'python3', path: '/usr/bin/python3.11', args: ['-m', 'http.server', '596'] },
  { name: 'socat', path: '/usr/bin/socat', args: ['TCP-LISTEN:596,fork', 'EXEC:/bin/cat'] },
  { name: 'node', path: '/usr/bin/node', args: ['server.js', '--port=596'] },
] as const;

/** A plausible event: programs binding and connecting on 596, TCP and UDP, v4 and v6, across the last `spanMs`. */
export function syntheticEvent(i: number, count: number, now: number, spanMs: number): Omit<PortEvent, 'seq'> {
  const program = PROGRAMS[i % PROGRAMS.length] as (typeof PROGRAMS)[number];
  const pid = 2000 + (Math.floor(i / 2) % 30000);
  const udp = i % 7 === 3;
  const v6 = i % 5 === 1;
  const outbound = i % 11 === 4;
  const at = new Date(now - spanMs + Math.floor((i / count) * spanMs)).toISOString();
  const startedAt = new Date(Date.parse(at) - 5000).toISOString();
  const localAddress = v6 ? '::' : '0.0.0.0';
  const socket: PortSocket = {
    id: `${udp ? 'udp' : 'tcp'}|${localAddress}:${outbound ? 40000 + (i % 20000) : 596}|${pid}|${startedAt}`,
    protocol: udp ? 'udp' : 'tcp',
    family: v6 ? 6 : 4,
    localAddress: outbound ? (v6 ? 'fd00::2' : '10.0.0.2') : localAddress,
    localPort: outbound ? 40000 + (i % 20000) : 596,
    remoteAddress: outbound ? (v6 ? 'fd00::5' : '10.0.0.5') : null,
    remotePort: outbound ? 596 : null,
    state: outbound ? 'ESTABLISHED' : udp ? 'UNCONN' : 'LISTEN',
    pid,
    process: {
      pid,
      name: program.name,
      path: program.path,
      command: [program.path, ...program.args].join(' '),
      argv: [program.path, ...program.args],
      user: i % 3 === 0 ? 'root' : 'alice',
      uid: i % 3 === 0 ? 0 : 1000,
      parentPid: 1,
      startedAt,
    },
    watchedPort: 596,
    side: outbound ? 'remote' : 'local',
    firstSeenAt: at,
  };
  return { type: i % 2 === 0 ? 'appeared' : 'disappeared', at, socket, flapping: i % 13 === 0 };
}

/** Writes `count` events spread over the last `spanMs` into the history in `dir`, in batches, as the engine would. */
export function seedHistory(dir: string, count: number, spanMs: number): void {
  const history = History.open({ dataDir: dir });
  try {
    const now = Date.now();
    const batch = 2000;
    for (let start = 0; start < count; start += batch) {
      const events: Omit<PortEvent, 'seq'>[] = [];
      for (let i = start; i < Math.min(count, start + batch); i += 1) events.push(syntheticEvent(i, count, now, spanMs));
      history.record(events);
    }
  } finally {
    history.close();
  }
}

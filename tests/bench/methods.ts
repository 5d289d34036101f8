/**
 * The ways of answering "is anything on port 596, and whose is it?" that the benchmark times side
 * by side. Ghostport's rows call the engine and scanner the app uses (electron/node/engine.ts),
 * the others the tools and library a user would reach for. Every run also checks its answer, so a
 * fast method that misses the socket cannot win.
 */
import { execFile } from 'node:child_process';
import si from 'systeminformation';
import { Engine } from '#node/engine.ts';
import { createOsSource } from '#node/os-source.ts';
import type { Scanner } from '#node/scanner.ts';
import { HOLDER_MARKER } from './port-holder.ts';

/** The method names of the JSON schema (plus `ghostport-held`). */
export type MethodName =
  | 'ghostport-steady'
  | 'ghostport-found'
  | 'ghostport-held'
  | 'systeminformation'
  | 'lsof'
  | 'ss-filter'
  | 'ss-filter-no-owner'
;

/** Whether port 596 is held by the holder child while a method is timed. */
export type PortState = 'clear' | 'held';

/** What a method needs to check its answer. */
export interface Expectation {
  readonly port: number;
  /** The holder's pid when the port is held, else null (nothing may be found). */
  readonly holderPid: number | null;
}

/** One timed method: `run` performs one scan and says whether its answer was right. */
export interface Method {
  readonly name: MethodName;
  readonly description: string;
  run(expect: Expectation): Promise<boolean>;
}

function runTool(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (error, stdout) => {
      // lsof exits 1 when it finds nothing: that is an answer, not a failure.
      if (error && typeof error.code !== 'number') reject(error);
      else resolve(stdout);
    });
  });
}

function ssFilter(port: number): string {
  return `( sport = :${port} or dport = :${port} )`;
}

/** Ghostport's poll while nothing changes: one engine kept across scans, as the app keeps it. */
function ghostportSteady(port: number, createScanner: () => Scanner = () => createOsSource().scanner, name: MethodName = 'ghostport-steady'): Method {
  const engine = new Engine({ ports: [port], os: createOsSource({ scanner: createScanner() }), history: null });
  return {
    name,
    description: 'Engine.scanNow() with the set on 596 unchanged since the last scan (the normal poll)',
    async run(expect) {
      const snapshot = await engine.scanNow();
      if (snapshot.health === 'blind') return false;
      return expect.holderPid === null ? snapshot.sockets.length === 0 : snapshot.sockets.some((s) => s.pid === expect.holderPid);
    },
  };
}

/** Ghostport's scan the moment something new is on the port: a fresh engine, so owners are captured. */
function ghostportFound(port: number, createScanner: () => Scanner = () => createOsSource().scanner, name: MethodName = 'ghostport-found'): Method {
  return {
    name,
    description: 'Engine.scanNow() on a fresh engine with a socket on 596: full scan plus owner capture',
    async run(expect) {
      const engine = new Engine({ ports: [port], os: createOsSource({ scanner: createScanner() }), history: null });
      const snapshot = await engine.scanNow();
      return snapshot.sockets.some(
        (s) => s.pid === expect.holderPid && s.localPort === expect.port && (s.process?.command ?? '').includes(HOLDER_MARKER),
      );
    },
  };
}

/** The same engine kept across scans while the holder stays: the poll cost with a known socket on the port. */
function ghostportHeld(port: number): Method {
  const steady = ghostportSteady(port);
  return { ...steady, name: 'ghostport-held', description: 'Engine.scanNow() with the same socket still on 596 (cached owners)' };
}

function systeminformation(): Method {
  return {
    name: 'systeminformation',
    description: 'systeminformation.networkConnections() + filter on the port',
    async run(expect) {
      const rows = await si.networkConnections();
      const hits = rows.filter((r) => r.localPort === String(expect.port) || r.peerPort === String(expect.port));
      return expect.holderPid === null ? hits.length === 0 : hits.some((r) => r.pid === expect.holderPid);
    },
  };
}

function lsof(): Method {
  return {
    name: 'lsof',
    description: 'lsof -nP -i :596',
    async run(expect) {
      const out = await runTool('lsof', ['-nP', '-i', `:${expect.port}`]);
      return expect.holderPid === null ? out.trim() === '' : new RegExp(`^\\S+\\s+${expect.holderPid}\\s`, 'm').test(out);
    },
  };
}

function ssWithOwners(): Method {
  return {
    name: 'ss-filter',
    description: "ss -H -tuanp '( sport = :596 or dport = :596 )'",
    async run(expect) {
      const out = await runTool('ss', ['-H', '-tuanp', ssFilter(expect.port)]);
      return expect.holderPid === null ? !/users:/.test(out) : out.includes(`pid=${expect.holderPid},`);
    },
  };
}

function ssWithoutOwners(): Method {
  return {
    name: 'ss-filter-no-owner',
    description: "ss -H -tuan '( sport = :596 or dport = :596 )' (no owners)",
    async run(expect) {
      const out = await runTool('ss', ['-H', '-tuan', ssFilter(expect.port)]);
      // TIME-WAIT rows are leftovers of closed connections, not something on the port.
      const live = out.split('\n').filter((line) => line.trim() !== '' && !line.includes('TIME-WAIT'));
      return expect.holderPid === null ? live.length === 0 : live.some((line) => line.includes(`:${expect.port} `));
    },
  };
}

/** Methods timed with port 596 clear. */
export function clearMethods(port: number): Method[] {
  return [ghostportSteady(port), ssWithoutOwners()];
}

/** Methods timed with the holder's socket on port 596. */
export function heldMethods(port: number): Method[] {
  return [ghostportFound(port), ghostportHeld(port), systeminformation(), lsof(), ssWithOwners(), ssWithoutOwners()];
}

/**
 * Bench: what capturing evidence at detection costs. The extra time per detected socket is
 * reading a process with evidence (hash and package already cached, as for every binary after
 * its first sighting) against reading it without; the first sighting's one-off costs are
 * reported separately: hashing the executable (by size) and building the package index.
 * Run beside the engine phase, so /proc/PID/net holds as many sockets as the busiest table.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EvidenceCollector, readOtherSockets, type SocketDescriber } from '#node/process-evidence.ts';
import { NativeProbe } from '#node/native-probe.ts';
import { ExeDigester } from '#node/exe-digest.ts';
import { DpkgDatabase } from '#node/package-db.ts';
import { readLinuxProcess } from '#node/process-info.ts';
import { median, round } from './stats.ts';

/** The evidence phase's numbers. */
export interface EvidenceBench {
  /** Sockets in the network namespace's tables while measuring. */
  readonly tableSockets: number;
  /** Median time to read one process without evidence (the previous capture), ms. */
  readonly baseMs: number;
  /** A listener whose only socket is the detected one, hash and package cached: median ms, and what evidence adds (goal < 5 ms). */
  readonly singleSocketMs: number;
  readonly extraMs: number;
  /** A process with more sockets (its other sockets described too, the product's default way), median ms, and what evidence adds (goal < 5 ms). */
  readonly multiSocketMs: number;
  readonly multiExtraMs: number;
  /** The "talking to" summary alone, each way of describing the sockets, median ms (null: that way is not available here). */
  readonly otherSocketsMs: { readonly descriptors: number | null; readonly inodeDump: number | null; readonly procNet: number };
  /** First sighting of a binary: SHA-256 of its executable, by file. */
  readonly hash: readonly { readonly file: string; readonly mb: number; readonly ms: number; readonly mbPerS: number }[];
  /** First lookup after start: reading every dpkg file list into the index, ms. */
  readonly packageIndexMs: number | null;
}

const PYTHON = '/usr/bin/python3.11';

async function timeMedian(runs: number, f: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Measures capture with the product's defaults on a single-socket python listener and on `multiPid` (the bench's port holder). */
export async function measureEvidence(multiPid: number, runs = 100): Promise<EvidenceBench> {
  // No pipes: the listening socket is its only one, as for a daemon started with /dev/null.
  const python = spawn(PYTHON, ['-c', 'import socket,time\ns=socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); time.sleep(600)'], { stdio: 'ignore' });
  try {
    const pid = python.pid!;
    for (let i = 0; i < 100 && !readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSafe(`/proc/${pid}/fd/${fd}`).startsWith('socket:')); i++) await sleep(20);
    const packageStart = performance.now();
    const found = await new DpkgDatabase().lookup(PYTHON, async () => null);
    const packageIndexMs = found.package ? round(performance.now() - packageStart, 1) : null;

    const collector = new EvidenceCollector();
    for (const p of [pid, multiPid]) {
      await readLinuxProcess(p, collector);
      await sleep(1000); // the hash and package finish after the budget, into the caches
    }
    const baseMs = await timeMedian(runs, () => readLinuxProcess(pid, null));
    const singleSocketMs = await timeMedian(runs, () => readLinuxProcess(pid, collector));
    const multiSocketMs = await timeMedian(Math.min(runs, 30), () => readLinuxProcess(multiPid, collector));
    const multiBaseMs = await timeMedian(Math.min(runs, 30), () => readLinuxProcess(multiPid, null));
    // Each way alone, through a describer that offers only it.
    const helper = NativeProbe.find();
    const refuse = () => Promise.reject(new Error('not this way'));
    const expected = JSON.stringify(await readOtherSockets(multiPid, null));
    // A way that fails here, or answers other than /proc/PID/net, has no number.
    const way = async (describer: SocketDescriber | null) => {
      const summary = await readOtherSockets(multiPid, describer).catch(() => null);
      return JSON.stringify(summary) === expected ? round(await timeMedian(Math.min(runs, 30), () => readOtherSockets(multiPid, describer)), 2) : null;
    };
    const otherSocketsMs = {
      descriptors: helper ? await way({ socketsOf: (...a) => helper.socketsOf(...a), socketsByInode: refuse }) : null,
      inodeDump: helper ? await way({ socketsOf: refuse, socketsByInode: (...a) => helper.socketsByInode(...a) }) : null,
      procNet: (await way(null)) ?? Number.NaN,
    };
    helper?.dispose();

    const hash = [];
    for (const [file, p] of [[PYTHON, pid], [process.execPath, multiPid]] as const) {
      const ms = await timeMedian(3, () => new ExeDigester().digest(p));
      const mb = statSync(`/proc/${p}/exe`).size / 1024 / 1024;
      hash.push({ file, mb: round(mb, 1), ms: round(ms, 1), mbPerS: round(mb / (ms / 1000), 0) });
    }
    return {
      tableSockets: countSockets(),
      baseMs: round(baseMs, 2),
      singleSocketMs: round(singleSocketMs, 2),
      extraMs: round(singleSocketMs - baseMs, 2),
      multiSocketMs: round(multiSocketMs, 2),
      multiExtraMs: round(multiSocketMs - multiBaseMs, 2),
      otherSocketsMs,
      hash,
      packageIndexMs,
    };
  } finally {
    python.kill('SIGKILL');
  }
}

function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function countSockets(): number {
  try {
    const text = readFileSync('/proc/net/sockstat', 'utf8');
    return Number(/TCP: inuse (\d+)/.exec(text)?.[1] ?? 0) + Number(/UDP: inuse (\d+)/.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** One paragraph for the bench's text report. */
export function formatEvidenceBench(e: EvidenceBench): string {
  const hashes = e.hash.map((h) => `${h.file} ${h.mb} MB in ${h.ms} ms (${h.mbPerS} MB/s)`).join('; ');
  return [
    `Evidence at detection (${e.tableSockets} sockets in the table): ${e.singleSocketMs} ms a listener with evidence against ${e.baseMs} ms without: +${e.extraMs} ms per detected socket (goal < 5 ms).`,
    `  A process with more sockets: ${e.multiSocketMs} ms: +${e.multiExtraMs} ms (goal < 5 ms). Its sockets described alone: ${e.otherSocketsMs.descriptors ?? 'n/a'} ms from copies of its descriptors (root), ${e.otherSocketsMs.inodeDump ?? 'n/a'} ms by one netlink dump matched by inode, ${e.otherSocketsMs.procNet} ms from /proc/PID/net.`,
    `  First sighting of a binary, off the event path: SHA-256 ${hashes}; package index ${e.packageIndexMs ?? 'n/a'} ms once after start.`,
  ].join('\n');
}

if (import.meta.main) {
  // Alone: `node tests/bench/evidence-capture.ts [SOCKETS]` (as root, in a network namespace of its
  // own) fills the tables with SOCKETS (default 10,000) and a port holder with a few sockets.
  const { runInOwnNetns } = await import('./own-netns.ts');
  const code = await runInOwnNetns(new URL(import.meta.url).pathname, process.argv.slice(2));
  if (code !== null) process.exit(code);
  const { spawnNodeChild } = await import('./child-link.ts');
  const here = new URL('.', import.meta.url).pathname;
  const farm = spawnNodeChild('socket farm', `${here}socket-farm.ts`, []);
  const holder = spawnNodeChild('port holder', `${here}port-holder.ts`, ['596', '--ghostport-bench-holder']);
  try {
    await farm.waitFor((m) => m['type'] === 'ready', 60_000, '"ready"');
    const ready = await holder.waitFor((m) => m['type'] === 'ready', 60_000, '"ready"');
    await farm.request(`grow ${Number(process.argv[2] ?? 10_000)}`, 'grown', 120_000);
    await holder.request('hold tcp', 'bound', 10_000);
    process.stdout.write(`${formatEvidenceBench(await measureEvidence(Number(ready['pid'])))}\n`);
  } finally {
    farm.kill();
    holder.kill();
  }
}

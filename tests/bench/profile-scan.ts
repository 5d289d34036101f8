/**
 * `node tests/bench/profile-scan.ts [--sockets 0,1000,10000] [--json]`: where a Ghostport scan's
 * cost goes, and what cheaper ways to do each step would cost on the same host in the same run.
 * Companion of bench.ts for the lead (who owns the scanner): the candidates here are prototypes
 * to decide with, not product code.
 *
 * Probe (is the set of sockets on 596 unchanged?), port clear:
 * - ss-spawn: the scanner's probe today, `ss -H -tuane <filter>` spawned from Node.
 * - proc-net: /proc/net/{tcp,tcp6,udp,udp6} read in-process, only lines on the port parsed.
 * - ss-coprocess: a long-lived `sh` that runs the same ss per request (no fork of the Node process).
 * - netlink-coprocess: a long-lived sock_diag client (python3 prototype; skipped without python3)
 *   with the same kernel filter as ss: no process is started per poll at all.
 * - spawn-true: spawning /bin/true from Node, the floor of any spawned probe.
 * Owner lookup (something new on 596):
 * - full-scan-now: a fresh system scanner (systeminformation and `ss -tuanpe` in parallel).
 * - ss-owners: `ss -H -tuanpe <filter>` alone, then /proc/PID of the owner.
 * - inode-walk-newest / -oldest: the probe's inodes looked up in /proc/PID/fd, newest (highest)
 *   pid first and stopping once every inode is found; oldest first shows the worst case.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseSsOutput } from '../../electron/common/socket-parse.ts';
import { readProcessInfo } from '../../electron/node/process-info.ts';
import { runCommand } from '../../electron/node/run-command.ts';
import { ssArgs } from '../../electron/node/scanner.ts';
import { createOsSource } from '../../electron/node/os-source.ts';
import { killAllChildren, spawnNodeChild, stopAllChildren } from './child-link.ts';
import { inOwnNetns, runInOwnNetns } from './own-netns.ts';
import { findSocketOwners } from './proposed-scanner.ts';
import { readProcNet } from '../../electron/node/proc-net.ts';
import { readChildrenCpuMs, readCpuTimes, readRssMb } from './proc-stat.ts';
import { median, percentile, round } from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PORT = 596;

/** One candidate: `run` does the step once and says whether its answer was right. */
interface Candidate {
  readonly name: string;
  readonly step: 'probe' | 'owner';
  run(holderPid: number | null): Promise<boolean>;
  /** Cumulative CPU (ms) of long-lived helpers it uses, which this process's cutime cannot see. */
  helperCpuMs?(): number;
}

// A prototype of a long-lived sock_diag client: the kernel filters on the port (same bytecode as
// ss's `sport = :P or dport = :P`), the helper prints `proto family state sport dport uid inode`
// lines and `#end` per request. Python only because Node cannot open netlink sockets.
const NETLINK_HELPER = `
import socket, struct, sys
PORT = int(sys.argv[1])
bc = struct.pack('=BBHBBHBBHBBHBBH', 11, 8, 12, 0, 0, PORT, 1, 4, 12, 12, 8, 12, 0, 0, PORT)
attr = struct.pack('=HH', 4 + len(bc), 1) + bc
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)
def dump(family, proto):
    body = struct.pack('=BBBBI', family, proto, 0, 0, 0xFFFFFFFF) + bytes(48) + attr
    s.send(struct.pack('=IHHII', 16 + len(body), 20, 0x301, 1, 0) + body)
    out = []
    while True:
        data = s.recv(65536)
        off = 0
        while off < len(data):
            ln, typ = struct.unpack_from('=IH', data, off)
            if typ == 3: return out
            if typ == 2: raise OSError('netlink error')
            sport, dport = struct.unpack_from('>HH', data, off + 20)
            uid, inode = struct.unpack_from('=II', data, off + 80)
            out.append('%d %d %d %d %d %d %d' % (proto, data[off + 16], data[off + 17], sport, dport, uid, inode))
            off += (ln + 3) & ~3
for line in sys.stdin:
    rows = [r for f in (2, 10) for p in (6, 17) for r in dump(f, p)]
    sys.stdout.write('\\n'.join(rows + ['#end']) + '\\n')
    sys.stdout.flush()
`;

/** A long-lived helper answering one request per stdin line with text ending in `#end`. */
function coprocess(
  name: string,
  file: string,
  args: readonly string[],
  isLive: (text: string) => boolean,
): { candidate: Candidate; child: ChildProcess } {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  let pending: { resolve: (text: string) => void; text: string } | null = null;
  child.stdout!.on('data', (chunk: Buffer) => {
    if (!pending) return;
    pending.text += chunk.toString();
    if (pending.text.endsWith('#end\n')) {
      const done = pending;
      pending = null;
      done.resolve(done.text.slice(0, -5));
    }
  });
  const candidate: Candidate = {
    name,
    step: 'probe',
    async run(holderPid) {
      const text = await new Promise<string>((resolve) => {
        pending = { resolve, text: '' };
        child.stdin!.write('\n');
      });
      return holderPid === null ? !isLive(text) : isLive(text);
    },
    helperCpuMs() {
      const t = readCpuTimes(child.pid!);
      return t.selfMs + t.childrenMs;
    },
  };
  return { candidate, child };
}

function candidates(): { list: Candidate[]; helpers: ChildProcess[] } {
  const filter = ssArgs([PORT], false).at(-1) ?? '';
  const co = coprocess('ss-coprocess', 'sh', ['-c', 'while read -r _; do ss -H -tuane "$0"; echo "#end"; done', filter], (text) =>
    parseSsOutput(text).sockets.some((s) => s.state !== 'TIME_WAIT'),
  );
  // TCP state 6 is TIME_WAIT: a leftover, not something on the port.
  const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0;
  const nl = hasPython
    ? coprocess('netlink-coprocess', 'python3', ['-c', NETLINK_HELPER, String(PORT)], (text) =>
        text.split('\n').some((line) => line.trim() !== '' && line.split(' ')[2] !== '6'),
      )
    : null;
  const list: Candidate[] = [
    {
      name: 'ss-spawn',
      step: 'probe',
      async run(holderPid) {
        const r = await runCommand('ss', ssArgs([PORT], false));
        const live = r.kind === 'ok' ? parseSsOutput(r.stdout).sockets.filter((s) => s.state !== 'TIME_WAIT') : [];
        return holderPid === null ? live.length === 0 : live.length > 0;
      },
    },
    {
      name: 'proc-net',
      step: 'probe',
      async run(holderPid) {
        const live = readProcNet([PORT]).filter((r) => r.state !== 'TIME_WAIT');
        return holderPid === null ? live.length === 0 : live.length > 0;
      },
    },
    co.candidate,
    ...(nl ? [nl.candidate] : []),
    {
      name: 'spawn-true',
      step: 'probe',
      async run() {
        return (await runCommand('true', [])).kind === 'ok';
      },
    },
    {
      name: 'full-scan-now',
      step: 'owner',
      async run(holderPid) {
        const raw = await createOsSource().scanner.scan([PORT]);
        const owner = raw.sockets.find((s) => s.pid === holderPid);
        return owner !== undefined && (await readProcessInfo(owner.pid!)) !== null;
      },
    },
    {
      name: 'ss-owners',
      step: 'owner',
      async run(holderPid) {
        const r = await runCommand('ss', ssArgs([PORT], true));
        const owner = r.kind === 'ok' ? parseSsOutput(r.stdout).sockets.find((s) => s.pid === holderPid) : undefined;
        return owner !== undefined && (await readProcessInfo(owner.pid!)) !== null;
      },
    },
    ...(['newest', 'oldest'] as const).map(
      (order): Candidate => ({
        name: `inode-walk-${order}`,
        step: 'owner',
        async run(holderPid) {
          const r = await runCommand('ss', ssArgs([PORT], false));
          const inodes = new Set(r.kind === 'ok' ? parseSsOutput(r.stdout).sockets.flatMap((s) => (s.inode ? [s.inode] : [])) : []);
          const owners = findSocketOwners(inodes, order);
          const pid = [...owners.values()][0];
          return pid === holderPid && (await readProcessInfo(pid)) !== null;
        },
      }),
    ),
  ];
  return { list, helpers: nl ? [co.child, nl.child] : [co.child] };
}

interface Timing {
  readonly sockets: number;
  readonly candidate: string;
  readonly step: string;
  readonly samples: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly cpuMsPerRun: number;
  readonly wrong: number;
}

async function time(c: Candidate, holderPid: number | null, sockets: number, runs: number): Promise<Timing> {
  await c.run(holderPid);
  const wall: number[] = [];
  let wrong = 0;
  const cpu0 = process.cpuUsage();
  const child0 = readChildrenCpuMs();
  const helper0 = c.helperCpuMs?.() ?? 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    if (!(await c.run(holderPid))) wrong++;
    wall.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 + (readChildrenCpuMs() - child0) + ((c.helperCpuMs?.() ?? 0) - helper0);
  return {
    sockets,
    candidate: c.name,
    step: c.step,
    samples: runs,
    medianMs: round(median(wall), 2),
    p90Ms: round(percentile(wall, 90), 2),
    cpuMsPerRun: round(cpuMs / runs, 2),
    wrong,
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const value = (name: string): string | undefined => argv[argv.indexOf(name) + 1];
  const counts = (argv.includes('--sockets') ? (value('--sockets') ?? '') : '0,1000,10000').split(',').map(Number);
  const farm = spawnNodeChild('socket farm', join(here, 'socket-farm.ts'), []);
  await farm.waitFor((m) => m['type'] === 'ready', 30_000);
  const holder = spawnNodeChild('port holder', join(here, 'port-holder.ts'), [String(PORT), '--ghostport-bench-holder']);
  const holderPid = Number((await holder.waitFor((m) => m['type'] === 'ready', 30_000))['pid']);
  const { list, helpers } = candidates();
  const results: Timing[] = [];
  try {
    for (const sockets of counts) {
      await farm.request(`grow ${sockets}`, 'grown', 120_000);
      for (const c of list.filter((x) => x.step === 'probe')) results.push(await time(c, null, sockets, sockets >= 10_000 ? 40 : 60));
      await holder.request('hold tcp', 'bound', 10_000);
      for (const c of list.filter((x) => x.step === 'owner')) results.push(await time(c, holderPid, sockets, sockets >= 10_000 ? 12 : 25));
      await holder.request('release', 'released', 10_000);
    }
  } finally {
    for (const h of helpers) h.kill();
    await stopAllChildren();
  }
  const report = { results, profileRssMb: round(readRssMb(process.pid) ?? 0, 0), networkNamespace: inOwnNetns() ? 'own' : 'host' };
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  process.stdout.write('sockets  step   candidate           median ms   p90 ms  CPU ms/run  wrong\n');
  for (const r of results) {
    process.stdout.write(
      `${String(r.sockets).padStart(7)}  ${r.step.padEnd(5)}  ${r.candidate.padEnd(18)}  ${String(r.medianMs).padStart(9)}  ${String(r.p90Ms).padStart(7)}  ${String(r.cpuMsPerRun).padStart(10)}  ${String(r.wrong).padStart(5)}\n`,
    );
  }
}

if (import.meta.main) {
  const nested = await runInOwnNetns(fileURLToPath(import.meta.url), process.argv.slice(2));
  if (nested !== null) process.exit(nested);
  process.on('exit', killAllChildren);
  process.on('SIGINT', () => void stopAllChildren().finally(() => process.exit(130)));
  await main(process.argv.slice(2));
}

/**
 * Bench companion (issue 15): `ghostport history` over a large store (1,000,000 events by
 * default, written through the real History.record) into a closed pipe (`| head -1`), a slow
 * pipe (a reader taking 64 KB every 20 ms that leaves after 3 s) and /dev/null (the whole
 * history, as text and as --json), next to `ghostport version` (the CLI's start-up alone: the
 * floor every command pays) and to the `sqlite3` command-line tool dumping the same rows' stored
 * JSON (the other way of answering, where installed: no formatting, no JavaScript). Wall time and
 * peak RSS of the measured process (GNU time), median of `--trials`. Prints one JSON document
 * with --json.
 *
 * Usage: node tests/bench/history-stream.ts [--events 1000000] [--trials 3] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedHistory } from '../support/seed-history.ts';
import { median, round } from './stats.ts';

const BIN = 'electron/node/cli/ghostport.mjs';
const SQLITE3 = '/usr/bin/sqlite3';
const SLOW_READER = `let n = 0; process.stdin.on('data', () => { process.stdin.pause(); n++; setTimeout(() => process.stdin.resume(), 20); }); setTimeout(() => process.exit(0), 3000);`;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Runs `ghostport history` under GNU time into `sink` (a shell pipeline tail); wall seconds and peak RSS in MB. */
function measure(dir: string, sink: string, command = `history --data-dir '${dir}'`, program = `'${process.execPath}' ${BIN}`): { seconds: number; rssMb: number } {
  const timing = join(dir, 'time.txt');
  const script = `/usr/bin/time -f '%e %M' -o '${timing}' ${program} ${command} ${sink}`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0 && r.status !== 141) throw new Error(`history run failed (${r.status}): ${r.stderr.slice(-300)}`);
  const [seconds, kb] = readFileSync(timing, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { seconds: seconds!, rssMb: round(kb! / 1024, 1) };
}

function trials(n: number, run: () => { seconds: number; rssMb: number }): { seconds: number; rssMb: number } {
  const all = Array.from({ length: n }, run);
  return { seconds: round(median(all.map((r) => r.seconds)), 2), rssMb: round(Math.max(...all.map((r) => r.rssMb)), 1) };
}

const events = option('--events', 1_000_000);
const count = option('--trials', 3);
const dir = mkdtempSync(join(tmpdir(), 'ghostport-bench-stream-'));
try {
  const seedStart = Date.now();
  seedHistory(dir, events, 90 * 86_400_000);
  const seedSeconds = round((Date.now() - seedStart) / 1000, 1);
  const startup = trials(count, () => measure(dir, '>/dev/null', 'version'));
  const closedPipe = trials(count, () => measure(dir, '| head -1 >/dev/null'));
  const slowPipe = trials(1, () => measure(dir, `| '${process.execPath}' -e "${SLOW_READER}"`));
  const full = trials(count, () => measure(dir, '>/dev/null'));
  const fullJson = trials(count, () => measure(dir, '>/dev/null', `history --json --data-dir '${dir}'`));
  const sqlite = existsSync(SQLITE3) ? trials(count, () => measure(dir, '>/dev/null', `'${join(dir, 'history.db')}' 'SELECT event_json FROM events ORDER BY seq'`, SQLITE3)) : null;
  const peak = Math.max(closedPipe.rssMb, slowPipe.rssMb, full.rssMb, fullJson.rssMb);
  const result = {
    historyStream: {
      events,
      seedSeconds,
      startup,
      closedPipe,
      slowPipe,
      wholeHistoryToDevNull: full,
      wholeHistoryJsonToDevNull: fullJson,
      sqlite3DumpToDevNull: sqlite ?? { skipped: `${SQLITE3} is not installed` },
      targets: { closedPipeUnder1s: closedPipe.seconds < 1, memoryUnder100Mb: peak < 100, memoryOverStartupUnder100Mb: peak - startup.rssMb < 100 },
      ratios: {
        closedPipeTimeVsStartup: round(closedPipe.seconds / startup.seconds, 2),
        closedPipeRssVsStartup: round(closedPipe.rssMb / startup.rssMb, 2),
        closedPipeTimeVsWhole: round(closedPipe.seconds / full.seconds, 4),
        slowPipeRssVsWhole: round(slowPipe.rssMb / full.rssMb, 2),
        wholeRssVsStartup: round(full.rssMb / startup.rssMb, 2),
        ...(sqlite ? { wholeTimeVsSqlite3: round(full.seconds / sqlite.seconds, 1), wholeRssOverStartupVsSqlite3: round((full.rssMb - startup.rssMb) / sqlite.rssMb, 1) } : {}),
      },
    },
  };
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

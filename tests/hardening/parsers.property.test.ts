/**
 * Property tests (fast-check) that try to break the pure parsers with hostile input: ss records
 * whose process names carry quotes, commas, `pid=`, parentheses, line breaks and escapes; rows
 * from systeminformation of any shape; snapshot diffs; and the CLI's arguments.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromSiConnection, parseSsLine, parseSsOutput, type SiConnection } from '#common/socket-parse.ts';
import { diffSockets } from '#common/socket-identity.ts';
import { FlapTracker } from '#common/flap-control.ts';
import { parseCliArgs } from '#node/cli/args.ts';
import type { PortSocket } from '#common/model.ts';
import { makeSocket } from '../common/desktop-fixtures.ts';

// Pids a hostile name tries to claim, all below the range real owners are drawn from.
const FORGED = [1, 2, 7, 42, 999];
const realPid = fc.integer({ min: 1000, max: 4_194_304 });

/** Fragments a hostile process name is built from. */
const hostilePiece = fc.oneof(
  fc.constantFrom('"', ',', '(', '((', 'pid=', 'fd=', 'users:((', ' ', '\t', '\n', '\x1b[31m', '\u202e', 'ino:5', 'uid:0', ...FORGED.map((p) => `pid=${p}`), ...FORGED.map((p) => `",pid=${p},fd=3`)),
  fc.string({ maxLength: 4 }),
);

/** What ss can print as a name: comm (at most 15 bytes), cut at the first `)`. */
const ssName = fc.array(hostilePiece, { maxLength: 6 }).map((parts) => {
  const name = parts.join('').split(')')[0]!;
  return Buffer.from(name).subarray(0, 15).toString('utf8').replace(/\ufffd+$/, '');
});

/** Names no ss prints (they hold `)`), but another tool or version might. */
const parenName = fc
  .array(fc.oneof(hostilePiece, fc.constantFrom(')', '))', ')) ', '),(', '",pid=1,fd=3))', '",pid=1,fd=3)) x')), { maxLength: 8 })
  .map((parts) => parts.join(''))
  // The one shape no parser can tell from a second real owner: `",pid=N,fd=M),("` (see parseSsUsers).
  .filter((name) => !/",pid=\d+(,fd=\d+)?\),\("/.test(name));

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const port = fc.integer({ min: 1, max: 65535 });

interface Owner {
  readonly name: string;
  readonly pid: number;
}

function ssRecord(local: string, lport: number, peer: string, pport: number, owners: readonly Owner[], inode: number): string {
  const users = owners.length === 0 ? '' : ` users:(${owners.map((o, i) => `("${o.name}",pid=${o.pid},fd=${3 + i})`).join(',')})`;
  return `tcp ESTAB 0 0 ${local}:${lport} ${peer}:${pport}${users} uid:0 ino:${inode} sk:1 cgroup:/ <->`;
}

describe('ss records with hostile process names', () => {
  test('names ss can print: exactly the real owners, endpoints and inode, never a pid from a name', () => {
    fc.assert(
      fc.property(v4, port, v4, port, fc.array(fc.record({ name: ssName, pid: realPid }), { minLength: 1, maxLength: 3 }), fc.nat(), (la, lp, ra, rp, owners, inode) => {
        const s = parseSsLine(ssRecord(la, lp, ra, rp, owners, inode));
        assert.ok(s);
        assert.deepEqual(s.pids, [...new Set(owners.map((o) => o.pid))].sort((a, b) => a - b));
        assert.equal(s.pid, Math.min(...owners.map((o) => o.pid)));
        assert.equal(s.localAddress, la);
        assert.equal(s.localPort, lp);
        assert.equal(s.remotePort, rp);
        assert.equal(s.inode, inode);
        assert.equal(s.uid, 0);
      }),
      { numRuns: 3000 },
    );
  });

  test('names with ")": the real owner or no owner, never a forged pid, never a wrong inode', () => {
    fc.assert(
      fc.property(v4, port, parenName, realPid, fc.integer({ min: 1000, max: 1_000_000 }), (la, lp, name, pid, inode) => {
        const s = parseSsLine(ssRecord(la, lp, '10.0.0.1', 596, [{ name, pid }], inode));
        assert.ok(s, 'the socket itself is never lost');
        assert.equal(s.localPort, lp);
        assert.ok(s.pid === pid || s.pid === null, `pid ${s.pid} for name ${JSON.stringify(name)}`);
        assert.ok(s.pids.every((p) => p === pid));
        assert.ok(s.inode === inode || s.inode === null);
      }),
      { numRuns: 3000 },
    );
  });

  test('the examples that fooled the first parser', () => {
    const record = (name: string) => ssRecord('127.0.0.1', 596, '0.0.0.0', 0, [{ name, pid: 25662 }], 403939).replace(':0 ', ':* ');
    for (const name of ['pid=1', 'x pid=1 y', 'a",pid=1,fd=9', '"),("x",pid=1', 'a))b', 'x",pid=1,fd=2)) y']) {
      const s = parseSsLine(record(name));
      assert.ok(s);
      assert.notEqual(s.pid, 1, `name ${JSON.stringify(name)} must not claim pid 1`);
    }
    assert.equal(parseSsLine(record('x pid=1 y'))?.pid, 25662);
  });

  test('a table of records: none lost, none invented, names with line breaks kept on their record', () => {
    const row = fc.record({ lp: port, name: ssName, pid: realPid, inode: fc.integer({ min: 1, max: 1e9 }) });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 12 }), (rows) => {
        const text = rows.map((r) => ssRecord('127.0.0.1', r.lp, '127.0.0.1', 596, [{ name: r.name, pid: r.pid }], r.inode)).join('\n') + '\n';
        const { sockets, skipped } = parseSsOutput(text);
        assert.equal(skipped, 0);
        assert.equal(sockets.length, rows.length);
        sockets.forEach((s, i) => {
          assert.equal(s.pid, rows[i]!.pid);
          assert.equal(s.inode, rows[i]!.inode);
          assert.equal(s.localPort, rows[i]!.lp);
        });
      }),
      { numRuns: 1500 },
    );
  });

  test('arbitrary text never throws and never yields a port outside 1-65535', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 80 }), hostilePiece, fc.constantFrom('tcp ESTAB 0 0 1.2.3.4:596 5.6.7.8:9 ')), { maxLength: 20 }), (parts) => {
        const { sockets } = parseSsOutput(parts.join(''));
        for (const s of sockets) {
          assert.ok(s.localPort >= 1 && s.localPort <= 65535);
          assert.ok(s.remotePort === null || (s.remotePort >= 1 && s.remotePort <= 65535));
          assert.ok(s.pids.every((p) => Number.isSafeInteger(p) && p > 0));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('systeminformation rows', () => {
  const siRow = fc.record(
    {
      protocol: fc.oneof(fc.constantFrom('tcp', 'tcp6', 'udp', 'udp6', 'TCP', 'icmp', ''), fc.string({ maxLength: 6 })),
      localAddress: fc.oneof(v4, fc.constantFrom('::', '*', '[::1]', '::ffff:127.0.0.1', ''), fc.string({ maxLength: 20 })),
      localPort: fc.oneof(port.map(String), port, fc.constantFrom('*', '0', '-1', '65536', '1e3', ' 596', '596x', ''), fc.double()),
      peerAddress: fc.oneof(v4, fc.constantFrom('*', '0.0.0.0'), fc.string({ maxLength: 20 })),
      peerPort: fc.oneof(port.map(String), fc.constantFrom('*', '', '0')),
      state: fc.oneof(fc.constantFrom('LISTEN', 'ESTABLISHED', 'TIME_WAIT', ''), fc.string({ maxLength: 12 })),
      pid: fc.oneof(fc.constant(null), realPid, fc.constantFrom(0, -1, 1.5, Number.NaN, 2 ** 53)),
      process: fc.oneof(fc.constantFrom('pid=1', '1/evil', '"),("x",pid=1'), fc.string({ maxLength: 30 })),
    },
    { requiredKeys: [] },
  );

  test('any row: no throw; a socket only with a valid port and protocol; the pid only from the pid field', () => {
    fc.assert(
      fc.property(siRow, (row) => {
        const s = fromSiConnection(row as SiConnection);
        if (s === null) return;
        assert.ok(['tcp', 'udp'].includes(s.protocol));
        assert.ok(Number.isInteger(s.localPort) && s.localPort >= 1 && s.localPort <= 65535);
        const expected = typeof row.pid === 'number' && Number.isInteger(row.pid) && row.pid > 0 ? row.pid : null;
        assert.equal(s.pid, expected);
        assert.deepEqual(s.pids, expected === null ? [] : [expected]);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('snapshot diff', () => {
  const sock = (id: string): PortSocket => makeSocket({ id, process: null });
  const ids = fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 30 });

  test('applying the diff to the old set gives the new set; nothing both appears and disappears', () => {
    fc.assert(
      fc.property(ids, ids, (a, b) => {
        const d = diffSockets(a.map(sock), b.map(sock));
        const appeared = d.appeared.map((s) => s.id);
        const disappeared = d.disappeared.map((s) => s.id);
        assert.deepEqual(new Set([...a.filter((id) => !disappeared.includes(id)), ...appeared]), new Set(b));
        assert.ok(appeared.every((id) => !disappeared.includes(id)));
        assert.equal(new Set(appeared).size, appeared.length, 'one event per identity');
      }),
      { numRuns: 2000 },
    );
  });

  test('consecutive diffs net out to the diff across both steps (no event lost or doubled)', () => {
    fc.assert(
      fc.property(ids, ids, ids, (a, b, c) => {
        const ab = diffSockets(a.map(sock), b.map(sock));
        const bc = diffSockets(b.map(sock), c.map(sock));
        const ac = diffSockets(a.map(sock), c.map(sock));
        const net = new Map<string, number>();
        for (const s of [...ab.appeared, ...bc.appeared]) net.set(s.id, (net.get(s.id) ?? 0) + 1);
        for (const s of [...ab.disappeared, ...bc.disappeared]) net.set(s.id, (net.get(s.id) ?? 0) - 1);
        for (const s of ac.appeared) assert.equal(net.get(s.id), 1);
        for (const s of ac.disappeared) assert.equal(net.get(s.id), -1);
        for (const [id, n] of net) if (n !== 0) assert.ok(ac.appeared.some((s) => s.id === id) || ac.disappeared.some((s) => s.id === id));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('flap control', () => {
  const listener = (name: string | null): PortSocket => ({
    id: 'x',
    protocol: 'tcp',
    family: 4,
    localAddress: '127.0.0.13',
    localPort: 596,
    remoteAddress: null,
    remotePort: null,
    state: 'LISTEN',
    pid: name ? 4711 : null,
    process: name ? { pid: 4711, name, path: null, command: name, user: 'root', parentPid: 1, startedAt: null } : null,
    watchedPort: 596,
    side: 'local',
    firstSeenAt: '2026-11-27T10:00:00.000Z',
  });

  test("one program's churn never marks another's event, and an owner a scan missed does not reset the count (issue 15)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('node', 'nc', null)), { minLength: 1, maxLength: 60 }), (steps) => {
        const options = { threshold: 4, windowMs: 60_000, maxEndpoints: 100 };
        const mixed = new FlapTracker(options);
        const alone = new Map<string | null, FlapTracker>();
        let lastNamed: string | null = null;
        let now = 0;
        for (const [gap, name] of steps) {
          now += gap;
          // A socket whose owner was missed belongs to the program last seen there.
          const program: string | null = name ?? lastNamed;
          lastNamed = program;
          if (!alone.has(program)) alone.set(program, new FlapTracker(options));
          assert.equal(mixed.recordTransition(listener(name), now), alone.get(program)!.recordTransition(listener(program), now));
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('a listener, its accepted connections and outbound connections are counted apart', () => {
    const options = { threshold: 2, windowMs: 60_000, maxEndpoints: 100 };
    const t = new FlapTracker(options);
    const accepted = { ...listener('node'), remoteAddress: '127.0.0.1', remotePort: 40000, state: 'ESTABLISHED' };
    const outbound = { ...listener('node'), side: 'remote' as const, localPort: 40001, remoteAddress: '127.0.0.13', remotePort: 596, state: 'ESTABLISHED' };
    for (let i = 0; i < 10; i++) t.recordTransition(accepted, i);
    assert.equal(t.recordTransition(listener('node'), 20), false, "a busy server's connections do not mark its listener");
    assert.equal(t.recordTransition(outbound, 21), false);
    assert.equal(t.recordTransition(accepted, 22), true);
  });
});

describe('CLI arguments', () => {
  const hostileArg = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.constantFrom('\u202e', '\x1b[2J', 'a\nb', '--port=\u202e596', '--port=596\n', '--since=2026-01-01T00:00:00Z\x07', '--data-dir=\x1b]0;x\x07', '-'.repeat(3), '--json=1'),
    fc.string({ minLength: 1000, maxLength: 5000 }),
  );

  test('any argv: no throw; a refusal is one printable line with no control or bidi characters', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(hostileArg, fc.constantFrom('scan', 'watch', 'history', '--port', '--interval', '--since', '--data-dir', '--json')), { maxLength: 8 }), (argv) => {
        const r = parseCliArgs(argv);
        if (r.ok) return;
        assert.ok(r.reason.length > 0 && r.reason.length < 200, `length ${r.reason.length}`);
        assert.doesNotMatch(r.reason, /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/);
      }),
      { numRuns: 3000 },
    );
  });

  test('every valid command survives a round trip through argv', () => {
    const ports = fc.uniqueArray(port, { minLength: 1, maxLength: 4 });
    const command = fc.oneof(
      fc.record({ command: fc.constant('scan' as const), ports, json: fc.boolean() }),
      fc.record({ command: fc.constant('watch' as const), ports, json: fc.boolean(), intervalMs: fc.integer({ min: 250, max: 3_600_000 }), noHistory: fc.boolean() }),
    );
    fc.assert(
      fc.property(command, fc.boolean(), (cmd, equals) => {
        const argv: string[] = [cmd.command];
        for (const p of cmd.ports) argv.push(...(equals ? [`--port=${p}`] : ['--port', String(p)]));
        if (cmd.json) argv.push('--json');
        if (cmd.command === 'watch') {
          argv.push('--interval', String(cmd.intervalMs));
          if (cmd.noHistory) argv.push('--no-history');
        }
        const r = parseCliArgs(argv);
        assert.ok(r.ok, r.ok ? '' : r.reason);
        assert.equal(r.value.command, cmd.command);
        const value = r.value.options;
        assert.deepEqual(value.port, [...cmd.ports].sort((a, b) => a - b));
        assert.equal(value.json ?? false, cmd.json);
        if (cmd.command === 'watch') {
          assert.equal(value.interval, cmd.intervalMs);
          assert.equal(value.history, cmd.noHistory ? false : undefined);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

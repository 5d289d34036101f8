/**
 * The netlink probe helper: built from source, it reports exactly the sockets on port 596 that
 * `ss` reports (real sockets held by a child process), stays one process across probes, and is
 * bounded: an error or a hang rejects (the scanner then falls back to ss) and the next probe
 * works again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from '../../electron/build/build-native.ts';
import { NativeProbe, parseDiagRow, parsePeerRow } from '#node/native-probe.ts';
import { createLinuxScanner, PROC_NET_MAX_SOCKETS, ssArgs } from '#node/scanner.ts';
import { readProcNet, socketTableSize } from '#node/proc-net.ts';
import { createServer, type Socket } from 'node:net';
import { realTool } from '../support/tools.ts';
import { parseSsOutput, type RawSocket } from '#common/socket-parse.ts';
import { killAllHolders, startHolder } from '../support/port-holder.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = buildNative(root);
const isRoot = process.getuid?.() === 0;
const skipBuild = built.ok ? false : `helper not built: ${built.message}`;
const skipReal = skipBuild || (isRoot ? false : 'binding port 596 needs root');
const setpriv = realTool('setpriv');
// TCP_BOUND_INACTIVE: Linux 6.7 dumps sockets that are only bound when asked.
const [major = 0, minor = 0] = release().split('.').map(Number);
const kernelListsBound = major > 6 || (major === 6 && minor >= 7);

const probes: NativeProbe[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ghostport-diag-'));
after(async () => {
  for (const p of probes) p.dispose();
  await killAllHolders();
  rmSync(dir, { recursive: true, force: true });
});

function found(): NativeProbe {
  const probe = NativeProbe.find();
  assert.ok(probe, 'NativeProbe.find() finds the built helper');
  probes.push(probe);
  return probe;
}

/** The fields both sources report, one string per socket, sorted. */
function comparable(rows: readonly RawSocket[]): string[] {
  return rows
    .filter((r) => r.state !== 'TIME_WAIT')
    .map((r) => [r.protocol, r.family, r.state, r.localAddress, r.localPort, r.remoteAddress ?? '*', r.remotePort ?? '*', r.inode].join(' '))
    .sort();
}

function ssRows(): RawSocket[] {
  const text = execFileSync('ss', ssArgs([596]), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  const parsed = parseSsOutput(text);
  assert.equal(parsed.skipped, 0);
  return parsed.sockets;
}

test('the build reports what it did', () => {
  if (!built.ok) process.stdout.write(`# SKIPPED native probe tests: ${built.message}\n`);
  assert.match(built.message, /^build-native: /);
});

test('rows parse into raw sockets, unreadable rows do not', () => {
  assert.deepEqual(parseDiagRow('tcp 6 ESTABLISHED ::ffff:127.0.0.1 596 ::FFFF:10.0.0.2 40000 123 0'), {
    protocol: 'tcp',
    family: 6,
    localAddress: '127.0.0.1',
    localPort: 596,
    remoteAddress: '10.0.0.2',
    remotePort: 40000,
    state: 'ESTABLISHED',
    pid: null,
    pids: [],
    inode: 123,
    uid: 0,
  });
  assert.equal(parseDiagRow('udp 4 UNCONN 0.0.0.0 596 * * 7 65534')?.remotePort, null);
  for (const bad of ['', 'END 0', 'tcp 4 LISTEN 0.0.0.0 0 * * 1 0', 'sctp 4 LISTEN 0.0.0.0 596 * * 1 0', 'tcp 4 LISTEN 0.0.0.0 596 * * 1']) {
    assert.equal(parseDiagRow(bad), null, bad);
  }
});

describeReal();

function describeReal(): void {
  let holders: { tcp: number; client: number } | null = null;
  before(async () => {
    if (skipReal) return;
    const server = await startHolder({
      tcpListen: [
        ['0.0.0.0', 596],
        ['::', 596, true],
      ],
      udpBind: [
        ['0.0.0.0', 596],
        ['::', 596, true],
      ],
    });
    const client = await startHolder({ tcpConnect: [['127.0.0.1', 596]] });
    holders = { tcp: server.pid, client: client.pid };
  });

  test('reports the same sockets on 596 as ss: listeners v4/v6, UDP v4/v6, a client and the accepted side', { skip: skipReal }, async () => {
    assert.ok(holders);
    const probe = found();
    // Sockets are stable here (no TIME_WAIT expected), but allow the accepted side a moment to appear.
    let mine: string[] = [];
    let theirs: string[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      mine = comparable(await probe.probe([596], 5000));
      theirs = comparable(ssRows());
      if (mine.join('\n') === theirs.join('\n')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(mine, theirs);
    const expected = ['tcp 4 LISTEN 0.0.0.0 596', 'tcp 6 LISTEN :: 596', 'udp 4 UNCONN 0.0.0.0 596', 'udp 6 UNCONN :: 596'];
    for (const e of expected) assert.ok(mine.some((row) => row.startsWith(`${e} `)), `${e} in\n${mine.join('\n')}`);
    assert.equal(mine.filter((row) => row.startsWith('tcp 4 ESTABLISHED 127.0.0.1 ')).length, 2, 'the client and the accepted side');
  });

  test('one helper serves every probe, and concurrent probes each get their answer', { skip: skipReal }, async () => {
    const probe = found();
    await probe.probe([596], 5000);
    const pid = probe.pid;
    assert.ok(pid);
    // Ports 1 and 3: below the ephemeral range, and nothing here binds them.
    const answers = await Promise.all([[596], [1], [596, 1], [3]].map((ports) => probe.probe(ports, 5000)));
    assert.equal(probe.pid, pid);
    assert.ok(answers[0]!.length >= 6);
    assert.equal(answers[1]!.length, 0);
    assert.equal(answers[2]!.length, answers[0]!.length);
    assert.equal(answers[3]!.length, 0);
  });

  test('the kernel filter changes nothing: the same rows with and without it', { skip: skipReal }, async () => {
    const filtered = new NativeProbe(join(root, 'dist/native/ghostport-diag'));
    const unfiltered = new NativeProbe(join(root, 'dist/native/ghostport-diag'), ['--no-bytecode']);
    probes.push(filtered, unfiltered);
    assert.deepEqual(comparable(await filtered.probe([596, 22, 53], 5000)), comparable(await unfiltered.probe([596, 22, 53], 5000)));
  });

  test('one TCP walk for both families (TCPDIAG_GETSOCK) gives the same rows as one per family', { skip: skipReal }, async () => {
    const combined = new NativeProbe(join(root, 'dist/native/ghostport-diag'));
    const perFamily = new NativeProbe(join(root, 'dist/native/ghostport-diag'), ['--no-compat']);
    probes.push(combined, perFamily);
    const rows = comparable(await combined.probe([596], 5000));
    assert.ok(rows.some((r) => r.startsWith('tcp 4')) && rows.some((r) => r.startsWith('tcp 6')), `both families: ${rows.join(' / ')}`);
    assert.deepEqual(rows, comparable(await perFamily.probe([596], 5000)));
  });

  test('a TCP socket only bound (not listening, not connecting) is a BOUND row of both families (Linux 6.7+), unlike ss and /proc/net/tcp; once it listens, LISTEN', { skip: skipReal }, async () => {
    // Port 5: below the ephemeral range, free in the test's namespace.
    const program = 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",5))\ns6=socket.socket(socket.AF_INET6)\ns6.bind(("::1",5))\nprint("bound",flush=True)\nsys.stdin.readline()\ns.listen()\nprint("listening",flush=True)\nsys.stdin.readline()';
    const py = spawn('python3', ['-c', program], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
    const brief = (rows: readonly RawSocket[]) => comparable(rows).map((r) => r.split(' ').slice(0, 5).join(' '));
    try {
      assert.equal((await lines.next()).value, 'bound');
      const probe = found();
      const perFamily = new NativeProbe(join(root, 'dist/native/ghostport-diag'), ['--no-compat']);
      const without = new NativeProbe(join(root, 'dist/native/ghostport-diag'), ['--no-bound-inactive']);
      probes.push(perFamily, without);
      const expected = kernelListsBound ? ['tcp 4 BOUND 127.0.0.1 5', 'tcp 6 BOUND ::1 5'] : [];
      assert.deepEqual(brief(await probe.probe([5], 5000)), expected);
      assert.deepEqual(brief(await perFamily.probe([5], 5000)), expected);
      assert.deepEqual(await without.probe([5], 5000), [], 'without TCP_BOUND_INACTIVE the kernel lists none');
      assert.deepEqual(parseSsOutput(execFileSync('ss', ssArgs([5]), { encoding: 'utf8' })).sockets.filter((r) => r.state !== 'BOUND'), []);
      assert.deepEqual(readProcNet([5]), [], 'no /proc/net table lists them');
      py.stdin.write('\n');
      assert.equal((await lines.next()).value, 'listening');
      assert.deepEqual(brief(await probe.probe([5], 5000)), ['tcp 4 LISTEN 127.0.0.1 5', ...expected.slice(1)]);
    } finally {
      py.kill();
    }
  });

  test('a one-shot scan reads a small table from /proc/net (no process started); a watch asks the helper from its first poll: the same sockets', { skip: skipReal }, async () => {
    const log = join(dir, 'watch-requests');
    const wrapper = join(dir, 'logging-diag');
    writeFileSync(wrapper, `#!/bin/sh\ntee -a '${log}' | '${join(root, 'dist/native/ghostport-diag')}' "$@"\n`, { mode: 0o755 });
    const saved = process.env.GHOSTPORT_DIAG;
    process.env.GHOSTPORT_DIAG = wrapper;
    const oneShot = createLinuxScanner(5000, undefined, { oneShot: true });
    const watch = createLinuxScanner(5000);
    const logged = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    try {
      assert.ok((socketTableSize() ?? Number.POSITIVE_INFINITY) <= PROC_NET_MAX_SOCKETS, 'a small table');
      const first = await oneShot.scan([596]);
      await oneShot.scan([596]);
      assert.equal(logged(), '', 'the one-shot scanner asked no helper');
      const watched = await watch.scan([596]);
      for (let i = 0; i < 100 && !/^596$/m.test(logged()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(logged(), /^596$/m, "the watch's first probe asked the helper");
      assert.ok(first.sockets.length >= 6, `the holders' sockets: ${first.sockets.length}`);
      assert.deepEqual(comparable(watched.sockets), comparable(first.sockets));
    } finally {
      oneShot.dispose?.();
      watch.dispose?.();
      if (saved === undefined) delete process.env.GHOSTPORT_DIAG;
      else process.env.GHOSTPORT_DIAG = saved;
    }
  });

  test("one process's own sockets: copies of its descriptors and the dump matched by inode give the rows the port probe gives", { skip: skipReal }, async () => {
    assert.ok(holders);
    const probe = found();
    const held = new Map<number, number>();
    for (const fd of readdirSync(`/proc/${holders.tcp}/fd`)) {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${holders.tcp}/fd/${fd}`))?.[1];
      if (inode) held.set(Number(inode), Number(fd));
    }
    const onPort = comparable((await probe.probe([596], 5000)).filter((r) => r.inode !== null && held.has(r.inode)));
    assert.ok(onPort.length >= 5, `the holder's listeners, UDP sockets and accepted side: ${onPort.join(' / ')}`);
    // The holder's other sockets (its stdio socketpairs, unix) are not TCP or UDP: left out.
    assert.deepEqual(comparable(await probe.socketsOf(holders.tcp, held, 5000)), onPort);
    assert.deepEqual(comparable(await probe.socketsByInode([...held.keys()], 5000)), onPort);
    // A descriptor whose socket is not the one listed (closed and reused) is left out, not misdescribed.
    const [inode, fd] = [...held].find(([i]) => onPort.some((row) => row.endsWith(` ${i}`)))!;
    assert.deepEqual(await probe.socketsOf(holders.tcp, new Map([[inode + 1, fd]]), 5000), []);
    await assert.rejects(probe.socketsOf(0, held, 5000), /invalid/);
    await assert.rejects(probe.socketsOf(2 ** 22 - 1, held, 5000), /ghostport-diag: pidfd_open/);
  });

  test("a Unix client's pid and uid from the kernel (SO_PEERCRED through a copy of our accepted descriptor), only for the socket named", { skip: skipReal || (setpriv ? false : 'needs setpriv (util-linux)') }, async () => {
    const path = join(dir, 'peer.sock');
    chmodSync(dir, 0o755);
    const server = createServer();
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    chmodSync(path, 0o777);
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
    const client = spawn(setpriv!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, '-e', `require('net').connect(${JSON.stringify(path)}); setTimeout(() => {}, 60000)`], { stdio: 'ignore' });
    try {
      const socket = await accepted;
      const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
      const inode = Number(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))![1]);
      const probe = found();
      // setpriv execs node: the client's pid is the child's.
      assert.deepEqual(await probe.peerOf(process.pid, fd, inode, 5000), { pid: client.pid, uid: nobody, gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })) });
      await assert.rejects(probe.peerOf(process.pid, fd, inode + 1, 5000), /no longer the Unix socket/);
      await assert.rejects(probe.peerOf(process.pid, fd, 0, 5000), /invalid/);
      // A helper without ptrace rights over the service (not root) cannot copy the descriptor.
      const unprivileged = new NativeProbe(setpriv!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', join(root, 'dist/native/ghostport-diag')]);
      probes.push(unprivileged);
      await assert.rejects(unprivileged.peerOf(process.pid, fd, inode, 5000), /pidfd_getfd .*Operation not permitted/);
      socket.destroy();
    } finally {
      client.kill();
      server.close();
    }
  });
}

test("the peer row parses into a pid, uid and gid; pid 0 (another PID namespace) is unknown; anything else is no row", () => {
  assert.deepEqual(parsePeerRow('4711 1000 100'), { pid: 4711, uid: 1000, gid: 100 });
  assert.deepEqual(parsePeerRow('0 65534 65534'), { pid: null, uid: 65534, gid: 65534 });
  for (const bad of ['', '1 2', '1 2 3 4', '-1 0 0', '1 0 0 ', 'tcp 4 LISTEN 0.0.0.0 596 * * 1 0', '99999999 0 0', '1 99999999999 0']) assert.equal(parsePeerRow(bad), null, bad);
});

test('an error answer rejects, a hang is bounded, and the next probe gets a fresh helper', { skip: skipBuild }, async () => {
  const fake = join(dir, 'fake-diag');
  // Answers ERR once, then hangs on the next request.
  writeFileSync(fake, '#!/bin/sh\nread line; echo "ERR netlink recv: No buffer space available"\nread line; sleep 30\n');
  chmodSync(fake, 0o755);
  const saved = process.env.GHOSTPORT_DIAG;
  process.env.GHOSTPORT_DIAG = fake;
  try {
    const probe = found();
    await assert.rejects(probe.probe([596], 5000), /No buffer space/);
    const first = probe.pid;
    const started = Date.now();
    await assert.rejects(probe.probe([596], 300), /did not answer within 300 ms/);
    assert.ok(Date.now() - started < 5000);
    assert.equal(probe.pid, null, 'the hung helper is gone');
    await assert.rejects(probe.probe([596], 5000), /No buffer space/);
    assert.notEqual(probe.pid, first);
  } finally {
    if (saved === undefined) delete process.env.GHOSTPORT_DIAG;
    else process.env.GHOSTPORT_DIAG = saved;
  }
});

test('find() returns null when the helper is not there', () => {
  const saved = process.env.GHOSTPORT_DIAG;
  process.env.GHOSTPORT_DIAG = join(dir, 'no-such-helper');
  try {
    assert.equal(NativeProbe.find(), null);
  } finally {
    if (saved === undefined) delete process.env.GHOSTPORT_DIAG;
    else process.env.GHOSTPORT_DIAG = saved;
  }
});

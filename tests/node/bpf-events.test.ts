/**
 * UDP events from eBPF (Linux, root, first PID namespace, the helper built with clang, bpftool
 * and libbpf): a datagram sent from an unconnected socket to 127.0.0.1:596 and [::1]:596, a
 * UDP socket bound to 596 for 50 ms, and a datagram sent from another network namespace are
 * reported by the real engine polling once a minute, as that socket with the datagram's
 * destination, its owner and source "kernel"; the kernel filter follows the ports; a flood stays
 * bounded; nothing is left in the kernel after a stop or a SIGKILL. The hooks see every process
 * of the machine: every assertion is about this test's own processes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Engine } from '#node/engine.ts';
import { createBpfEvents, parseBpfLine } from '#node/bpf-events.ts';
import type { KernelTransition } from '#node/kernel-events.ts';
import type { PortEvent } from '#common/model.ts';
import { toEventJson } from '#common/cli-json.ts';
import { waitFor } from '../support/port-holder.ts';
import { kernelSkip } from '../support/kernel-skip.ts';

const PORT = 596;
const PY = '/usr/bin/python3';

test('helper lines parse with validation', () => {
  const send = parseBpfLine('event send udp 4 0.0.0.0 37073 127.0.0.1 596 21478 707974686f6e33 4026531833 3 26750 570890039029');
  assert.deepEqual(send, {
    type: 'event',
    kind: 'send',
    transition: {
      protocol: 'udp', family: 4, localAddress: '0.0.0.0', localPort: 37073, remoteAddress: '127.0.0.1', remotePort: 596,
      oldState: 'CLOSE', newState: 'UNCONN', pid: 21478, comm: 'python3', stamp: '570.890039029', cookie: '26750', datagram: true, netnsInode: 4026531833,
    },
  });
  const connect = parseBpfLine('event connect udp 6 :: * ::1 596 7 6e0a1b5b33316d 4026531833 3 9 1000000001');
  assert.equal(connect?.type === 'event' && connect.transition.localPort, 0, 'a connect before its port is chosen');
  assert.equal(connect?.type === 'event' && connect.transition.comm, 'n\n\u001b[31m', 'the name as the kernel has it (escaped where shown)');
  assert.equal(connect?.type === 'event' && connect.transition.stamp, '1.000000001');
  const bind = parseBpfLine('event bind udp 4 127.0.0.1 596 * * 5 - 0 3 10 20');
  assert.ok(bind?.type === 'event' && bind.transition.remoteAddress === null && bind.transition.remotePort === null && bind.transition.comm === null && bind.transition.netnsInode === undefined);
  assert.deepEqual(parseBpfLine('stat 3 99'), { type: 'stat', lost: 3, coalesced: 99 });
  assert.deepEqual(parseBpfLine('ready'), { type: 'ready' });
  assert.deepEqual(parseBpfLine('error cannot load'), { type: 'error', message: 'cannot load' });
  for (const bad of [
    'event send udp 4 0.0.0.0 37073 127.0.0.1 596 21478 70797468 4026531833 3 26750', // a field short
    'event send tcp 4 0.0.0.0 37073 127.0.0.1 596 21478 70797468 4026531833 3 26750 5', // not UDP
    'event send udp 4 0.0.0.0 70000 127.0.0.1 596 21478 70797468 4026531833 3 26750 5', // no such port
    'event send udp 4 0.0.0.0 0 127.0.0.1 596 21478 70797468 4026531833 3 26750 5',
    'event send udp 4 ::1 5 127.0.0.1 596 21478 70797468 4026531833 3 26750 5', // family and address disagree
    'event send udp 6 ::1 5 <script> 596 21478 70797468 4026531833 3 26750 5',
    'event send udp 4 0.0.0.0 5 127.0.0.1 596 21478 python3 4026531833 3 26750 5', // a name not in hex
    'event send udp 4 0.0.0.0 5 127.0.0.1 596 -1 70797468 4026531833 3 26750 5',
    'event listen udp 4 0.0.0.0 5 127.0.0.1 596 1 70797468 4026531833 3 26750 5',
    'stat 1',
    'stat x 2',
    '',
  ]) {
    assert.equal(parseBpfLine(bad), null, bad);
  }
});

const skip = kernelSkip({ bpf: true });

/** Runs a short Python program to its end (it stays 300 ms after its work: the owner is read at the event); returns its pid. */
function run(program: string, wrap: readonly string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(wrap[0] ?? PY, [...wrap.slice(1), ...(wrap.length > 0 ? [PY] : []), '-c', `${program}\nimport time; time.sleep(0.3)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += String(c)));
    child.once('exit', (code) => (code === 0 ? resolve(Number(out.trim()) || child.pid!) : reject(new Error(`python exited with ${code}`))));
  });
}

function collect(engine: Engine): PortEvent[] {
  const events: PortEvent[] = [];
  engine.onScan((_, batch) => events.push(...batch));
  return events;
}

/** The ids of the BPF programs a process holds (its descriptors' fdinfo names them). */
function programIdsOf(pid: number): number[] {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^prog_id:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch {
      // Closed meanwhile.
    }
  }
  return [...ids];
}

/** A loaded program's name, or null when the kernel has no program by that id. */
function programName(id: number): string | null {
  const shown = spawnSync(BPFTOOL, ['prog', 'show', 'id', String(id), '--json'], { encoding: 'utf8' });
  return shown.status === 0 ? ((JSON.parse(shown.stdout) as { name?: string }).name ?? '?') : null;
}
const BPFTOOL = ['/usr/sbin/bpftool', '/sbin/bpftool', '/usr/bin/bpftool'].find((p) => existsSync(p)) ?? 'bpftool';

const UNCONNECTED_SEND = (host: string, family: string) => `import socket
u=socket.socket(socket.${family}, socket.SOCK_DGRAM); u.sendto(b'x', ('${host}',${PORT})); u.close()`;

describe('eBPF UDP events on real sockets', { skip }, () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  test('datagrams from unconnected sockets (IPv4, IPv6, another network namespace) and a 50 ms bind are reported between polls, with owners and source "kernel"', { timeout: 60_000 }, async () => {
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
    const events = collect(engine);
    engine.start();
    try {
      await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 10_000);
      assert.match(engine.snapshot!.sight!.note, /UDP datagrams sent to the watched ports/);
      // On a timeout, say what did arrive.
      const waitOr = <T>(check: () => T | undefined, what: string) =>
        waitFor(check, 5000).catch((error: unknown) => {
          throw new Error(`${String(error)}: ${what}; events: ${JSON.stringify(events.map((e) => [e.type, e.source, e.socket.protocol, e.socket.pid, e.socket.localPort, e.socket.remotePort, e.socket.id]))}`);
        });
      const mine = (pid: number, check: (e: PortEvent) => boolean, what: string) => waitOr(() => events.find((e) => e.type === 'appeared' && e.socket.pid === pid && e.socket.protocol === 'udp' && check(e)), `${what} (pid ${pid})`);
      const pairOf = async (appeared: PortEvent) => {
        const gone = await waitOr(() => events.find((e) => e.type === 'disappeared' && e.socket.id === appeared.socket.id), `the disappeared of ${appeared.socket.id}`);
        assert.equal(gone.source, 'kernel');
      };

      const four = await run(UNCONNECTED_SEND('127.0.0.1', 'AF_INET'));
      const v4 = await mine(four, (e) => e.socket.remotePort === PORT, 'the IPv4 datagram');
      assert.equal(v4.source, 'kernel');
      assert.equal((toEventJson(v4) as { source?: string }).source, 'kernel');
      assert.equal(v4.socket.family, 4);
      assert.equal(v4.socket.remoteAddress, '127.0.0.1', "the datagram's destination");
      assert.equal(v4.socket.side, 'remote');
      assert.equal(v4.socket.state, 'UNCONN');
      assert.ok(v4.socket.localPort > 0, 'the port the kernel gave the sender');
      assert.equal(v4.socket.process?.pid, four);
      assert.match(v4.socket.process?.command ?? '', /python3 -c/, 'the command line, read at the event');
      assert.equal(v4.socket.netns?.host, true);
      await pairOf(v4);

      const six = await run(UNCONNECTED_SEND('::1', 'AF_INET6'));
      const v6 = await mine(six, (e) => e.socket.remotePort === PORT, 'the IPv6 datagram');
      assert.equal(v6.socket.family, 6);
      assert.equal(v6.socket.remoteAddress, '::1');
      await pairOf(v6);

      const binder = await run(`import socket,time
b=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(('127.0.0.1',${PORT})); time.sleep(0.05); b.close()`);
      const bound = await mine(binder, (e) => e.socket.localPort === PORT, 'the 50 ms bind');
      assert.equal(bound.source, 'kernel');
      assert.equal(bound.socket.localAddress, '127.0.0.1');
      assert.equal(bound.socket.remoteAddress, null);
      assert.equal(bound.socket.side, 'local');
      await pairOf(bound);

      // Another network namespace: the pid is printed by the program, inside unshare.
      const elsewhere = await run(`import os\nprint(os.getpid(), flush=True)\n${UNCONNECTED_SEND('127.0.0.1', 'AF_INET')}`, ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"']);
      const away = await mine(elsewhere, (e) => e.socket.remotePort === PORT, 'the datagram from another namespace');
      assert.equal(away.socket.netns?.host, false, 'not the host namespace');
      assert.notEqual(away.socket.netns?.inode, v4.socket.netns?.inode);
      await pairOf(away);
    } finally {
      await engine.stop();
    }
  });

  test('UDP sockets that stay (bound to 596, connected to 596) are the poll\'s once: no kernel-only pair', { timeout: 60_000 }, async () => {
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
    const events = collect(engine);
    engine.start();
    try {
      await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 10_000);
      const child = spawn(PY, ['-c', `import socket,time
b=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); b.bind(('::',${PORT}))
c=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(('127.0.0.1',${PORT}))
time.sleep(1.5); b.close(); c.close(); time.sleep(0.5)`], { stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
      await new Promise((r) => child.once('exit', r));
      const ours = () => events.filter((e) => e.socket.pid === child.pid && e.socket.protocol === 'udp');
      await waitFor(() => ours().filter((e) => e.type === 'disappeared').length >= 2, 5000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      // Each once: the scan its event prompted saw it (or, had that scan run before the connect
      // completed, the kernel's pair alone names it), never both.
      const seen = ours().map((e) => `${e.type} ${e.socket.localPort} ${e.socket.remotePort ?? '*'}`).sort();
      const port = ours().find((e) => e.socket.remotePort === PORT)?.socket.localPort;
      assert.ok(port !== undefined && port > 0, JSON.stringify(seen));
      assert.deepEqual(seen, [`appeared ${PORT} *`, `appeared ${port} ${PORT}`, `disappeared ${PORT} *`, `disappeared ${port} ${PORT}`].sort(), JSON.stringify(ours().map((e) => [e.type, e.socket.localPort, e.socket.remotePort, e.socket.inode, e.at])));
      assert.ok(ours().every((e) => e.source === 'kernel'));
    } finally {
      await engine.stop();
    }
  });

  test('a flood of datagrams from 5,000 fresh sockets stays bounded: a few pairs a scan, every datagram counted', { timeout: 60_000 }, async () => {
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
    const events = collect(engine);
    let lost = 0;
    let scans = 0;
    engine.onScan((snapshot) => {
      scans++;
      for (const issue of snapshot.issues) if (issue.code === 'kernel-events-flood') lost += Number(/no room for (\d+) events/.exec(issue.message)?.[1] ?? 0);
    });
    engine.start();
    try {
      await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 10_000);
      const before = engine.snapshot!.sight!.coalesced ?? 0;
      const scansBefore = scans;
      const flooder = await run(`import socket
for i in range(5000):
    u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b'x', ('127.0.0.1',${PORT})); u.close()`);
      const pairs = () => events.filter((e) => e.type === 'appeared' && e.socket.pid === flooder).length;
      const accounted = () => (engine.snapshot!.sight!.coalesced ?? 0) - before + lost + pairs();
      await waitFor(() => accounted() >= 5000, 10_000).catch(() => assert.fail(`${accounted()} of 5000 datagrams accounted for (${pairs()} pairs, ${lost} lost)`));
      // At most eight sending sockets of one flow a scan; one scan per burst of events.
      assert.ok(pairs() >= 1 && pairs() <= 8 * (scans - scansBefore) && pairs() < 500, `${pairs()} pairs for 5000 datagrams in ${scans - scansBefore} scans`);
    } finally {
      await engine.stop();
    }
  });

  test('the kernel filter follows the ports; a flood from one socket is coalesced and counted', { timeout: 60_000 }, async () => {
    const source = createBpfEvents();
    const seen: KernelTransition[] = [];
    const status = await source.start([PORT], (batch) => seen.push(...batch));
    assert.equal(status.active, true, JSON.stringify(status));
    try {
      const sendTo = (port: number) => `import socket,os
print(os.getpid(), flush=True)
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b'x', ('127.0.0.1',${port})); u.close()`;
      const first = await run(sendTo(8597));
      source.setPorts([8597]);
      await new Promise((r) => setTimeout(r, 200));
      const second = await run(sendTo(8597));
      const third = await run(sendTo(PORT));
      await waitFor(() => seen.some((t) => t.pid === second), 5000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(seen.some((t) => t.pid === first), false, '8597 was not watched yet');
      assert.equal(seen.some((t) => t.pid === third), false, '596 is not watched any more');

      const flooder = await run(`import socket,os
print(os.getpid(), flush=True)
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5000): u.sendto(b'x', ('127.0.0.1',8597))
u.close()`);
      // One event per flow and second (the loop takes well under a second here), the rest counted.
      const reported = () => seen.filter((t) => t.pid === flooder).length;
      await waitFor(() => (source.condition?.().coalesced ?? 0) + reported() >= 5000, 5000);
      assert.ok(reported() >= 1 && reported() <= 3, `${reported()} events for 5000 datagrams of one flow`);
    } finally {
      await source.stop();
    }
  });

  test('where no cgroup2 hierarchy is mounted, the helper mounts one only while it opens its root', { timeout: 30_000 }, async () => {
    const helper = fileURLToPath(new URL('../../dist/native/ghostport-bpf', import.meta.url));
    // A mount namespace of its own without any cgroup2 mount (as on a cgroup v1 system).
    const script = `for m in $(awk '$9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do umount -l "$m"; done
grep -c ' - cgroup2 ' /proc/self/mountinfo
exec "$0" ${PORT}`;
    const child = spawn('unshare', ['--mount', 'sh', '-c', script, helper], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += String(c)));
    await waitFor(() => out.includes('ready'), 10_000).catch(() => assert.fail(`the helper said: ${out}`));
    assert.match(out, /^0\n/, 'no cgroup2 mount in its namespace');
    const sender = await run(`import os\nprint(os.getpid(), flush=True)\n${UNCONNECTED_SEND('127.0.0.1', 'AF_INET')}`);
    await waitFor(() => out.split('\n').some((l) => l.startsWith('event send ') && l.split(' ')[8] === String(sender)), 5000);
    assert.equal(readFileSync(`/proc/${child.pid}/mountinfo`, 'utf8').includes(' - cgroup2 '), false, 'the mount is gone again');
    assert.deepEqual(readdirSync('/run').filter((n) => n.startsWith('ghostport-bpf-')), [], 'and its directory');
    child.stdin!.end();
    await new Promise((r) => child.once('exit', r));
  });

  test('nothing is left in the kernel: not after a stop, not after the helper or its parent is killed', { timeout: 60_000 }, async () => {
    const source = createBpfEvents();
    await source.start([PORT], () => undefined);
    const helper = Number(spawnSync('pgrep', ['-P', String(process.pid), '-f', 'ghostport-bpf'], { encoding: 'utf8' }).stdout.trim().split('\n')[0]);
    assert.ok(helper > 0, 'the helper runs');
    const ids = programIdsOf(helper);
    assert.deepEqual(ids.map(programName).sort(), ['bind4', 'bind6', 'connect4', 'connect6', 'release', 'send4', 'send6']);
    await source.stop();
    // The kernel frees a program a moment after its last reference goes (RCU).
    await waitFor(() => ids.every((id) => programName(id) === null), 5000).catch(() => assert.deepEqual(ids.map(programName), ids.map(() => null), 'stop unloads every program'));

    // A Ghostport killed with SIGKILL: its helper dies with it, and the kernel drops what it held.
    const parent = spawn(process.execPath, ['--input-type=module', '-e', `
      const { createBpfEvents } = await import(${JSON.stringify(new URL('../../electron/node/bpf-events.ts', import.meta.url).href)});
      const status = await createBpfEvents().start([${PORT}], () => undefined);
      console.log(JSON.stringify(status));
      setInterval(() => undefined, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(parent);
    let out = '';
    parent.stdout!.on('data', (c: Buffer) => (out += String(c)));
    await waitFor(() => out.includes('"active":true'), 15_000);
    const orphan = Number(spawnSync('pgrep', ['-P', String(parent.pid), '-f', 'ghostport-bpf'], { encoding: 'utf8' }).stdout.trim());
    assert.ok(orphan > 0);
    const held = programIdsOf(orphan);
    assert.equal(held.filter((id) => programName(id) !== null).length, 7);
    parent.kill('SIGKILL');
    await waitFor(() => spawnSync('kill', ['-0', String(orphan)]).status !== 0, 5000);
    await waitFor(() => held.every((id) => programName(id) === null), 5000).catch(() => assert.deepEqual(held.map(programName), held.map(() => null), 'gone with the killed Ghostport'));
  });
});

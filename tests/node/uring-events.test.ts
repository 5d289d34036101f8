/**
 * io_uring (Linux, root, first PID namespace, tracefs and the eBPF helper): sockets that touch
 * 596 only through io_uring (tests/support/uring-596.c: no send, connect, bind or listen system
 * call) and live a few milliseconds are reported by the real engine polling once a minute, with
 * source "kernel" and the test program as owner, whether the kernel runs the request in
 * io_uring_enter, in an io-wq worker thread (IOSQE_ASYNC) or in the ring's SQPOLL thread. UDP
 * sends, connects and binds and TCP binds reach the eBPF cgroup hooks, TCP state changes the
 * inet_sock_set_state tracepoint: neither is a system call tracepoint. The trace names the thread
 * a TCP change ran in (an io_uring worker, any thread of a program): the owner must be its
 * process. Every assertion is about this test's own processes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '#node/engine.ts';
import type { PortEvent } from '#common/model.ts';
import { waitFor } from '../support/port-holder.ts';
import { scratchDirs } from '../support/scratch.ts';
import { kernelSkip } from '../support/kernel-skip.ts';

const PORT = 596;
const root = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE = join(root, 'tests/support/uring-596.c');

const linuxRoot = process.platform === 'linux' && process.getuid?.() === 0;
// Mounted, or mountable (the engine mounts it where needed).
const hasTracefs = linuxRoot && /\ttracefs$/m.test(readFileSync('/proc/filesystems', 'utf8'));
const ioUring = linuxRoot && existsSync('/proc/sys/kernel/io_uring_disabled') ? readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() : null;
const hasCc = spawnSync('cc', ['--version']).status === 0;
const skip =
  kernelSkip({ bpf: true }) ||
  (!hasTracefs
    ? 'the kernel has no tracefs'
    : ioUring !== null && ioUring !== '0'
      ? `io_uring is disabled here (kernel.io_uring_disabled = ${ioUring})`
      : !hasCc
        ? 'no C compiler (cc) to build the io_uring test program'
        : false);

/** What each run of the program must be reported as. */
const CASES = [
  { op: 'sendmsg', family: 4, where: 'inline' },
  { op: 'sendmsg', family: 4, where: 'async' },
  { op: 'sendmsg', family: 4, where: 'sqpoll' },
  { op: 'sendmsg', family: 6, where: 'inline' },
  { op: 'send-zc', family: 4, where: 'inline' },
  { op: 'send-zc', family: 6, where: 'async' },
  { op: 'connect', family: 4, where: 'inline' },
  { op: 'connect', family: 4, where: 'async' },
  { op: 'connect', family: 4, where: 'sqpoll' },
  { op: 'connect', family: 6, where: 'inline' },
  { op: 'listen', family: 4, where: 'inline' },
  { op: 'listen', family: 4, where: 'async' },
  { op: 'listen', family: 6, where: 'sqpoll' },
  { op: 'bind', family: 4, where: 'inline' },
  { op: 'bind', family: 6, where: 'async' },
  { op: 'udp-connect', family: 4, where: 'async' },
  { op: 'udp-bind', family: 6, where: 'inline' },
] as const;
const EXPECTED = {
  sendmsg: { protocol: 'udp', state: 'UNCONN', side: 'remote' },
  'send-zc': { protocol: 'udp', state: 'UNCONN', side: 'remote' },
  connect: { protocol: 'tcp', state: 'SYN_SENT', side: 'remote' },
  listen: { protocol: 'tcp', state: 'LISTEN', side: 'local' },
  bind: { protocol: 'tcp', state: 'BOUND', side: 'local' },
  'udp-connect': { protocol: 'udp', state: 'ESTABLISHED', side: 'remote' },
  'udp-bind': { protocol: 'udp', state: 'UNCONN', side: 'local' },
} as const;

describe('io_uring sockets on 596 are kernel events', { skip }, () => {
  let program = '';
  let engine: Engine;
  const events: PortEvent[] = [];
  const scratch = scratchDirs('ghostport-uring-');

  before(async () => {
    program = join(scratch(), 'uring-596');
    const compile = spawnSync('cc', ['-O2', '-Wall', '-Werror', '-o', program, SOURCE], { encoding: 'utf8' });
    assert.equal(compile.status, 0, `cc failed: ${compile.stderr}`);
    engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
    engine.onScan((_, batch) => events.push(...batch));
    engine.start();
    await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 10_000);
    assert.match(engine.snapshot!.sight!.note, /Kernel events/);
  });
  after(async () => {
    await engine?.stop();
  });

  /** Runs the program to its end; its pid, or null when the kernel lacks the operation (exit 77). */
  const run = (args: readonly string[]) =>
    new Promise<number | null>((resolve, reject) => {
      const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += String(c)));
      child.once('exit', (code) => (code === 0 ? resolve(child.pid!) : code === 77 ? resolve(null) : reject(new Error(`uring-596 ${args.join(' ')} exited with ${code}: ${err}`))));
    });

  /** The first event that `check` accepts, within 5 s; on a timeout, what did arrive since event `from` (other programs on the machine touch 596 too). */
  const awaitEvent = (what: string, from: number, check: (e: PortEvent) => boolean) =>
    waitFor(() => events.find(check), 5000).catch((error: unknown) => {
      const show = (e: PortEvent) => [e.type, e.source, e.socket.protocol, e.socket.pid, e.socket.process?.name, e.socket.state, e.socket.localAddress, e.socket.localPort, e.socket.remotePort, e.flapping ?? false];
      throw new Error(`${String(error)}: ${what}; events since: ${JSON.stringify(events.slice(from).map(show).slice(0, 40))}; health ${engine.snapshot?.health}: ${JSON.stringify(engine.snapshot?.issues.map((i) => i.message))}; coalesced ${engine.snapshot?.sight?.coalesced}`);
    });

  for (const { op, family, where } of CASES) {
    const expected = EXPECTED[op];
    test(`${op} over IPv${family}, run ${where}: a ${expected.protocol} ${expected.state} socket of uring-596, source "kernel"`, { timeout: 20_000 }, async (t) => {
      const from = events.length;
      const pid = await run([op, String(family), where]);
      if (pid === null) return t.skip(`this kernel has no io_uring ${op}`);
      const appeared = await awaitEvent(`nothing from pid ${pid}`, from, (e) => e.type === 'appeared' && e.socket.pid === pid && e.socket.protocol === expected.protocol);
      const s = appeared.socket;
      assert.equal(appeared.source, 'kernel');
      assert.deepEqual({ protocol: s.protocol, state: s.state, side: s.side, family: s.family }, { ...expected, family });
      const loopback = family === 4 ? '127.0.0.1' : '::1';
      if (expected.side === 'remote') assert.deepEqual([s.remoteAddress, s.remotePort], [loopback, PORT]);
      else assert.deepEqual([s.localAddress, s.localPort], [loopback, PORT]);
      assert.equal(s.process?.pid, pid);
      assert.equal(s.process?.name, 'uring-596', 'the process, not the io_uring thread that ran the request');
      assert.match(s.process?.command ?? '', new RegExp(`uring-596 ${op} ${family} ${where}$`), 'the command line, read at the event');
      const gone = await awaitEvent(`no disappeared for ${s.id}`, from, (e) => e.type === 'disappeared' && e.socket.id === s.id);
      assert.equal(gone.source, 'kernel');
    });
  }

  test('a connect from a second thread of a program (one that lives on) names the process, not the thread', { timeout: 20_000 }, async () => {
    const from = events.length;
    // Named: the per-endpoint bound counts sockets by program name, and other programs called python3 touch 596 too.
    const child = spawn('/usr/bin/python3', ['-c', `import ctypes,socket,threading,time
ctypes.CDLL(None).prctl(15, b'gpt-${process.pid}', 0, 0, 0)
def attempt():
    c=socket.socket()
    try: c.connect(('127.0.0.1',${PORT}))
    except ConnectionRefusedError: pass
    c.close(); time.sleep(0.3)
t=threading.Thread(target=attempt); t.start(); t.join()`], { stdio: 'ignore' });
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0);
    const appeared = await awaitEvent(`nothing from pid ${child.pid}`, from, (e) => e.type === 'appeared' && e.socket.process?.pid === child.pid && e.socket.remotePort === PORT);
    assert.equal(appeared.source, 'kernel');
    assert.equal(appeared.socket.pid, child.pid);
    assert.equal(appeared.socket.state, 'SYN_SENT');
  });
});

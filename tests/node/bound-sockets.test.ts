/**
 * TCP sockets bound to 596 but neither listening nor connecting (Linux 6.7+: TCP_BOUND_INACTIVE).
 * They hold the port, and neither Debian 12's ss nor /proc/net/tcp lists them. Real
 * sockets held by Python children, in the test's network namespace and in another one:
 * - the poll (kernel events off): a watch reports each as BOUND with its owner, from its very
 *   first scan, and reports it gone when it closes;
 * - kernel events (root, first PID namespace, the eBPF helper built; npm test runs this file in
 *   its kernel step): polling once a minute, a bind prompts a scan at once that finds the socket
 *   (one appeared, source "kernel", no kernel-only pair), one bound and closed within 5 ms is an
 *   appeared/disappeared pair with its owner, and a bind followed by listen() is one listener.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { release } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildNative } from '../../electron/build/build-native.ts';
import { Engine } from '#node/engine.ts';
import { createOsSource } from '#node/os-source.ts';
import { toEventJson } from '#common/cli-json.ts';
import { describeEndpoint } from '#common/display-text.ts';
import type { PortEvent } from '#common/model.ts';
import { waitFor } from '../support/port-holder.ts';
import { kernelSkip } from '../support/kernel-skip.ts';

const PORT = 596;
const PY = '/usr/bin/python3';
const root = fileURLToPath(new URL('../../', import.meta.url));
const [major = 0, minor = 0] = release().split('.').map(Number);
const linux = process.platform === 'linux';
const built = linux && process.getuid?.() === 0 ? buildNative(root) : null;
const skipPoll =
  !linux || process.getuid?.() !== 0
    ? 'needs Linux and root (port 596, other namespaces)'
    : major < 6 || (major === 6 && minor < 7)
      ? 'the kernel lists sockets that are only bound from Linux 6.7 (TCP_BOUND_INACTIVE)'
      : !built?.ok
        ? `the netlink helper is not built here: ${built?.message}`
        : false;
const skipKernel = skipPoll || kernelSkip({ bpf: true, tracefs: true });

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** A Python child that binds TCP to `address`:596 (in another network namespace if asked), says its pid, and closes on a line. */
async function bindHolder(address: string, elsewhere = false): Promise<{ pid: number; close: () => Promise<void> }> {
  const family = address.includes(':') ? 'AF_INET6' : 'AF_INET';
  const program = `import os,socket,sys
s=socket.socket(socket.${family}); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('${address}',${PORT}))
print(os.getpid(), flush=True); sys.stdin.readline(); s.close(); print('closed', flush=True); sys.stdin.readline()`;
  const argv = elsewhere ? ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', PY, '-c', program] : [PY, '-c', program];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const pid = Number((await lines.next()).value);
  assert.ok(pid > 0, 'the holder started');
  return {
    pid,
    close: async () => {
      child.stdin.write('\n');
      assert.equal((await lines.next()).value, 'closed');
    },
  };
}

function collect(engine: Engine): PortEvent[] {
  const events: PortEvent[] = [];
  engine.onScan((_, batch) => events.push(...batch));
  return events;
}

/** Runs a short Python program to its end; it stays 300 ms after its work (the owner is read at the event). */
function run(program: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(PY, ['-c', `${program}\nimport time; time.sleep(0.3)`], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`python exited with ${code}`))));
  });
}

describe('TCP sockets only bound, seen by the poll', { skip: skipPoll }, () => {
  test('in this namespace and another, reported BOUND with their owners from the first scan of a watch, and gone when closed', { timeout: 60_000 }, async () => {
    const here = await bindHolder('0.0.0.0');
    const away = await bindHolder('::', true);
    // Polling alone: no kernel source prompts anything.
    const engine = new Engine({ ports: [PORT], intervalMs: 200, os: createOsSource({ kernelEvents: null }) });
    const events = collect(engine);
    engine.start();
    try {
      const first = await waitFor(() => engine.snapshot, 10_000);
      const ours = (pid: number) => first.sockets.find((s) => s.pid === pid);
      assert.ok(ours(here.pid) && ours(away.pid), `the first scan already lists both: ${JSON.stringify(first.sockets.map((s) => [s.pid, s.state, s.localAddress]))}`);
      const appeared = (pid: number) => events.find((e) => e.type === 'appeared' && e.socket.pid === pid)!;
      for (const [holder, host] of [[here, true], [away, false]] as const) {
        const e = appeared(holder.pid);
        assert.equal(e.socket.protocol, 'tcp');
        assert.equal(e.socket.state, 'BOUND');
        assert.equal(e.socket.side, 'local');
        assert.equal(e.socket.process?.pid, holder.pid);
        assert.match(e.socket.process?.command ?? '', /python3 -c/);
        assert.ok(e.socket.inode, 'the kernel socket');
        assert.equal(e.socket.netns?.host, host);
        assert.equal((toEventJson(e) as { socket: { state: string } }).socket.state, 'BOUND');
      }
      assert.equal(describeEndpoint(appeared(here.pid).socket), 'TCP 0.0.0.0:596 bound');
      assert.equal(appeared(away.pid).socket.family, 6);
      assert.notEqual(first.health, 'blind');
      await here.close();
      await away.close();
      for (const holder of [here, away]) {
        const gone = await waitFor(() => events.find((e) => e.type === 'disappeared' && e.socket.pid === holder.pid), 10_000);
        assert.equal(gone.socket.id, appeared(holder.pid).socket.id);
      }
      assert.equal(events.filter((e) => e.socket.pid === here.pid || e.socket.pid === away.pid).length, 4, 'one appeared and one disappeared each');
    } finally {
      await engine.stop();
    }
  });
});

describe('TCP sockets only bound, seen by kernel events (eBPF post_bind, polling once a minute)', { skip: skipKernel }, () => {
  const started = async () => {
    const engine = new Engine({ ports: [PORT], intervalMs: 60_000 });
    const events = collect(engine);
    engine.start();
    await waitFor(() => engine.snapshot?.sight?.kernelEvents === true, 10_000);
    assert.match(engine.snapshot!.sight!.note, /TCP sockets bound to them/);
    return { engine, events };
  };
  const said = (events: readonly PortEvent[]) => JSON.stringify(events.map((e) => [e.type, e.source, e.socket.pid, e.socket.state, e.socket.id]));

  test('bound and staying, here and in another namespace: the scan its bind prompts finds it (one appeared, source kernel, no pair), gone when closed', { timeout: 60_000 }, async () => {
    const { engine, events } = await started();
    try {
      for (const [address, elsewhere] of [['127.0.0.1', false], ['::', true]] as const) {
        const holder = await bindHolder(address, elsewhere);
        const mine = () => events.filter((e) => e.socket.pid === holder.pid);
        const appeared = await waitFor(() => mine().find((e) => e.type === 'appeared'), 5000).catch(() => assert.fail(`no appeared within 5 s (polling once a minute): ${said(events)}`));
        assert.equal(appeared.source, 'kernel');
        assert.equal(appeared.socket.state, 'BOUND');
        assert.equal(appeared.socket.process?.pid, holder.pid);
        assert.ok(appeared.socket.inode, `found by the scan, not a kernel-only sighting: ${appeared.socket.id}`);
        assert.equal(appeared.socket.netns?.host, !elsewhere);
        // A while, for a false pair or disappeared to show up.
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(mine().map((e) => e.type), ['appeared'], said(mine()));
        await holder.close();
        const gone = await waitFor(() => mine().find((e) => e.type === 'disappeared'), 5000).catch(() => assert.fail(`no disappeared within 5 s: ${said(mine())}`));
        assert.equal(gone.socket.id, appeared.socket.id);
        assert.equal(gone.source, 'kernel');
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(mine().map((e) => e.type), ['appeared', 'disappeared'], said(mine()));
      }
    } finally {
      await engine.stop();
    }
  });

  test('bound and closed within 5 ms: an appeared/disappeared pair with its owner, source kernel', { timeout: 60_000 }, async () => {
    const { engine, events } = await started();
    try {
      const pid = await run(`import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${PORT})); time.sleep(0.005); s.close()`);
      const mine = () => events.filter((e) => e.socket.pid === pid);
      await waitFor(() => mine().length >= 2, 5000).catch(() => assert.fail(`no pair within 5 s: ${said(events)}`));
      const [appeared, gone] = mine();
      assert.deepEqual([appeared?.type, gone?.type], ['appeared', 'disappeared']);
      assert.equal(appeared?.source, 'kernel');
      assert.equal(gone?.source, 'kernel');
      assert.equal(appeared?.socket.id, gone?.socket.id);
      assert.equal(appeared?.socket.state, 'BOUND');
      assert.equal(appeared?.socket.localAddress, '127.0.0.1');
      assert.equal(appeared?.socket.process?.pid, pid);
      assert.match(appeared?.socket.process?.command ?? '', /python3 -c/, 'the command line, read at the event');
    } finally {
      await engine.stop();
    }
  });

  test('a bind followed by listen() is one appeared listener', { timeout: 60_000 }, async () => {
    const { engine, events } = await started();
    try {
      const pid = await run(`import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0',${PORT})); s.listen(); time.sleep(0.5); s.close()`);
      const mine = () => events.filter((e) => e.socket.pid === pid);
      await waitFor(() => mine().some((e) => e.type === 'disappeared'), 5000).catch(() => assert.fail(`no disappeared within 5 s: ${said(events)}`));
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(mine().map((e) => [e.type, e.socket.state, e.source]), [['appeared', 'LISTEN', 'kernel'], ['disappeared', 'LISTEN', 'kernel']], said(mine()));
    } finally {
      await engine.stop();
    }
  });
});

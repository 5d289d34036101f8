/**
 * Owners that change, on real sockets: a listener whose opener exits while a fork keeps it, and
 * one handed over a Unix socket (SCM_RIGHTS), parked in the queue (held by no process) and then
 * received. Each change is one `owner-changed` with the previous holder, never a false
 * disappeared/appeared pair; while no process holds it, the socket says so and health is not ok.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Engine } from '#node/engine.ts';
import type { PortEvent, PortSocket } from '#common/model.ts';
import { toEventJson } from '#common/cli-json.ts';
import { waitFor } from '../support/port-holder.ts';

const PORT = 596;
const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root (binds port 596, sees every holder)' : false;

const OPENER = `import socket,os,sys,time,signal
a,b=socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
receiver=os.fork()
if receiver==0:
    a.close()
    signal.sigwait([signal.SIGUSR1])
    msg,fds,flags,addr=socket.recv_fds(b, 16, 1)
    print('received', flush=True)
    time.sleep(600)
    os._exit(0)
b.close()
l=socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('127.0.0.1',${PORT})); l.listen()
print('ready', receiver, flush=True)
cmd=sys.stdin.readline().strip()
if cmd=='fork':
    if os.fork()==0:
        print('forked', os.getpid(), flush=True)
        time.sleep(600)
        os._exit(0)
    time.sleep(0.2)
elif cmd=='send':
    socket.send_fds(a, [b'x'], [l.fileno()])
    l.close()
os._exit(0)`;

interface Opener {
  readonly child: ChildProcess;
  readonly receiver: number;
  line(pattern: RegExp): Promise<RegExpExecArray>;
}

const pids: number[] = [];

async function opener(): Promise<Opener> {
  const child = spawn('/usr/bin/python3', ['-c', OPENER], { stdio: ['pipe', 'pipe', 'inherit'] });
  pids.push(child.pid!);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += String(c)));
  const line = (pattern: RegExp) => waitFor(() => pattern.exec(out) ?? undefined, 10_000, 10);
  const receiver = Number((await line(/ready (\d+)/))[1]);
  pids.push(receiver);
  return { child, receiver, line };
}

/** Kills a process that is not our child and waits until it has exited (gone, or a zombie: its sockets are closed), so the next test can bind the port. */
async function killAndWaitExited(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitFor(() => {
    try {
      return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/s, '()')) || undefined;
    } catch {
      return true;
    }
  }, 5000, 10);
}

function ours(sockets: readonly PortSocket[], inode: number | null | undefined): PortSocket | undefined {
  return sockets.find((s) => s.inode === inode && s.localPort === PORT);
}

describe('owners that change', { skip }, () => {
  after(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  });

  test('the opener exits and its fork keeps the listener: owner-changed, same socket, no disappeared/appeared', async () => {
    const engine = new Engine({ ports: [PORT] });
    const events: PortEvent[] = [];
    engine.onScan((_, batch) => events.push(...batch));
    const o = await opener();
    const first = (await engine.scanNow()).sockets.find((s) => s.pid === o.child.pid && s.localPort === PORT);
    assert.ok(first, 'the listener is seen with its opener');
    assert.equal(first.pid, o.child.pid);
    o.child.stdin!.write('fork\n');
    const fork = Number((await o.line(/forked (\d+)/))[1]);
    pids.push(fork);
    await waitFor(() => o.child.exitCode !== null || o.child.signalCode !== null, 5000, 10);
    const after = ours((await engine.scanNow()).sockets, first.inode);
    assert.ok(after);
    assert.equal(after.pid, fork);
    assert.equal(after.id, first.id, 'the same socket: same identity');
    const mine = events.filter((e) => e.socket.inode === first.inode);
    assert.deepEqual(mine.map((e) => e.type), ['appeared', 'owner-changed']);
    const changed = mine[1]!;
    assert.equal(changed.previous?.pid, o.child.pid);
    assert.equal(changed.socket.process?.pid, fork);
    const json = toEventJson(changed) as { type: string; socket: { pid: number }; previous: { pid: number } };
    assert.equal(json.type, 'owner-changed');
    assert.equal(json.previous.pid, o.child.pid);
    assert.equal(json.socket.pid, fork);
    await killAndWaitExited(fork);
    await killAndWaitExited(o.receiver);
  });

  test('handed over a Unix socket: parked in the queue it is held by no process (health says so), then the receiver holds it', async () => {
    const engine = new Engine({ ports: [PORT] });
    const events: PortEvent[] = [];
    engine.onScan((_, batch) => events.push(...batch));
    const o = await opener();
    const first = (await engine.scanNow()).sockets.find((s) => s.pid === o.child.pid && s.localPort === PORT);
    assert.ok(first);
    o.child.stdin!.write('send\n');
    await waitFor(() => o.child.exitCode !== null || o.child.signalCode !== null, 5000, 10);
    const parked = await engine.scanNow();
    const inFlight = ours(parked.sockets, first.inode);
    assert.ok(inFlight, 'still reported while parked');
    assert.equal(inFlight.pid, null);
    assert.match(inFlight.ownerUnknownReason ?? '', /in flight or parked in a Unix socket's queue/);
    assert.notEqual(parked.health, 'ok');
    assert.ok(parked.issues.some((i) => i.code === 'ownerless-socket'));
    process.kill(o.receiver, 'SIGUSR1');
    await o.line(/received/);
    const taken = ours((await engine.scanNow()).sockets, first.inode);
    assert.equal(taken?.pid, o.receiver);
    assert.equal(taken?.id, first.id);
    const mine = events.filter((e) => e.socket.inode === first.inode);
    assert.deepEqual(mine.map((e) => e.type), ['appeared', 'owner-changed', 'owner-changed']);
    assert.equal(mine[1]!.previous?.pid, o.child.pid);
    assert.equal(mine[1]!.socket.pid, null);
    assert.equal(mine[2]!.previous, null);
    assert.equal(mine[2]!.socket.process?.pid, o.receiver);
    await killAndWaitExited(o.receiver);
  });
});

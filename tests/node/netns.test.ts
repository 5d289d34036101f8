/**
 * Every network namespace: real namespaces (`unshare -n`, `ip netns add`) with real sockets on
 * 596 inside, seen by the real engine with their namespace and owner; a named namespace that no
 * process is in (its socket made there and carried out by a process in ours); and, not root,
 * the namespaces that cannot be read said so, never skipped silently.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildNative, NATIVE_OUTPUT } from '../../electron/build/build-native.ts';
import { PROC_NET_MAX_SOCKETS } from '#node/scanner.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '#node/engine.ts';
import { listNetns, type NetnsRoots } from '#node/netns.ts';
import { describeEndpoint } from '#common/display-text.ts';
import { toSocketJson } from '#common/cli-json.ts';
import { formatSnapshot } from '#node/cli/output.ts';
import type { PortSocket } from '#common/model.ts';
import { realTool } from '../support/tools.ts';

const PORT = 596;
const PY = '/usr/bin/python3';
const IP = realTool('ip');
const SETPRIV = realTool('setpriv');
const skip =
  process.platform !== 'linux' || process.getuid?.() !== 0
    ? 'needs Linux and root (creates network namespaces, binds port 596)'
    : IP === null || realTool('unshare') === null
      ? 'needs ip (iproute2) and unshare (util-linux)'
      : false;

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = buildNative(root);
const children: ChildProcess[] = [];
const named: string[] = [];

/** Starts a Python program (after `prefix`, e.g. unshare -n) that prints "ready" once its socket is open. */
async function start(prefix: readonly string[], program: string): Promise<ChildProcess> {
  const [file, ...args] = [...prefix, PY, '-c', program];
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => (String(c).includes('ready') ? resolve() : undefined));
    child.once('exit', (code) => reject(new Error(`${prefix.join(' ')} python exited with ${code}`)));
  });
  return child;
}

const RUN = randomBytes(3).toString('hex');

function addNetns(suffix: string): string {
  // The pid alone repeats across isolated runs (each starts near 1 in its PID namespace) and /run/netns is shared.
  const name = `gp-${process.pid}-${RUN}-${suffix}`;
  const r = spawnSync(IP!, ['netns', 'add', name], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  named.push(name);
  return name;
}

const LISTEN_TCP = `import socket,time
s=socket.socket(); s.bind(('0.0.0.0',${PORT})); s.listen()
print('ready',flush=True); time.sleep(600)`;
const BIND_UDP6 = `import socket,time
s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('::',${PORT}))
print('ready',flush=True); time.sleep(600)`;
// Makes a listener inside the named namespace, then returns to ours holding it: the namespace
// keeps a socket but no process.
const CARRY_OUT = (path: string) => `import ctypes,os,socket,time
libc=ctypes.CDLL(None, use_errno=True)
home=os.open('/proc/self/ns/net', os.O_RDONLY); there=os.open('${path}', os.O_RDONLY)
assert libc.setns(there, 0x40000000)==0
s=socket.socket(); s.bind(('0.0.0.0',${PORT})); s.listen()
assert libc.setns(home, 0x40000000)==0
print('ready',flush=True); time.sleep(600)`;

function mine(sockets: readonly PortSocket[], pid: number | undefined): PortSocket | undefined {
  return sockets.find((s) => s.pid === pid && s.localPort === PORT);
}

describe('every network namespace', { skip }, () => {
  after(() => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
    for (const name of named) spawnSync(IP!, ['netns', 'delete', name]);
  });

  test('a listener in an unnamed namespace (unshare -n) and one in an ip netns are seen, with owner and namespace', async () => {
    const hidden = await start(['unshare', '-n'], LISTEN_TCP);
    const name = addNetns('a');
    const udp = await start([IP!, 'netns', 'exec', name], BIND_UDP6);
    const snapshot = await new Engine({ ports: [PORT] }).scanNow();
    const tcp = mine(snapshot.sockets, hidden.pid);
    assert.ok(tcp, `the unshare -n listener is reported: ${JSON.stringify(snapshot.sockets.map((s) => [s.pid, s.netns]))}`);
    assert.equal(tcp.netns?.host, false);
    assert.equal(tcp.netns?.label, `pid ${hidden.pid} (python3)`);
    assert.equal(tcp.process?.pid, hidden.pid);
    assert.equal(tcp.state, 'LISTEN');
    const u = mine(snapshot.sockets, udp.pid);
    assert.ok(u, 'the ip netns UDP socket is reported');
    assert.deepEqual({ host: u.netns?.host, label: u.netns?.label }, { host: false, label: `ip netns ${name}` });
    assert.equal(u.family, 6);
    assert.notEqual(tcp.netns?.inode, u.netns?.inode);
    // Where it lives is part of what the user reads, and of its identity.
    assert.match(describeEndpoint(u), new RegExp(`bound in ip netns ${name}$`));
    assert.deepEqual(toSocketJson(u).netns, u.netns);
    assert.match(u.id, new RegExp(`netns:${u.netns!.inode}$`));
    const text = formatSnapshot(snapshot);
    assert.match(text, /NETNS/);
    assert.match(text, new RegExp(`ip netns ${name}`));
    const host = snapshot.sockets.filter((s) => s.netns?.host);
    for (const s of host) assert.equal(s.netns?.label, 'host');
  });

  for (const via of ['the netlink helper (setns)', 'nsenter (no helper built)']) test(`a named namespace that no process is in, through ${via}: its socket is found and so is the process that carried it out`, async () => {
    const saved = process.env.GHOSTPORT_DIAG;
    if (via.startsWith('nsenter')) process.env.GHOSTPORT_DIAG = '/nonexistent/ghostport-diag';
    after(() => {
      if (saved === undefined) delete process.env.GHOSTPORT_DIAG;
      else process.env.GHOSTPORT_DIAG = saved;
    });
    const name = addNetns(via.slice(0, 3));
    const carrier = await start([], CARRY_OUT(`/run/netns/${name}`));
    const inode = listNetns().others.find((n) => n.label === `ip netns ${name}`);
    assert.ok(inode, 'the named namespace is listed');
    assert.deepEqual(inode.pids, [], 'no process is inside it');
    const snapshot = await new Engine({ ports: [PORT] }).scanNow();
    const s = snapshot.sockets.find((x) => x.netns?.inode === inode.inode);
    assert.ok(s, 'its listener is reported');
    assert.equal(s.pid, carrier.pid, 'owner: the process holding the descriptor, in another namespace');
    assert.equal(s.state, 'LISTEN');
  });

  test('a namespace with a large table (over PROC_NET_MAX_SOCKETS) is read by the netlink helper entering it by its process, not by printing /proc/PID/net', { skip: built.ok ? false : built.message }, async () => {
    // The helper behind a wrapper that logs each request: which path was taken is the point.
    const dir = mkdtempSync(join(tmpdir(), 'ghostport-netns-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    // Requests and answers in two files: written by two tees, one file would interleave them.
    const requests = join(dir, 'requests');
    const answers = join(dir, 'answers');
    const wrapper = join(dir, 'diag');
    writeFileSync(wrapper, `#!/bin/sh\ntee -a '${requests}' | '${join(root, NATIVE_OUTPUT)}' "$@" | tee -a '${answers}'\n`, { mode: 0o755 });
    const saved = process.env.GHOSTPORT_DIAG;
    process.env.GHOSTPORT_DIAG = wrapper;
    after(() => {
      if (saved === undefined) delete process.env.GHOSTPORT_DIAG;
      else process.env.GHOSTPORT_DIAG = saved;
    });
    const pairs = Math.ceil(PROC_NET_MAX_SOCKETS / 2) + 50;
    const busy = await start(['unshare', '-n'], `import resource,socket,time
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
import subprocess; subprocess.run(['ip','link','set','lo','up'],check=True)
s=socket.socket(); s.bind(('0.0.0.0',${PORT})); s.listen()
hub=socket.socket(); hub.bind(('127.0.0.1',0)); hub.listen(4096)
keep=[]
for i in range(${pairs}):
  c=socket.create_connection(hub.getsockname()); keep+=[c, hub.accept()[0]]
print('ready',flush=True); time.sleep(600)`);
    const engine = new Engine({ ports: [PORT] });
    const snapshot = await engine.scanNow();
    await engine.stop();
    const tcp = mine(snapshot.sockets, busy.pid);
    assert.ok(tcp, `its listener is reported: ${JSON.stringify(snapshot.sockets.map((s) => [s.pid, s.netns]))}`);
    assert.deepEqual({ host: tcp.netns?.host, label: tcp.netns?.label, state: tcp.state }, { host: false, label: `pid ${busy.pid} (python3)`, state: 'LISTEN' });
    // Asked with that process's namespace link, and answered from inside it (not an ERR and a fallback).
    // The helper answers in the order asked: each answer is its rows and END, or ERR alone.
    const asked = readFileSync(requests, 'utf8').split('\n').filter(Boolean);
    const answered = readFileSync(answers, 'utf8').split(/(?<=^(?:END \d+|ERR [^\n]*))\n/m).filter(Boolean);
    const at = asked.indexOf(`${PORT} /proc/${busy.pid}/ns/net`);
    assert.ok(at >= 0, `asked with the process's namespace link: ${asked.slice(0, 20).join(' | ')}`);
    assert.equal(answered[at]?.trim(), `tcp 4 LISTEN 0.0.0.0 ${PORT} * * ${tcp.inode} 0\nEND 1`);
  });

  test('one query per namespace, not per process: 20 processes in one namespace list it once', async () => {
    const name = addNetns('c');
    const many = await start([IP!, 'netns', 'exec', name], `import os,time
for i in range(19):
  if os.fork()==0:
    time.sleep(600)
print('ready',flush=True); time.sleep(600)`);
    const entry = listNetns().others.filter((n) => n.label === `ip netns ${name}`);
    assert.equal(entry.length, 1);
    assert.ok(entry[0]!.pids.length >= 20, `all its processes are members: ${entry[0]!.pids.length}`);
    assert.ok(entry[0]!.pids.includes(many.pid!));
  });

  test('not root: a root-owned listener in another namespace is still seen (its tables are readable), its owner hidden, health not ok', { skip: SETPRIV === null ? 'needs setpriv' : false }, async () => {
    const rootOwned = await start(['unshare', '-n'], LISTEN_TCP);
    const name = addNetns('n');
    const cli = spawnSync(SETPRIV!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, 'electron/node/cli/ghostport.mjs', 'scan', '--json'], {
      encoding: 'utf8',
      env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/nonexistent', LANG: 'C.UTF-8' },
    });
    if (cli.status === 2 && /EACCES|permission denied/i.test(cli.stderr)) return; // the checkout is not readable by nobody
    const doc = JSON.parse(cli.stdout) as { health: string; sockets: { pid: number | null; localPort: number; netns?: { host: boolean; label: string } }[]; issues: { code: string; message: string }[] };
    const seen = doc.sockets.find((s) => s.localPort === PORT && s.netns?.label === `pid ${rootOwned.pid} (python3)`);
    assert.ok(seen, `the root-owned listener in its namespace: ${cli.stdout}`);
    assert.equal(seen.pid, null);
    assert.notEqual(doc.health, 'ok');
    assert.ok(doc.issues.some((i) => i.code === 'not-elevated'));
    // The named namespace holds no process, and only root may enter it: said, never skipped.
    assert.ok(doc.issues.some((i) => i.code === 'partial-socket-source' && i.message.includes(`ip netns ${name}`)), JSON.stringify(doc.issues));
    assert.equal(cli.status, 1);
  });
});

test('labels: a container from the cgroup path of a process inside, else the pid and its name', () => {
  const root = mkdtempSync(join(tmpdir(), 'gp-netns-'));
  try {
    const proc = join(root, 'proc');
    const ns = (pid: string, inode: number, cgroup: string, comm: string) => {
      mkdirSync(join(proc, pid, 'ns'), { recursive: true });
      symlinkSync(`net:[${inode}]`, join(proc, pid, 'ns', 'net'));
      writeFileSync(join(proc, pid, 'cgroup'), cgroup);
      writeFileSync(join(proc, pid, 'comm'), `${comm}\n`);
    };
    const id = 'a'.repeat(12) + 'b'.repeat(52);
    ns('self', 1, '', 'node');
    ns('10', 1, '0::/init.scope\n', 'systemd');
    ns('20', 2, `0::/system.slice/docker-${id}.scope\n`, 'nginx');
    ns('21', 2, `0::/system.slice/docker-${id}.scope\n`, 'nginx');
    ns('30', 3, '0::/user.slice/user-0.slice/session-1.scope\n', 'nc');
    const roots: NetnsRoots = { proc, named: join(root, 'none') };
    const list = listNetns(roots);
    assert.equal(list.host.inode, 1);
    assert.deepEqual(list.host.pids, [10]);
    assert.deepEqual(
      list.others.map((n) => [n.inode, n.label, n.pids]),
      [
        [2, 'docker container aaaaaaaaaaaa', [20, 21]],
        [3, 'pid 30 (nc)', [30]],
      ],
    );
    assert.equal(list.hidden, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

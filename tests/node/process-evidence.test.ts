/**
 * Evidence captured at detection, from real processes on port 596: a deleted executable, a
 * copied binary from no package, a packaged file whose checksum no longer matches (against a
 * fixture copy of the dpkg database; system files are never touched), a transient systemd unit
 * where systemd runs, and a launcher chain that is gone before the history is read.
 * Run in a private network namespace (`unshare -n`): the sockets are real.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCgroup } from '#common/cgroup.ts';
import { Engine } from '#node/engine.ts';
import { History } from '#node/history.ts';
import { EvidenceCollector, readOtherSockets } from '#node/process-evidence.ts';
import { NativeProbe } from '#node/native-probe.ts';
import { createOsSource } from '#node/os-source.ts';
import { readLinuxProcess } from '#node/process-info.ts';
import { usrMergeAliases } from '#node/package-db.ts';
import type { LateEvidence } from '#common/late-evidence.ts';
import { waitFor } from '../support/port-holder.ts';

const PORT = 596;
const PYTHON = '/usr/bin/python3.11';
const LISTEN = `import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', ${PORT})); s.listen()
o=socket.socket(); o.bind(('127.0.0.1', 0)); o.listen()
print('ready', flush=True); time.sleep(600)`;
const work = mkdtempSync(join(tmpdir(), 'ghostport-evidence-'));
const children = new Set<ChildProcess>();
const slowAllowed = { slowBudgetMs: 10_000 };

after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const md5 = (path: string) => createHash('md5').update(readFileSync(path)).digest('hex');

async function listen(exe: string, extra: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn(exe, ['-c', LISTEN, ...extra], { stdio: ['ignore', 'pipe', 'inherit'], cwd: work });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.match(chunk.toString(), /ready/);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

test('a deleted executable: flagged, its path without " (deleted)", hashed through /proc/PID/exe, from no package', async () => {
  const dir = join(work, 'deleted');
  mkdirSync(dir);
  const copy = join(dir, 'gp-evidence-python');
  copyFileSync(PYTHON, copy);
  const child = await listen(copy);
  rmSync(copy);
  try {
    const info = await readLinuxProcess(child.pid!, new EvidenceCollector(slowAllowed));
    assert.ok(info);
    assert.equal(info.exeDeleted, true);
    assert.equal(info.path, copy);
    assert.equal(info.exeSha256, sha256(PYTHON), 'the deleted file is still read through /proc/PID/exe');
    assert.equal(info.package, null);
    assert.match(info.reasons?.package ?? '', /not from a package/);
    assert.equal(info.cwd, work);
    assert.deepEqual(info.argv?.slice(0, 2), [copy, '-c']);
    assert.equal(info.uid, process.getuid!());
    assert.ok((info.uptimeSeconds ?? -1) >= 0);
    assert.equal(info.otherSockets?.total, 2);
    assert.deepEqual(info.otherSockets?.listening.filter((l) => l.endsWith(`:${PORT}`)), [`TCP 127.0.0.1:${PORT}`]);
    assert.equal(info.otherSockets?.listening.length, 2, 'its other listener too');
    assert.equal(info.ancestry?.[0]?.pid, process.pid, 'the test runner started it');
  } finally {
    await stop(child);
  }
});

test('a copied binary that is not deleted: not flagged as deleted, but from no package', async () => {
  const copy = join(work, 'gp-evidence-copy');
  copyFileSync(PYTHON, copy);
  const child = await listen(copy);
  try {
    const info = await readLinuxProcess(child.pid!, new EvidenceCollector(slowAllowed));
    assert.equal(info?.exeDeleted, false);
    assert.equal(info?.exeSha256, sha256(PYTHON));
    assert.equal(info?.package, null);
    assert.match(info?.reasons?.package ?? '', /not from a package: no dpkg package lists/);
  } finally {
    await stop(child);
  }
});

test('a replaced executable (same path, new file) counts as deleted too', async () => {
  const copy = join(work, 'gp-evidence-replaced');
  copyFileSync(PYTHON, copy);
  const child = await listen(copy);
  try {
    rmSync(copy);
    copyFileSync(PYTHON, copy);
    const info = await readLinuxProcess(child.pid!, new EvidenceCollector(slowAllowed));
    assert.equal(info?.exeDeleted, true);
  } finally {
    await stop(child);
  }
});

/** A dpkg database holding only python3.11-minimal, with the md5 of usr/bin/python3.11 given. */
function fixtureDpkg(name: string, pythonMd5: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'info'), { recursive: true });
  copyFileSync('/var/lib/dpkg/info/python3.11-minimal.list', join(dir, 'info', 'python3.11-minimal.list'));
  writeFileSync(join(dir, 'info', 'python3.11-minimal.md5sums'), `${pythonMd5}  usr/bin/python3.11\n`);
  writeFileSync(join(dir, 'status'), 'Package: python3.11-minimal\nStatus: install ok installed\nArchitecture: amd64\nVersion: 9.9-fixture\n\n');
  return dir;
}

test('a packaged file: its package and version, and "modified" when its checksum differs from the package record', async (t) => {
  if (spawnSync('dpkg-query', ['-S', PYTHON]).status !== 0) return t.skip(`${PYTHON} is not from a dpkg package on this machine`);
  const child = await listen(PYTHON);
  try {
    const system = await readLinuxProcess(child.pid!, new EvidenceCollector(slowAllowed));
    const version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'python3.11-minimal'], { encoding: 'utf8' }).stdout;
    assert.deepEqual(system?.package, { manager: 'dpkg', name: 'python3.11-minimal', version, modified: false });
    assert.equal(system?.exeDeleted, false);

    const intact = await readLinuxProcess(child.pid!, new EvidenceCollector({ ...slowAllowed, dpkgDir: fixtureDpkg('dpkg-intact', md5(PYTHON)) }));
    assert.deepEqual(intact?.package, { manager: 'dpkg', name: 'python3.11-minimal', version: '9.9-fixture', modified: false });

    const tampered = await readLinuxProcess(child.pid!, new EvidenceCollector({ ...slowAllowed, dpkgDir: fixtureDpkg('dpkg-tampered', '0'.repeat(32)) }));
    assert.deepEqual(tampered?.package, { manager: 'dpkg', name: 'python3.11-minimal', version: '9.9-fixture', modified: true });

    const empty = join(work, 'dpkg-empty');
    mkdirSync(join(empty, 'info'), { recursive: true });
    const none = await readLinuxProcess(child.pid!, new EvidenceCollector({ ...slowAllowed, dpkgDir: empty }));
    assert.equal(none?.package, null);
    assert.match(none?.reasons?.package ?? '', /not from a package/);
  } finally {
    await stop(child);
  }
});

test('hashing is bounded: files over the limit say so; detection waits at most the budget', async () => {
  const child = await listen(PYTHON);
  try {
    const limited = await readLinuxProcess(child.pid!, new EvidenceCollector({ ...slowAllowed, limitBytes: 1024 }));
    assert.equal(limited?.exeSha256, null);
    assert.match(limited?.reasons?.exeSha256 ?? '', /over the 0 MiB hashing limit/);
    const hurried = new EvidenceCollector({ slowBudgetMs: 0, dpkgDir: join(work, 'dpkg-empty') });
    const first = await readLinuxProcess(child.pid!, hurried);
    if (first?.exeSha256 === null) assert.match(first.reasons?.exeSha256 ?? '', /still being computed at detection/);
    // The hash went on after the budget and is cached: a later capture has it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await readLinuxProcess(child.pid!, hurried))?.exeSha256, sha256(PYTHON));
  } finally {
    await stop(child);
  }
});

test("its other sockets: each way of describing them (descriptor copies, the inode-matched dump, /proc/PID/net) gives the same summary", async (t) => {
  const helper = NativeProbe.find();
  if (!helper) return t.skip('the netlink helper is not built (npm run build): only /proc/PID/net is there');
  t.after(() => helper.dispose());
  // Two listeners (596 and another), a connection to itself (both ends) and a UDP socket: peers and listeners.
  const child = await listen(PYTHON, []);
  const python = `import socket,time
s=socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); c=socket.create_connection(s.getsockname()); a=s.accept()
u=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(('::1', 0)); x=socket.socket(socket.AF_UNIX)
print('ready', flush=True); time.sleep(600)`;
  const busy = spawn(PYTHON, ['-c', python], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(busy);
  await once(busy.stdout!, 'data');
  try {
    const refuse = () => Promise.reject(new Error('not this way'));
    for (const pid of [child.pid!, busy.pid!]) {
      const fromProc = await readOtherSockets(pid, null);
      const copies = await readOtherSockets(pid, { socketsOf: (...a) => helper.socketsOf(...a), socketsByInode: refuse });
      const dump = await readOtherSockets(pid, { socketsOf: refuse, socketsByInode: (...a) => helper.socketsByInode(...a) });
      assert.deepEqual(copies, fromProc);
      assert.deepEqual(dump, fromProc);
      if (pid === busy.pid) {
        // The monitor's default: the collector starts the helper itself, and its OS source stops it.
        const os = createOsSource();
        const stat = (p: string) => {
          try {
            return readFileSync(`/proc/${p}/stat`, 'utf8');
          } catch {
            return ''; // exited meanwhile
          }
        };
        // Our children named ghostport-diag (field 4 of stat is the parent pid).
        const helpers = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p) && /\(ghostport-diag\) \S (\d+)/.exec(stat(p))?.[1] === String(process.pid));
        const before = helpers().length;
        assert.deepEqual((await os.owners.readProcessInfo(pid))?.otherSockets, fromProc);
        assert.equal(helpers().length, before + 1, 'its helper runs');
        os.dispose();
        for (let i = 0; i < 50 && helpers().length > before; i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(helpers().length, before, 'and is stopped with the source');
        assert.equal(fromProc.total, 4, 'the listener, both ends of the connection, the UDP socket; not the unix one');
        assert.equal(fromProc.listening.length, 2);
        assert.ok(fromProc.listening.some((l) => /^UDP \[::1\]:\d+$/.test(l)), fromProc.listening.join(' / '));
        assert.equal(fromProc.peers.length, 2);
      }
    }
  } finally {
    await stop(child);
    await stop(busy);
  }
});

test('a process that exits during capture keeps what was read, with reasons for the rest', async () => {
  const child = await listen(PYTHON);
  const collector = new EvidenceCollector(slowAllowed);
  const captured = collector.capture({ pid: child.pid!, parentPid: process.pid, startedAt: null, exeLink: PYTHON }, async () => null);
  child.kill('SIGKILL');
  await once(child, 'exit');
  const gone = await collector.capture({ pid: child.pid!, parentPid: null, startedAt: null, exeLink: PYTHON }, async () => null);
  assert.equal(gone.cwd, null);
  assert.equal(gone.reasons?.cwd, 'the process exited during capture');
  assert.equal(gone.reasons?.exeSha256, 'the process exited during capture');
  assert.equal(gone.otherSockets, null);
  assert.ok(await captured, 'the capture racing the exit resolves too');
});

test('systemd unit and container from the cgroup path (parsed), and from a transient unit where systemd runs', async (t) => {
  assert.deepEqual(parseCgroup('0::/system.slice/ssh.service\n'), { path: '/system.slice/ssh.service', unit: 'ssh.service', container: null });
  assert.equal(parseCgroup('0::/user.slice/user-1000.slice/session-3.scope\n').unit, 'session-3.scope');
  assert.equal(parseCgroup('0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n').unit, 'foo.service');
  const id = 'a'.repeat(64);
  assert.deepEqual(parseCgroup(`0::/system.slice/docker-${id}.scope\n`).container, { runtime: 'docker', id });
  assert.deepEqual(parseCgroup(`12:pids:/docker/${id}\n1:name=systemd:/docker/${id}\n`).container, { runtime: 'docker', id });
  assert.deepEqual(parseCgroup(`0::/machine.slice/libpod-${id}.scope/container\n`).container, { runtime: 'podman', id });
  assert.deepEqual(parseCgroup(`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-${id}.scope\n`).container, { runtime: 'kubernetes', id });
  assert.deepEqual(parseCgroup('0::/lxc.payload.web1/init.scope\n').container, { runtime: 'lxc', id: 'web1' });
  assert.deepEqual(parseCgroup('0::/\n'), { path: '/', unit: null, container: null });
  assert.equal(parseCgroup('').path, null);

  const init = readFileSync('/proc/1/comm', 'utf8').trim();
  if (init !== 'systemd') return t.skip(`systemd is not PID 1 here (PID 1 is ${init}): no transient unit can be started`);
  const unit = `ghostport-evidence-${process.pid}.service`;
  const run = spawnSync('systemd-run', ['--unit', unit, '--collect', PYTHON, '-c', LISTEN]);
  assert.equal(run.status, 0, run.stderr?.toString());
  try {
    let pid = 0;
    for (let i = 0; i < 50 && !pid; i++) {
      pid = Number(spawnSync('systemctl', ['show', '-p', 'MainPID', '--value', unit], { encoding: 'utf8' }).stdout.trim());
      if (!pid) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal((await readLinuxProcess(pid, new EvidenceCollector(slowAllowed)))?.unit, unit);
  } finally {
    spawnSync('systemctl', ['stop', unit]);
  }
});

test('a launcher chain that exits before the history is read: the ancestry captured at detection is in the history', async () => {
  const dir = mkdtempSync(join(work, 'history-'));
  const history = History.open({ dataDir: dir });
  const engine = new Engine({ ports: [PORT], intervalMs: 60_000, history });
  // launcher (sh, with a marker argument) starts the listener in the background, then waits to be told to exit.
  const launcher = spawn('sh', ['-c', `${PYTHON} -c "$1" & read _; exit 0`, 'ghostport-launcher-marker', LISTEN], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(launcher);
  let listenerPid = 0;
  try {
    await once(launcher.stdout!, 'data');
    await engine.scanNow();
    const appeared = engine.snapshot?.sockets.find((s) => s.localPort === PORT && s.state === 'LISTEN');
    assert.ok(appeared?.process, 'the listener was detected with its owner');
    listenerPid = appeared.process.pid;
    assert.equal(appeared.process.ancestry?.[0]?.pid, launcher.pid);
    launcher.stdin!.end('\n');
    await once(launcher, 'exit');
    assert.notEqual(readFileSync(`/proc/${listenerPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1], String(launcher.pid), 'reparented');
    const event = history.query({ order: 'desc', limit: 10 }).events.find((e) => e.socket.process?.pid === listenerPid);
    const ancestry = event?.socket.process?.ancestry ?? [];
    assert.equal(ancestry[0]?.pid, launcher.pid);
    assert.match(ancestry[0]?.command ?? '', /ghostport-launcher-marker/);
    assert.equal(ancestry[1]?.pid, process.pid);
  } finally {
    if (listenerPid) process.kill(listenerPid, 'SIGKILL');
    await engine.stop();
    history.close();
  }
});

test('evidence still being computed at detection completes the recorded event, for every writer, after the process is gone', async () => {
  // A copy of node (about 120 MB, a new inode: hashed from scratch) takes longer than a 1 ms budget.
  const exe = join(work, 'big-listener');
  copyFileSync(process.execPath, exe);
  const dir = mkdtempSync(join(work, 'history-'));
  const histories = [History.open({ dataDir: dir, label: 'one' }), History.open({ dataDir: dir, label: 'two' })];
  const oses = histories.map(() => createOsSource({ evidence: { slowBudgetMs: 1 } }));
  const engines = histories.map((history, i) => new Engine({ ports: [PORT], intervalMs: 60_000, history, os: oses[i] }));
  const snapshots: string[] = [];
  engines[0]!.onScan((snapshot, events) => events.length === 0 && snapshots.push(snapshot.sockets.find((s) => s.localPort === PORT)?.process?.exeSha256 ?? 'none'));
  const told: LateEvidence[] = [];
  for (const engine of engines) engine.onEvidenceCompleted((late) => told.push(late));
  const child = spawn(exe, ['-e', `require('net').createServer().listen(${PORT}, '127.0.0.1', () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  try {
    await once(child.stdout!, 'data');
    for (const engine of engines) engine.start();
    // Until the kernel sources have answered (each answer brings a scan), so that no scan runs between here and the assertions.
    await waitFor(() => engines.every((engine) => /kernel events/i.test(engine.snapshot?.sight?.note ?? '')), 10_000);
    await Promise.all(engines.map((engine) => engine.scanNow()));
    const appeared = () => histories[0]!.query({ types: ['appeared'], limit: 10 }).events.filter((e) => e.socket.pid === child.pid);
    const [detected] = appeared();
    assert.equal(detected?.socket.process?.exeSha256, null, 'not hashed within the budget');
    assert.match(detected?.socket.process?.reasons?.exeSha256 ?? '', /^still being computed at detection/);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const expected = sha256(exe);
    // Each engine hashes on its own: the first to finish completes the stored event, the other tells its listeners later.
    for (let i = 0; i < 200 && (appeared()[0]?.socket.process?.exeSha256 !== expected || told.length < 2); i++) await new Promise((r) => setTimeout(r, 50));
    const [completed, ...more] = appeared();
    assert.equal(more.length, 0, 'one appeared event, however many writers saw it');
    assert.equal(completed?.seq, detected!.seq, 'the same event, completed in place');
    const process = completed!.socket.process!;
    assert.equal(process.exeSha256, expected, 'the hash, after the process is gone');
    assert.equal(process.reasons?.exeSha256, undefined);
    assert.doesNotMatch(JSON.stringify(process.reasons ?? {}), /still being computed/, 'the package and other sockets finished too');
    assert.match(process.reasons?.package ?? '', /^not from a package/);
    assert.ok(process.evidenceCompletedAt && process.evidenceCompletedAt >= detected!.at);
    assert.deepEqual(told.map((late) => [late.pid, late.values.exeSha256]), [[child.pid, expected], [child.pid, expected]], 'each engine tells its listeners (its snapshot held the process)');
    assert.deepEqual(histories[1]!.query({ types: ['appeared'], limit: 10 }).events.find((e) => e.seq === detected!.seq)?.socket.process, process, 'the other writer reads the same');
    // The next scan closes it: the disappearance carries the completed process, and no second appearance is stored.
    await Promise.all(engines.map((engine) => engine.scanNow()));
    const events = histories[0]!.query({ limit: 10 }).events.filter((e) => e.socket.pid === child.pid);
    assert.deepEqual(events.map((e) => e.type).sort(), ['appeared', 'disappeared']);
    assert.equal(events.find((e) => e.type === 'disappeared')?.socket.process?.exeSha256, expected);
    assert.ok(snapshots.includes(expected) || snapshots.length === 0, `a live snapshot, if sent before the socket closed, carried the hash (${snapshots.join(', ')})`);
  } finally {
    await stop(child);
    await Promise.all(engines.map((engine) => engine.stop()));
    for (const os of oses) os.dispose();
    for (const history of histories) history.close();
    rmSync(exe, { force: true });
  }
});

test('late evidence for a process that exited before it could be read says so', async () => {
  const child = await listen(PYTHON);
  // A fresh collector, and a package lookup that never answers within the budget: the process is killed first.
  const collector = new EvidenceCollector({ slowBudgetMs: 0, dpkgDir: join(work, 'dpkg-empty') });
  const reports: unknown[] = [];
  collector.onLate((late) => reports.push(late));
  const captured = await readLinuxProcess(child.pid!, collector);
  await stop(child);
  for (let i = 0; i < 100 && reports.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const late = reports[0] as { pid: number; startedAt: string; values: Record<string, unknown>; reasons: Record<string, string> } | undefined;
  const waiting = Object.entries(captured?.reasons ?? {}).filter(([, reason]) => reason.startsWith('still being computed'));
  if (waiting.length === 0) return; // Everything finished within 0 ms: nothing was late.
  assert.equal(late?.pid, child.pid);
  assert.equal(late?.startedAt, captured?.startedAt);
  for (const [field] of waiting) {
    assert.ok(field in late!.values, `${field} is reported`);
    // The hash's file was opened at detection: it is read even after the exit.
    if (field === 'exeSha256') assert.equal(late!.values.exeSha256, sha256(PYTHON));
    else if (late!.values[field] === null) assert.ok(late!.reasons[field], `${field} says why it has no value`);
  }
});

test('merged /usr: a path and its twin are both looked up', () => {
  assert.deepEqual(usrMergeAliases('/usr/bin/ls'), ['/usr/bin/ls', '/bin/ls']);
  assert.deepEqual(usrMergeAliases('/sbin/ip'), ['/sbin/ip', '/usr/sbin/ip']);
  assert.deepEqual(usrMergeAliases('/opt/x/bin/y'), ['/opt/x/bin/y']);
});

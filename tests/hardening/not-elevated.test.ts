/**
 * Not elevated: `ghostport scan` run as the unprivileged user `nobody` against a root-owned
 * listener on the real port 596. The socket is still reported, its owner is said to be hidden
 * and why, the health is degraded (never ok, never clear), and nobody's own sockets keep their
 * owner.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { killAllHolders, startHolder, type Holder } from '../support/port-holder.ts';
import { realTool } from '../support/tools.ts';

const BIN = 'electron/node/cli/ghostport.mjs';
const CLIENT = `const c = require('node:net').connect(596, '127.0.0.1', () => process.stdout.write('ready\\n')); c.on('error', (e) => { console.error(e.message); process.exit(3); }); process.stdin.on('end', () => process.exit(0)).resume();`;
const SETPRIV = realTool('setpriv');

function readableByNobody(): boolean {
  return spawnSync(SETPRIV!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, '-e', `require('fs').accessSync('${process.cwd()}/${BIN}')`]).status === 0;
}

const skip =
  process.platform !== 'linux' || process.getuid?.() !== 0
    ? 'needs Linux and root (binds port 596, switches to nobody)'
    : SETPRIV === null
      ? 'needs setpriv (util-linux) to run as nobody'
      : !readableByNobody()
        ? `the checkout ${process.cwd()} or ${process.execPath} is not readable by nobody`
        : false;

/** Runs the CLI as nobody/nogroup with no supplementary groups, as a logged-in user would. */
function asNobody(args: string[]) {
  const r = spawnSync(SETPRIV!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/nonexistent', LANG: 'C.UTF-8' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface SocketJson {
  localAddress: string;
  localPort: number;
  remotePort: number | null;
  pid: number | null;
  process: { pid: number; user: string | null } | null;
  ownerUnknownReason?: string;
}

describe('ghostport scan as nobody', { skip }, () => {
  let rootOwned: Holder;
  let client: ChildProcess;
  before(async () => {
    rootOwned = await startHolder({ tcpListen: [['127.0.0.1', 596]] });
    // Started as nobody (a process that merely dropped to nobody is not dumpable: its fds stay root's).
    client = spawn(SETPRIV!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, '-e', CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      client.stdout!.on('data', (c: Buffer) => (String(c).includes('ready') ? resolve() : undefined));
      client.once('exit', (code) => reject(new Error(`client exited with ${code}`)));
    });
  });
  after(async () => {
    client.kill('SIGKILL');
    await killAllHolders();
  });

  test('a root-owned listener: reported, owner hidden with the reason, health degraded, exit 1', () => {
    const r = asNobody(['scan', '--json']);
    assert.equal(r.status, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { health: string; sockets: SocketJson[]; issues: { code: string; hint?: string }[] };
    const hidden = doc.sockets.filter((s) => s.localAddress === '127.0.0.1' && s.localPort === 596 && s.remotePort === null);
    assert.equal(hidden.length, 1, 'the socket is reported, not dropped');
    assert.equal(hidden[0]!.pid, null);
    assert.equal(hidden[0]!.process, null);
    assert.match(hidden[0]!.ownerUnknownReason ?? '', /another user.*root/);
    assert.ok(!doc.sockets.some((s) => s.pid === rootOwned.pid), 'no owner is guessed');
    assert.equal(doc.health, 'degraded');
    const issue = doc.issues.find((i) => i.code === 'not-elevated');
    assert.ok(issue);
    assert.match(issue.hint ?? '', /root/);
    assert.match(r.stderr, /Run Ghostport as root/);
  });

  test("nobody's own connection to 596 keeps its owner; the root side of it stays hidden", () => {
    const doc = JSON.parse(asNobody(['scan', '--json']).stdout) as { sockets: SocketJson[] };
    const own = doc.sockets.find((s) => s.remotePort === 596 && s.pid === client.pid);
    assert.ok(own, 'the client side is attributed to its owner');
    assert.equal(own.process?.user, 'nobody');
    const accepted = doc.sockets.filter((s) => s.localPort === 596 && s.remotePort !== null && s.pid === null);
    assert.ok(accepted.length >= 1, 'the accepted (root-owned) side is reported with a hidden owner');
  });

  test('the table marks the hidden owner and never says clear', () => {
    const r = asNobody(['scan']);
    assert.equal(r.status, 1);
    assert.doesNotMatch(r.stdout, /: clear\./);
    const row = r.stdout.split('\n').find((l) => /127\.0\.0\.1:596\s+\*\s+LISTEN/.test(l));
    assert.ok(row);
    // (A NETNS column appears when sockets elsewhere on the machine are in sight too.)
    assert.match(row, /LISTEN\s+(?:host\s+)?\?\s+\?\s+Owner hidden: the socket belongs to another user\. Run Ghostport as root/);
  });
});

/** Runs the CLI as root with an empty bounding set: uid 0, but no capability survives its execve. */
function asRootWithoutCapabilities(args: string[]) {
  const r = spawnSync(SETPRIV!, ['--bounding-set=-all', '--inh-caps=-all', '--', process.execPath, BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As root, with every capability. */
function asRoot(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a listener held by nobody, seen by a watcher that may not read its descriptors', { skip }, () => {
  let held: Holder;
  before(async () => {
    held = await startHolder({ tcpListen: [['127.0.0.2', 596]], dropTo: 'nobody' });
  });
  after(async () => {
    await killAllHolders();
  });
  const listener = (doc: { sockets: SocketJson[] }) => doc.sockets.find((s) => s.localAddress === '127.0.0.2' && s.localPort === 596 && s.remotePort === null);

  for (const [who, run] of [
    ['root without capabilities', asRootWithoutCapabilities],
    ['nobody (another user than its owner)', asNobody],
  ] as const) {
    test(`${who}: "owner hidden", never "held by no process"`, () => {
      const r = run(['scan', '--json']);
      assert.equal(r.status, 1, r.stderr);
      const doc = JSON.parse(r.stdout) as { health: string; sockets: SocketJson[]; issues: { code: string; message: string }[] };
      const socket = listener(doc);
      assert.ok(socket, 'the listener is reported');
      assert.equal(socket.pid, null);
      assert.match(socket.ownerUnknownReason ?? '', /^Owner hidden/);
      assert.equal(doc.health, 'degraded');
      assert.ok(doc.issues.some((i) => i.code === 'not-elevated'));
      assert.ok(!doc.issues.some((i) => i.code === 'ownerless-socket'), 'not said to be held by no process');
      assert.doesNotMatch(r.stdout + r.stderr, /held by no process|No process holds/);
    });
  }

  test('root with its capabilities names the owner', () => {
    const doc = JSON.parse(asRoot(['scan', '--json']).stdout) as { sockets: SocketJson[] };
    assert.equal(listener(doc)?.pid, held.pid);
  });
});

/**
 * `ghostport scan`, `watch` and `history` through a real `ghostport serve` (run in its own network
 * namespace: `unshare -n`): --service PATH and the default socket ($GHOSTPORT_SOCKET here) are
 * used and said ("via"), --no-service is local; an unprivileged user in the socket's group sees the
 * owner of a root-owned listener that a local scan hides; a service that stops mid-stream is exit 2
 * for `history --follow`, and `watch` reconnects, catches up, and exits 2 if stopped while blind.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { findGroup } from '#node/service/paths.ts';
import { BIN, useFreshCliBundle } from '../../support/cli-bundle.ts';
import { killAllHolders, startHolder } from '../../support/port-holder.ts';
import { serviceDirs, startService, stopAllServices } from '../../support/serve-process.ts';
import { realTool } from '../../support/tools.ts';
import { scratchDirs } from '../../support/scratch.ts';

const PORT = 596;
const SETPRIV = realTool('setpriv');
const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root (binds port 596, switches users)' : false;
const children: ChildProcess[] = [];

useFreshCliBundle();
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await stopAllServices();
  await killAllHolders();
});

/** A data directory of the client's own, so a local run never reads the service's state. */
const clientDir = scratchDirs('ghostport-client-');
const clientEnv = (extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, GHOSTPORT_DATA_DIR: clientDir(), GHOSTPORT_SOCKET: '/nonexistent/ghostport.sock', ...extra });

function cli(args: string[], env: NodeJS.ProcessEnv = clientEnv()) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
}

/** A long-running CLI command with its output collected. */
function run(args: string[], env: NodeJS.ProcessEnv = clientEnv()) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c: Buffer) => (output.stdout += c));
  child.stderr!.on('data', (c: Buffer) => (output.stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output, exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 50))) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
  }
}

describe('the CLI through the service', { skip }, () => {
  test('scan: --service, the default socket and --no-service, each saying where the answer came from', async () => {
    const { socketPath } = serviceDirs();
    const service = startService({ socketPath, ports: [PORT] });
    await service.ready;
    const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    await new Promise((r) => setTimeout(r, 600)); // the service's next poll

    const explicit = cli(['scan', '--json', '--service', socketPath]);
    assert.equal(explicit.status, 1, explicit.stderr);
    const doc = JSON.parse(explicit.stdout) as { via: string; sockets: { pid: number }[] };
    assert.equal(doc.via, 'service');
    assert.ok(doc.sockets.some((s) => s.pid === holder.pid));

    const auto = cli(['scan'], clientEnv({ GHOSTPORT_SOCKET: socketPath }));
    assert.equal(auto.status, 1);
    assert.match(auto.stdout, /via the Ghostport service at .*ghostport\.sock/);

    const local = cli(['scan', '--json', '--no-service'], clientEnv({ GHOSTPORT_SOCKET: socketPath }));
    assert.equal((JSON.parse(local.stdout) as { via: string }).via, 'local');

    const unwatched = cli(['scan', '--port', '5960', '--service', socketPath]);
    assert.equal(unwatched.status, 2);
    assert.match(unwatched.stderr, /watches port 596, not 5960: .* --no-service/);

    const missing = cli(['scan', '--service', '/nonexistent/ghostport.sock']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /No Ghostport service is running at \/nonexistent\/ghostport\.sock/);

    const history = cli(['history', '--json', '--service', socketPath, '--port', String(PORT)]);
    assert.equal(history.status, 0, history.stderr);
    assert.ok(history.stdout.split('\n').filter(Boolean).some((l) => (JSON.parse(l) as { socket: { pid: number } }).socket.pid === holder.pid));
    await holder.kill();
  });

  test('an unprivileged user in the socket group sees the owner that a local scan hides', { skip: SETPRIV ? false : 'needs setpriv (util-linux)' }, async () => {
    const group = findGroup('nogroup') ?? findGroup(65534)!;
    const { socketPath } = serviceDirs();
    const service = startService({ socketPath, socketGroup: group.name, ports: [PORT] });
    await service.ready;
    const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    await new Promise((r) => setTimeout(r, 600));
    const asNobody = (...args: string[]) =>
      spawnSync(SETPRIV!, ['--reuid=nobody', `--regid=${group.gid}`, '--clear-groups', '--', process.execPath, BIN, ...args], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH, HOME: '/nonexistent', GHOSTPORT_SOCKET: socketPath },
      });
    const viaService = asNobody('scan', '--json');
    const seen = JSON.parse(viaService.stdout) as { via: string; sockets: { pid: number | null; process: { user: string } | null }[] };
    assert.equal(seen.via, 'service', viaService.stderr);
    assert.ok(seen.sockets.some((s) => s.pid === holder.pid && s.process?.user === 'root'), 'root-owned owner seen through the service');
    const local = asNobody('scan', '--json', '--no-service');
    const hidden = JSON.parse(local.stdout) as { via: string; sockets: { pid: number | null }[] };
    assert.equal(hidden.via, 'local');
    assert.ok(!hidden.sockets.some((s) => s.pid === holder.pid), 'a local scan as nobody cannot name the root-owned owner');
    await holder.kill();
  });

  test('history while the service cannot write its store (locked): what waits in its memory is listed (seq 0) and said', async () => {
    const { socketPath } = serviceDirs();
    const service = startService({ socketPath, ports: [PORT] });
    await service.ready;
    const first = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    const pidsOf = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; socket: { pid: number } });
    await until('the first listener stored', () => pidsOf(cli(['history', '--json', '--service', socketPath]).stdout).some((e) => e.socket.pid === first.pid && e.seq > 0));
    const lock = new DatabaseSync(join(service.stateDir, 'history.db'), { timeout: 5000 });
    lock.exec('BEGIN EXCLUSIVE');
    try {
      const second = await startHolder({ tcpListen: [['127.0.0.2', PORT]] });
      let history = cli(['history', '--json', '--service', socketPath]);
      await until('the second listener listed', () => pidsOf((history = cli(['history', '--json', '--service', socketPath])).stdout).some((e) => e.socket.pid === second.pid));
      const listed = pidsOf(history.stdout);
      assert.ok(listed.find((e) => e.socket.pid === first.pid)!.seq > 0, 'the stored one, with its seq');
      assert.equal(listed.at(-1)!.socket.pid, second.pid, 'the waiting one comes last (newest)');
      assert.equal(listed.at(-1)!.seq, 0);
      assert.match(history.stderr, /the last event listed waits in the service's memory to be written \(seq 0: its store is locked or full\)/);
      await second.kill();
    } finally {
      lock.exec('COMMIT');
      lock.close();
    }
    await until('written once the lock clears', () => pidsOf(cli(['history', '--json', '--service', socketPath]).stdout).every((e) => e.seq > 0));
    await first.kill();
    service.child.kill('SIGTERM');
    await service.exited;
  });

  test('history --follow: the service stopping mid-stream is exit 2', async () => {
    const { socketPath } = serviceDirs();
    const service = startService({ socketPath, ports: [PORT] });
    await service.ready;
    const follower = run(['history', '--follow', '--service', socketPath]);
    await new Promise((r) => setTimeout(r, 1500));
    service.child.kill('SIGTERM');
    assert.equal(await follower.exited, 2);
    assert.match(follower.output.stderr, /No Ghostport service is running|Lost the Ghostport service/);
  });

  test('watch reconnects when the service comes back, catches up, and exits 2 if stopped while it is away', async () => {
    const { socketPath, stateDir } = serviceDirs();
    const first = startService({ socketPath, dataDir: stateDir, ports: [PORT] });
    await first.ready;
    const watcher = run(['watch', '--json', '--service', socketPath]);
    await until('watch connected', () => watcher.output.stdout.includes('"type":"health"'));
    const one = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    await until('the first listener', () => watcher.output.stdout.includes(`"pid":${one.pid}`));
    first.child.kill('SIGTERM');
    await until('the loss reported', () => /reconnecting/.test(watcher.output.stderr));
    await one.kill(); // gone while nobody watches: the next service's start settles it from the store
    const second = startService({ socketPath, dataDir: stateDir, ports: [PORT] });
    await second.ready;
    await until('watch reconnected', () => /service is back/.test(watcher.output.stderr));
    const two = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    await until('the second listener through the new service', () => watcher.output.stdout.includes(`"pid":${two.pid}`));
    const events = watcher.output.stdout.split('\n').filter((l) => l.includes('"type":"appeared"') || l.includes('"type":"disappeared"')).map((l) => JSON.parse(l) as { seq: number });
    assert.equal(new Set(events.map((e) => e.seq)).size, events.length, 'no event printed twice across the reconnect');
    second.child.kill('SIGTERM');
    await until('the second loss reported', () => (watcher.output.stderr.match(/reconnecting/g) ?? []).length >= 2);
    watcher.child.kill('SIGTERM');
    assert.equal(await watcher.exited, 2, 'stopped while blind: not clear');
    await two.kill();
  });
});

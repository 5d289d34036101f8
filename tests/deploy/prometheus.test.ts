/**
 * Prometheus: the shipped alert rules pass their promtool unit tests; `serve`'s /metrics has every
 * watched port at 0, a bounded ghostport_socket_info with the rest counted; a real Prometheus
 * scraping a real `serve` sees the "something on the port" alert fire for a listener on 596 and
 * clear when it goes; and three hosts (three `serve`s in three network namespaces) scraped by one
 * Prometheus get an alert naming the one host with something on 596.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { killAllHolders, startHolder } from '../support/port-holder.ts';
import { serviceDirs, startService, stopAllServices } from '../support/serve-process.ts';
import { realTool } from '../support/tools.ts';
import { scratchDirs } from '../support/scratch.ts';

const RULES_DIR = resolve('deploy/prometheus');
const PROMTOOL = realTool('promtool');
const PROMETHEUS = realTool('prometheus');
const root = process.platform === 'linux' && process.getuid?.() === 0;
const PORT = 596;
const started: ChildProcess[] = [];

after(async () => {
  for (const child of started) child.kill('SIGKILL');
  await stopAllServices();
  await killAllHolders();
});
// After the hook above (hooks run in order): its processes are gone before their directories.
const prometheusDir = scratchDirs('ghostport-prometheus-');

test('the alert rules pass their promtool unit tests', { skip: PROMTOOL ? false : 'needs promtool (Debian package prometheus)' }, () => {
  const check = spawnSync(PROMTOOL!, ['check', 'rules', 'ghostport.rules.yml'], { cwd: RULES_DIR, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: 4 rules found/);
  const unit = spawnSync(PROMTOOL!, ['test', 'rules', 'ghostport.rules.test.yml'], { cwd: RULES_DIR, encoding: 'utf8' });
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
  assert.match(unit.stdout, /SUCCESS/);
});

async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Lines of a /metrics text for one metric name (without comments). */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('serve /metrics', { skip: root ? false : 'needs Linux and root (binds port 596)' }, () => {
  test('every watched port is present with 0; socket_info is bounded and counts the rest', async () => {
    const service = startService({ ...serviceDirs(), ports: [PORT, 5960], metricsAddress: `127.0.0.1:${await freePort()}`, maxSocketSeries: 5 });
    const { metricsUrl } = await service.ready;
    const text = await until('a first scan in /metrics', async () => {
      const body = await (await fetch(metricsUrl!)).text();
      return samples(body, 'ghostport_sockets').length > 0 ? body : null;
    });
    assert.deepEqual(samples(text, 'ghostport_sockets').sort(), ['ghostport_sockets{port="596"} 0', 'ghostport_sockets{port="5960"} 0']);
    assert.deepEqual(samples(text, 'ghostport_health').sort(), ['ghostport_health{state="blind"} 0', 'ghostport_health{state="degraded"} 0', 'ghostport_health{state="ok"} 1']);
    assert.deepEqual(samples(text, 'ghostport_build_info'), ['ghostport_build_info{version="0.0.0-test"} 1']);
    assert.deepEqual(samples(text, 'ghostport_kernel_helper_restarts_total'), ['ghostport_kernel_helper_restarts_total 0']);
    assert.ok(samples(text, 'ghostport_scan_duration_seconds_count').some((l) => Number(l.split(' ')[1]) >= 1));
    assert.ok(samples(text, 'process_resident_memory_bytes').length === 1, 'prom-client process metrics');

    // A listener and 20 connections to it: 41 sockets on 596, 5 series, 36 counted as dropped.
    const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]], tcpConnect: Array.from({ length: 20 }, () => ['127.0.0.1', PORT] as const) });
    const busy = await until('41 sockets in /metrics', async () => {
      const body = await (await fetch(metricsUrl!)).text();
      return samples(body, 'ghostport_sockets').includes('ghostport_sockets{port="596"} 41') ? body : null;
    });
    assert.equal(samples(busy, 'ghostport_socket_info').length, 5);
    assert.deepEqual(samples(busy, 'ghostport_socket_info_dropped'), ['ghostport_socket_info_dropped 36']);
    assert.ok(samples(busy, 'ghostport_socket_info').some((l) => l.includes(`pid="${holder.pid}"`) && l.includes('comm="node"') && l.includes('user="root"')));
    assert.match(samples(busy, 'ghostport_events_total').join('\n'), /ghostport_events_total\{type="appeared",source="[a-z]+"\} (4[1-9]|[5-9]\d)/);
    await holder.kill();
  });

  test('a non-loopback address must be written out', async () => {
    const service = startService({ ...serviceDirs(), ports: [PORT], metricsAddress: ':9596' });
    assert.equal(await service.exited, 2);
    assert.match(service.log(), /has no host\. Metrics contain process names: say 127\.0\.0\.1:9596 .* or 0\.0\.0\.0:9596/);
  });
});

/** Starts Prometheus on a free loopback port with the shipped rules and these scrape targets. */
async function startPrometheus(targets: readonly string[], relabel = ''): Promise<string> {
  const dir = prometheusDir();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: [${JSON.stringify(join(RULES_DIR, 'ghostport.rules.yml'))}]\n` +
      `scrape_configs:\n  - job_name: ghostport\n    static_configs: [{ targets: ${JSON.stringify(targets)} }]\n${relabel}`,
  );
  const address = `127.0.0.1:${await freePort()}`;
  const child = spawn(PROMETHEUS!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${address}`], { stdio: 'ignore' });
  started.push(child);
  const url = `http://${address}`;
  await until('Prometheus ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : null));
  return url;
}

interface Alert {
  readonly labels: Record<string, string>;
  readonly state: string;
}

async function firing(url: string, name: string): Promise<Alert[]> {
  const body = (await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
  return body.data.alerts.filter((a) => a.labels.alertname === name && a.state === 'firing');
}

const withPrometheus = !root ? 'needs Linux and root (binds port 596)' : PROMETHEUS ? false : 'needs prometheus (Debian package prometheus)';

describe('a real Prometheus scraping serve', { skip: withPrometheus }, () => {
  test('the alert fires for a listener on 596 and clears when it goes', async () => {
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const service = startService({ ...serviceDirs(), ports: [PORT], metricsAddress });
    await service.ready;
    const prometheus = await startPrometheus([metricsAddress]);
    await until('ghostport scraped', async () => {
      const body = (await (await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent('ghostport_sockets')}`)).json()) as { data: { result: unknown[] } };
      return body.data.result.length > 0 ? true : null;
    });
    assert.deepEqual(await firing(prometheus, 'GhostportSomethingOnWatchedPort'), [], 'quiet while the port is clear');
    const holder = await startHolder({ tcpListen: [['127.0.0.1', PORT]] });
    const alerts = await until('the alert firing', async () => {
      const found = await firing(prometheus, 'GhostportSomethingOnWatchedPort');
      return found.length > 0 ? found : null;
    });
    assert.equal(alerts[0]!.labels.port, '596');
    assert.equal(alerts[0]!.labels.instance, metricsAddress);
    await holder.kill();
    await until('the alert clearing', async () => ((await firing(prometheus, 'GhostportSomethingOnWatchedPort')).length === 0 ? true : null));
  });

  const ip = realTool('ip');
  test('three hosts in three network namespaces: the alert names the host with something on 596', { skip: ip ? false : 'needs ip (iproute2)' }, async () => {
    const hosts = ['alpha', 'bravo', 'charlie'].map((name, i) => ({ name, ns: `ghostport-${name}-${process.pid}-${randomBytes(3).toString('hex')}`, ip: `10.59.${i + 1}.2`, gateway: `10.59.${i + 1}.1` }));
    const run = (...args: string[]) => {
      const r = spawnSync(ip!, args, { encoding: 'utf8' });
      assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
    };
    try {
      for (const [i, host] of hosts.entries()) {
        run('netns', 'add', host.ns);
        run('link', 'add', `gpv${i}-${process.pid % 10000}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns);
        run('addr', 'add', `${host.gateway}/30`, 'dev', `gpv${i}-${process.pid % 10000}`);
        run('link', 'set', `gpv${i}-${process.pid % 10000}`, 'up');
        run('-n', host.ns, 'addr', 'add', `${host.ip}/30`, 'dev', 'eth0');
        run('-n', host.ns, 'link', 'set', 'eth0', 'up');
        run('-n', host.ns, 'link', 'set', 'lo', 'up');
      }
      const services = hosts.map((host) =>
        // A host of its own: Ghostport sees every namespace and process on its machine, so each
        // simulated host also gets its own PID namespace and an empty /run/netns. SIGTERM (not
        // SIGKILL) reaches serve when its wrapper is killed, so it removes its tracefs instance.
        startService({
          ...serviceDirs(),
          ports: [PORT],
          metricsAddress: `${host.ip}:9596`,
          wrap: [ip!, 'netns', 'exec', host.ns, 'unshare', '--pid', '--fork', '--kill-child=SIGTERM', '--mount-proc', 'sh', '-c', 'mount -t tmpfs tmpfs /run/netns && exec "$@"', 'host'],
        }),
      );
      await Promise.all(services.map((s) => s.ready));
      // Prometheus names each target's host from its address, as a file_sd or DNS name would.
      const relabel = hosts.map((h) => `      - { source_labels: [__address__], regex: '${h.ip.replaceAll('.', '[.]')}:9596', target_label: host, replacement: ${h.name} }`).join('\n');
      const prometheus = await startPrometheus(hosts.map((h) => `${h.ip}:9596`), `    relabel_configs:\n${relabel}\n`);
      await until('all three hosts scraped', async () => {
        const body = (await (await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent('ghostport_sockets')}`)).json()) as { data: { result: { metric: { host: string } }[] } };
        return body.data.result.length === 3 ? true : null;
      });
      const listener = spawn(ip!, ['netns', 'exec', hosts[1]!.ns, process.execPath, '-e', `require('net').createServer().listen(${PORT}, '0.0.0.0', () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
      started.push(listener);
      await new Promise((r) => listener.stdout!.once('data', r));
      const alerts = await until('the alert firing for bravo', async () => {
        const found = await firing(prometheus, 'GhostportSomethingOnWatchedPort');
        return found.length > 0 ? found : null;
      });
      assert.deepEqual(alerts.map((a) => a.labels.host), ['bravo']);
      listener.kill();
      await until('the alert clearing', async () => ((await firing(prometheus, 'GhostportSomethingOnWatchedPort')).length === 0 ? true : null));
    } finally {
      await stopAllServices();
      for (const host of hosts) spawnSync(ip!, ['netns', 'delete', host.ns]);
    }
  });
});

/**
 * Child process of the benchmark that puts real sockets on the watched port (596), with a command
 * line no other process has (`--ghostport-bench-holder`), so a scan's owner can be checked.
 * Commands on stdin, one per line:
 * - `hold tcp|udp|tcp6|udp6`: closes what it holds, then binds one socket on every address of that
 *   family; replies {"type":"bound","t":hrtime ns} (closing and binding in one step lets a scan see
 *   both, so a trial needs no scan of its own for the disappearance)
 * - `burst <n>`: likewise, n sockets on 127.1.x.y:596, alternating TCP listeners and UDP
 * - `release`: closes them all; replies {"type":"released","t":hrtime ns}
 * Stdin closing ends it.
 */
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

/** The argument that marks the holder's command line. */
export const HOLDER_MARKER = '--ghostport-bench-holder';

/** The i-th distinct loopback address of a burst: 127.1.x.y covers 65,000 addresses, all local on Linux. */
export function burstAddress(i: number): string {
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

const port = Number.parseInt(process.argv[2] ?? '596', 10);
const servers: Server[] = [];
const udps: UdpSocket[] = [];

function reply(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...message, t: process.hrtime.bigint().toString() })}\n`);
}

function listenTcp(host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => s.destroy());
    server.once('error', reject);
    // ipv6Only: a dual-stack [::] listener would collide with the IPv4 one.
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => resolve());
    servers.push(server);
  });
}

function bindUdp(host: string): Promise<void> {
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: host.includes(':') });
  udps.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve());
  });
}

async function hold(kind: string): Promise<void> {
  await closeAll();
  if (kind === 'tcp') await listenTcp('0.0.0.0');
  else if (kind === 'tcp6') await listenTcp('::');
  else if (kind === 'udp') await bindUdp('0.0.0.0');
  else if (kind === 'udp6') await bindUdp('::');
  else throw new Error(`unknown kind ${kind}`);
  reply({ type: 'bound', count: servers.length + udps.length });
}

async function burst(n: number): Promise<void> {
  await closeAll();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const host = burstAddress(Math.floor(i / 2));
    pending.push(i % 2 === 0 ? listenTcp(host) : bindUdp(host));
  }
  await Promise.all(pending);
  reply({ type: 'bound', count: servers.length + udps.length });
}

async function closeAll(): Promise<void> {
  await Promise.all([
    ...servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    ...udps.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  ]);
  servers.length = 0;
  udps.length = 0;
}

async function release(): Promise<void> {
  await closeAll();
  reply({ type: 'released' });
}

if (import.meta.main) {
  let work = Promise.resolve();
  const run = (task: () => Promise<void>): void => {
    work = work.then(task).catch((error: unknown) => reply({ type: 'fatal', message: String(error) }));
  };
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const [command, arg] = line.trim().split(/\s+/);
      if (command === 'hold') run(() => hold(arg ?? 'tcp'));
      else if (command === 'burst') run(() => burst(Number.parseInt(arg ?? '0', 10)));
      else if (command === 'release') run(release);
    })
    .on('close', () => void work.finally(() => process.exit(0)));
  reply({ type: 'ready', pid: process.pid });
}

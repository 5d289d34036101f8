/**
 * Child process of the benchmark: holds N unrelated loopback sockets (TCP listeners, connected
 * TCP pairs, UDP sockets; IPv4 and IPv6) so that socket tables are as big as on a busy host while
 * the measuring processes stay small. Commands on stdin: `grow <total>`; stdin closing ends it.
 * Replies: {"type":"ready"}, {"type":"grown","sockets":n,...}.
 */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

/** How a total splits into kinds: about 10 % UDP, 5 % listeners, the rest connected pairs (two sockets each). */
export function planFarm(total: number): { readonly udp: number; readonly listeners: number; readonly pairs: number } {
  if (total <= 0) return { udp: 0, listeners: 0, pairs: 0 };
  const listeners = Math.max(1, Math.floor(total * 0.05));
  let udp = Math.min(total - listeners, Math.floor(total * 0.1));
  const pairs = Math.floor((total - listeners - udp) / 2);
  udp = total - listeners - 2 * pairs;
  return { udp, listeners, pairs };
}

const listeners: Server[] = [];
const listenerPorts: { readonly host: string; readonly port: number }[] = [];
const clients: Socket[] = [];
const accepted: Socket[] = [];
const udpSockets: UdpSocket[] = [];
let ipv6 = true;

function reply(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function openListener(index: number): Promise<void> {
  const host = ipv6 && index % 4 === 3 ? '::1' : '127.0.0.1';
  const server = createServer((socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Port 0: an ephemeral port, so nothing here can land on a watched port like 596.
    server.listen({ host, port: 0, backlog: 4096 }, () => resolve());
  }).catch((error: unknown) => {
    if (host !== '::1') throw error;
    ipv6 = false;
    return openListener(index);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('listener has no port');
  listeners.push(server);
  listenerPorts.push({ host, port: address.port });
}

function openClient(index: number): Promise<void> {
  const target = listenerPorts[index % listenerPorts.length]!;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port }, () => resolve());
    socket.once('error', reject);
    socket.on('error', () => {});
    clients.push(socket);
  });
}

async function openUdp(index: number): Promise<void> {
  const type = ipv6 && index % 4 === 3 ? 'udp6' : 'udp4';
  const socket = createSocket(type);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, type === 'udp6' ? '::1' : '127.0.0.1', () => resolve());
  });
  udpSockets.push(socket);
}

async function waitForAccepted(count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (accepted.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${accepted.length} of ${count} connections accepted`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Opens sockets until the farm holds `total` (never shrinks). */
async function grow(total: number): Promise<void> {
  const plan = planFarm(total);
  while (listeners.length < plan.listeners) await openListener(listeners.length);
  while (udpSockets.length < plan.udp) await openUdp(udpSockets.length);
  // Connect in batches: a burst of thousands of SYNs at once overflows accept queues.
  while (clients.length < plan.pairs) {
    const batch: Promise<void>[] = [];
    for (let i = 0; i < 200 && clients.length < plan.pairs; i++) batch.push(openClient(clients.length));
    await Promise.all(batch);
  }
  await waitForAccepted(plan.pairs);
  const sockets = listeners.length + udpSockets.length + clients.length + accepted.length;
  reply({ type: 'grown', sockets, listeners: listeners.length, udp: udpSockets.length, pairs: clients.length, ipv6 });
}

function shutdown(): void {
  // RST instead of FIN: closing thousands of pairs would otherwise leave as many TIME_WAIT rows
  // in the host's tables for a minute, skewing whatever is measured next.
  for (const s of [...clients, ...accepted]) s.resetAndDestroy();
  for (const s of udpSockets) s.close();
  for (const s of listeners) s.close();
  setTimeout(() => process.exit(0), 50).unref();
}

if (import.meta.main) {
  let work = Promise.resolve();
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const [command, arg] = line.trim().split(/\s+/);
      if (command === 'grow') {
        work = work
          .then(() => grow(Number.parseInt(arg ?? '0', 10)))
          .catch((error: unknown) => reply({ type: 'fatal', message: String(error) }));
      }
    })
    .on('close', () => void work.finally(shutdown));
  reply({ type: 'ready', pid: process.pid });
}

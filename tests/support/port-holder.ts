/**
 * Test helper: a real child process that opens real sockets (on port 596 or elsewhere) and
 * reports when they are ready, so tests observe genuine kernel state and genuine owners.
 * Every holder is tracked and killed by `killAllHolders()` (call it in `after`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** What the child should open. */
export interface HolderSpec {
  /** TCP listeners: [address, port, ipv6Only?]. */
  readonly tcpListen?: readonly (readonly [string, number, boolean?])[];
  /** UDP sockets bound (unconnected): [address, port, ipv6Only?]. */
  readonly udpBind?: readonly (readonly [string, number, boolean?])[];
  /** Outbound TCP connections: [address, port]. */
  readonly tcpConnect?: readonly (readonly [string, number])[];
  /** Drop privileges to this user after binding (needs root). */
  readonly dropTo?: string;
  /** Extra argv entries, to shape the command line. */
  readonly extraArgs?: readonly string[];
  /** Raise the fd limit first (for thousands of sockets). */
  readonly fdLimit?: number;
  /** Unrelated loopback socket pairs to open (each pair is two sockets). */
  readonly noisePairs?: number;
}

/** A running holder. */
export interface Holder {
  readonly pid: number;
  readonly child: ChildProcess;
  kill(): Promise<void>;
}

const live = new Set<Holder>();

const CHILD = String.raw`
const net = require('node:net');
const dgram = require('node:dgram');
const spec = JSON.parse(process.env.HOLDER_SPEC);
const keep = [];
(async () => {
  for (const [host, port, v6only] of spec.tcpListen ?? []) {
    const s = net.createServer((c) => keep.push(c));
    await new Promise((res, rej) => { s.once('error', rej); s.listen({ host, port, ipv6Only: !!v6only }, res); });
    keep.push(s);
  }
  for (const [host, port, v6only] of spec.udpBind ?? []) {
    const s = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: !!v6only });
    await new Promise((res, rej) => { s.once('error', rej); s.bind(port, host, res); });
    keep.push(s);
  }
  for (const [host, port] of spec.tcpConnect ?? []) {
    const c = net.connect({ host, port });
    await new Promise((res, rej) => { c.once('error', rej); c.once('connect', res); });
    keep.push(c);
  }
  if (spec.noisePairs) {
    const server = net.createServer((c) => keep.push(c));
    await new Promise((res) => server.listen(0, '127.0.0.1', res));
    keep.push(server);
    const port = server.address().port;
    for (let i = 0; i < spec.noisePairs; i += 200) {
      const batch = [];
      for (let j = i; j < Math.min(i + 200, spec.noisePairs); j++) {
        batch.push(new Promise((res, rej) => { const c = net.connect(port, '127.0.0.1', res); c.once('error', rej); keep.push(c); }));
      }
      await Promise.all(batch);
    }
  }
  if (spec.dropTo) { process.setgid(spec.dropTo === 'nobody' ? 'nogroup' : spec.dropTo); process.setuid(spec.dropTo); }
  process.stdout.write('ready\n');
})().catch((e) => { process.stdout.write('error ' + e.message + '\n'); process.exit(3); });
setInterval(() => {}, 1 << 30);
`;

/**
 * Starts a holder and waits until its sockets are open. A port another run holds (developers
 * running suites side by side) is waited for, up to 90 s, rather than failing at once.
 */
export async function startHolder(spec: HolderSpec): Promise<Holder> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      return await startHolderOnce(spec);
    } catch (error) {
      if (!String(error).includes('EADDRINUSE') || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function startHolderOnce(spec: HolderSpec): Promise<Holder> {
  const args = ['-e', CHILD, '--', ...(spec.extraArgs ?? [])];
  const child = spec.fdLimit
    ? spawn('bash', ['-c', `ulimit -n ${spec.fdLimit} && exec "$0" "$@"`, process.execPath, ...args], {
        env: { ...process.env, HOLDER_SPEC: JSON.stringify(spec) },
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : spawn(process.execPath, args, { env: { ...process.env, HOLDER_SPEC: JSON.stringify(spec) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const holder: Holder = {
    pid: child.pid!,
    child,
    async kill() {
      live.delete(holder);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    },
  };
  live.add(holder);
  const line = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('holder did not become ready in 60 s')), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('\n')) {
        clearTimeout(timer);
        resolve(buffer.split('\n')[0]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited with ${code} before it was ready: ${buffer}`));
    });
  });
  if (line !== 'ready') {
    await holder.kill();
    throw new Error(`holder failed: ${line}`);
  }
  return holder;
}

/** Kills every holder still running. */
export async function killAllHolders(): Promise<void> {
  await Promise.all([...live].map((h) => h.kill()));
}

/** Waits until `check` returns a truthy value, polling every `stepMs`. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * Test helper: a real child that opens and closes a socket on port 596 over and over (a
 * listener that flaps), so a watcher has a steady stream of genuine events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const CHILD = String.raw`
const net = require('node:net');
const dgram = require('node:dgram');
const [host, periodMs, protocol] = [process.argv[1], Number(process.argv[2]), process.argv[3]];
let open = null;
let toggles = 0;
setInterval(() => {
  toggles++;
  if (open) {
    open.close();
    open = null;
    return;
  }
  if (protocol === 'udp') {
    const s = dgram.createSocket('udp4');
    s.on('error', () => { if (open === s) open = null; });
    s.bind(596, host);
    open = s;
  } else {
    const s = net.createServer();
    s.on('error', () => { if (open === s) open = null; });
    s.listen(596, host);
    open = s;
  }
}, periodMs);
process.on('SIGUSR2', () => process.stdout.write('toggles ' + toggles + '\n'));
// Dies with the test that started it, however that one ends.
process.stdin.on('end', () => process.exit(0)).resume();
process.stdout.write('ready\n');
`;

/** A running churn child. */
export interface Churn {
  readonly pid: number;
  readonly child: ChildProcess;
  kill(): Promise<void>;
}

const live = new Set<Churn>();

/** Starts a child that binds and unbinds `host`:596 every `periodMs`. */
export async function startChurn(host: string, periodMs: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<Churn> {
  const child = spawn(process.execPath, ['-e', CHILD, host, String(periodMs), protocol], { stdio: ['pipe', 'pipe', 'inherit'] });
  const churn: Churn = {
    pid: child.pid!,
    child,
    async kill() {
      live.delete(churn);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
  live.add(churn);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`churn exited with ${code}`)));
  });
  return churn;
}

/** Kills every churn child still running. */
export async function killAllChurn(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
}

/**
 * A real process with a hostile name and command line that listens on a port: started through a
 * symlink to node whose file name holds a bidi override, a newline, a bell and markup, with
 * arguments carrying the same. The window must show all of it as inert, visible text.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The file name the process runs as (its shown name): RLO, newline, markup and BEL. */
export const HOSTILE_NAME = 'gp-evil\u202Etxt.exe\n<img src=x onerror=alert(1)>\u0007';
/** Arguments that try to fake lines and inject markup. */
export const HOSTILE_ARGS = ['--title=\u202Efdp.exe', 'line-one\nFAKE: all clear', '<script>alert(2)</script>'] as const;

/** A running hostile listener. */
export interface HostileProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the hostile process listening on `address:port` (TCP) and waits until it listens. */
export async function startHostileProcess(address: string, port: number): Promise<HostileProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'ghostport-hostile-'));
  const link = join(dir, HOSTILE_NAME);
  await symlink(process.execPath, link);
  const code = `require('node:net').createServer().listen({ host: ${JSON.stringify(address)}, port: ${port} }, () => process.stdout.write('ready\\n')); setInterval(() => {}, 1 << 30);`;
  const child = spawn(link, ['-e', code, '--', ...HOSTILE_ARGS], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('hostile process did not listen within 30 s')), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`hostile process exited with ${code}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid as number, child, stop };
}

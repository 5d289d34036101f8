/**
 * An X display for Electron on Linux: the current one if DISPLAY is set, else a private Xvfb
 * started for the tests (and stopped after them).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** A display to run Electron on. */
export interface Display {
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/** Uses DISPLAY, or starts Xvfb on a free display number. */
export async function ensureDisplay(): Promise<Display> {
  if (process.platform !== 'linux' || process.env.DISPLAY) return { env: {}, stop: async () => undefined };
  let number = 90;
  while (existsSync(`/tmp/.X11-unix/X${number}`) || existsSync(`/tmp/.X${number}-lock`)) number++;
  const xvfb: ChildProcess = spawn('Xvfb', [`:${number}`, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!existsSync(`/tmp/.X11-unix/X${number}`)) {
    if (xvfb.exitCode !== null) throw new Error(`Xvfb exited with ${xvfb.exitCode}`);
    if (Date.now() > deadline) throw new Error('Xvfb did not start within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    env: { DISPLAY: `:${number}` },
    async stop() {
      if (xvfb.exitCode !== null) return;
      xvfb.kill('SIGTERM');
      await new Promise((r) => xvfb.once('exit', r));
    },
  };
}

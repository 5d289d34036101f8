/**
 * Test helper: stand-in socket tools on a private PATH (an `ss` that fails, hangs or prints
 * garbage), and a census of the processes such tools leave behind, found by a marker in argv[0].
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Looked up on the PATH the tests started with: tests swap process.env.PATH for a tool directory.
const SYSTEM_PATH = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** Absolute path of a real tool, or null when it is not installed. */
export function realTool(name: string): string | null {
  const found = spawnSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8', env: { ...process.env, PATH: SYSTEM_PATH } }).stdout.trim();
  return found.startsWith('/') ? found : null;
}

/** A directory to put first (or alone) on PATH. */
export interface ToolDir {
  readonly path: string;
  /** Writes (or replaces) an executable bash script named `name`. */
  script(name: string, body: string): void;
  /** Links a real tool under its own name. */
  link(name: string): void;
  remove(): void;
}

/** Creates a tool directory holding links to `basics` (real tools the code under test needs). */
export function toolDir(basics: readonly string[] = ['sh', 'bash', 'grep', 'getconf', 'cat', 'sleep']): ToolDir {
  const path = mkdtempSync(join(tmpdir(), 'ghostport-tools-'));
  const dir: ToolDir = {
    path,
    script(name, body) {
      const file = join(path, name);
      rmSync(file, { force: true });
      // Written to a fresh inode and renamed would be cleaner, but bash reads scripts lazily:
      // replacing the file while an old copy runs is exactly what the tests want to survive.
      writeFileSync(file, `#!/bin/bash\n${body}\n`);
      chmodSync(file, 0o755);
    },
    link(name) {
      const real = realTool(name);
      if (real) symlinkSync(real, join(path, name));
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
  for (const tool of basics) dir.link(tool);
  return dir;
}

/** Pids of live processes whose argv[0] starts with `marker`. */
export function markedProcesses(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv0 = readFileSync(`/proc/${entry}/cmdline`).toString('utf8').split('\0')[0] ?? '';
      const state = /^State:\s+(\w)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (argv0.startsWith(marker) && state !== 'Z') pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/** Kills every process `markedProcesses(marker)` finds (they are this test's own stand-ins). */
export function killMarked(marker: string): void {
  for (const pid of markedProcesses(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** A bash line that runs `sleep seconds` as a child whose argv[0] is `marker` (so it can be counted). */
export function markedSleep(marker: string, seconds: number): string {
  return `bash -c 'exec -a ${marker} sleep ${seconds}'`;
}

/**
 * Test helper: a Linux where the kernel's socket tables cannot be read, so that only `ss` or
 * `netstat` can list sockets: a proc mounted with `subset=pid` (no /proc/net, as systemd's
 * ProcSubset=pid gives) and no netlink helper (GHOSTPORT_DIAG names none).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realTool } from './tools.ts';

/** A GHOSTPORT_DIAG that names no helper. */
export const NO_HELPER = '/nonexistent/ghostport-diag';

// Found now: tests swap PATH for a tool directory.
const [MOUNT, UMOUNT, UNSHARE] = [realTool('mount') ?? 'mount', realTool('umount') ?? 'umount', realTool('unshare') ?? 'unshare'];

/** Why these cannot run here, or false. */
export const hardenedSkip: string | false = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs Linux and root (mounts a proc)' : false;

/** `file args` run in a mount namespace of its own whose /proc has no net/, and the environment that names no netlink helper. */
export function withoutKernelTables(file: string, args: readonly string[], env: NodeJS.ProcessEnv): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    file: UNSHARE,
    args: ['--mount', '--propagation', 'private', '/bin/sh', '-c', `${MOUNT} -t proc -o subset=pid proc /proc && exec "$0" "$@"`, file, ...args],
    env: { ...env, GHOSTPORT_DIAG: NO_HELPER },
  };
}

/** Mounts such a proc in a temporary directory, for a scanner given it as its /proc (only in a mount namespace of the test's own). */
export function mountHardenedProc(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'ghostport-proc-'));
  const mounted = spawnSync(MOUNT, ['-t', 'proc', '-o', 'subset=pid', 'proc', path], { encoding: 'utf8' });
  assert.equal(mounted.status, 0, `mount -o subset=pid: ${mounted.stderr}`);
  assert.ok(!existsSync(join(path, 'net')) && existsSync(join(path, 'self')), 'the mounted proc has processes and no net/');
  return {
    path,
    remove() {
      // Lazily: a helper the engine started may still be on its way out.
      const unmounted = spawnSync(UMOUNT, ['--lazy', path], { encoding: 'utf8' });
      assert.equal(unmounted.status, 0, `umount: ${unmounted.stderr}`);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * Builds the netlink probe helper (electron/node/native/ghostport-diag.c) into
 * dist/native/ghostport-diag. Linux only, and optional: with no C compiler the product uses the
 * shell+ss probe instead, so a missing compiler is a note, not a failure. A compiler that
 * refuses our source is a failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const NATIVE_SOURCE = 'electron/node/native/ghostport-diag.c';
export const NATIVE_OUTPUT = 'dist/native/ghostport-diag';

/** What building the helper did. `skipped`: nothing to build with here (not a failure). */
export interface NativeBuild {
  readonly ok: boolean;
  readonly message: string;
  readonly skipped: boolean;
}

/** Compiles the helper under `root`; never throws. */
export function buildNative(root: string): NativeBuild {
  if (process.platform !== 'linux') return { ok: false, skipped: true, message: `build-native: not Linux (${process.platform}); the helper is not built, the probe uses ss.` };
  const probe = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { ok: false, skipped: true, message: 'build-native: no C compiler (cc) found; the helper is not built, the probe uses ss.' };
  }
  const output = join(root, NATIVE_OUTPUT);
  // Compile beside the target and rename: a helper running from the old binary is not disturbed.
  const temporary = `${output}.${process.pid}.tmp`;
  try {
    mkdirSync(join(root, 'dist', 'native'), { recursive: true });
  } catch (error) {
    return { ok: false, skipped: false, message: `build-native: cannot create dist/native: ${String(error)}` };
  }
  const compile = spawnSync('cc', ['-O2', '-Wall', '-o', temporary, join(root, NATIVE_SOURCE)], { encoding: 'utf8', cwd: root });
  if (compile.error || compile.status !== 0) {
    rmSync(temporary, { force: true });
    const detail = (compile.stderr || String(compile.error ?? '')).trim().split('\n').slice(0, 5).join(' | ');
    return { ok: false, skipped: false, message: `build-native: cc failed (exit ${compile.status ?? compile.signal}): ${detail}` };
  }
  try {
    renameSync(temporary, output);
  } catch (error) {
    rmSync(temporary, { force: true });
    return { ok: false, skipped: false, message: `build-native: cannot move the helper into place: ${String(error)}` };
  }
  return { ok: true, skipped: false, message: `build-native: ${NATIVE_OUTPUT} is ready.` };
}

if (import.meta.main) {
  const result = buildNative(process.cwd());
  (result.ok || result.skipped ? process.stdout : process.stderr).write(`${result.message}\n`);
  process.exit(result.ok || result.skipped ? 0 : 1);
}

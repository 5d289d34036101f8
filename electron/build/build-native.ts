/**
 * Builds the Linux helpers into dist/native/: the netlink probe (ghostport-diag.c) and the eBPF
 * source of UDP events (ghostport-bpf.bpf.c, ghostport-bpf.c). Linux only, and optional: with no
 * C compiler the product uses the shell+ss probe instead, and without clang, bpftool, libbpf or
 * the kernel's BTF it goes without eBPF (its health says what can be missed), so a missing tool
 * is a note, not a failure. A compiler that refuses our source is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

export const BPF_SOURCES = { kernel: 'electron/node/native/ghostport-bpf.bpf.c', user: 'electron/node/native/ghostport-bpf.c' } as const;
export const BPF_OUTPUT = 'dist/native/ghostport-bpf';
// Build-time files (the kernel's types, the BPF object, its skeleton): not shipped.
const BPF_WORK = 'dist/bpf-build';
const KERNEL_BTF = '/sys/kernel/btf/vmlinux';

function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), '/usr/sbin', '/sbin'];
  return dirs.map((d) => `${d}/${name}`).find((p) => existsSync(p)) ?? null;
}

function run(tool: string, args: readonly string[], cwd: string): { ok: true; stdout: string } | { ok: false; detail: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8', cwd, maxBuffer: 64 * 1024 * 1024 });
  if (!r.error && r.status === 0) return { ok: true, stdout: r.stdout };
  return { ok: false, detail: `${tool.split('/').pop()} failed (exit ${r.status ?? r.signal}): ${(r.stderr || String(r.error ?? '')).trim().split('\n').slice(0, 5).join(' | ')}` };
}

/**
 * Builds the eBPF helper under `root` (a libbpf skeleton with CO-RE: the kernel's types come from
 * this machine's BTF at build time, and libbpf relocates them for the kernel it runs on); never
 * throws. Skipped, not failed, where clang, bpftool, libbpf's headers or the kernel's BTF are missing.
 */
export function buildBpf(root: string): NativeBuild {
  const skip = (why: string): NativeBuild => ({ ok: false, skipped: true, message: `build-native: ${why}; the eBPF helper is not built: UDP datagrams from unconnected sockets, and short-lived UDP sockets and TCP binds, can be missed.` });
  if (process.platform !== 'linux') return skip(`not Linux (${process.platform})`);
  const clang = findTool('clang');
  const bpftool = findTool('bpftool');
  if (!clang) return skip('no clang (Debian: apt install clang)');
  if (!bpftool) return skip('no bpftool (Debian: apt install bpftool)');
  if (!existsSync(KERNEL_BTF)) return skip(`the kernel has no BTF (${KERNEL_BTF})`);
  if (spawnSync('cc', ['-E', '-x', 'c', '-'], { input: '#include <bpf/libbpf.h>\n#include <gelf.h>\n', stdio: ['pipe', 'ignore', 'ignore'] }).status !== 0) {
    return skip('no libbpf or libelf headers (Debian: apt install libbpf-dev libelf-dev)');
  }
  const work = join(root, BPF_WORK);
  const output = join(root, BPF_OUTPUT);
  const temporary = `${output}.${process.pid}.tmp`;
  const fail = (detail: string): NativeBuild => {
    rmSync(temporary, { force: true });
    return { ok: false, skipped: false, message: `build-native: eBPF helper: ${detail}` };
  };
  mkdirSync(work, { recursive: true });
  mkdirSync(join(root, 'dist', 'native'), { recursive: true });
  const types = run(bpftool, ['btf', 'dump', 'file', KERNEL_BTF, 'format', 'c'], root);
  if (!types.ok) return fail(types.detail);
  writeFileSync(join(work, 'vmlinux.h'), types.stdout);
  const object = join(work, 'ghostport-bpf.bpf.o');
  const arch = { x64: 'x86', arm64: 'arm64', arm: 'arm', ppc64: 'powerpc', s390x: 's390', riscv64: 'riscv' }[process.arch as string] ?? process.arch;
  const kernel = run(clang, ['-g', '-O2', '-Wall', '-target', 'bpf', `-D__TARGET_ARCH_${arch}`, '-I', work, '-c', join(root, BPF_SOURCES.kernel), '-o', object], root);
  if (!kernel.ok) return fail(kernel.detail);
  const skeleton = run(bpftool, ['gen', 'skeleton', object, 'name', 'ghostport_bpf'], root);
  if (!skeleton.ok) return fail(skeleton.detail);
  writeFileSync(join(work, 'ghostport-bpf.skel.h'), skeleton.stdout);
  // libbpf linked statically: the helper runs where only libelf and zlib are installed.
  const user = run('cc', ['-O2', '-Wall', '-I', work, '-o', temporary, join(root, BPF_SOURCES.user), '-Wl,-Bstatic', '-lbpf', '-Wl,-Bdynamic', '-lelf', '-lz'], root);
  if (!user.ok) return fail(user.detail);
  try {
    renameSync(temporary, output);
  } catch (error) {
    return fail(`cannot move the helper into place: ${String(error)}`);
  }
  return { ok: true, skipped: false, message: `build-native: ${BPF_OUTPUT} is ready.` };
}

if (import.meta.main) {
  let failed = false;
  for (const result of [buildNative(process.cwd()), buildBpf(process.cwd())]) {
    (result.ok || result.skipped ? process.stdout : process.stderr).write(`${result.message}\n`);
    failed ||= !result.ok && !result.skipped;
  }
  process.exit(failed ? 1 : 0);
}

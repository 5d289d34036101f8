/**
 * Why a test of kernel events cannot run here, or false: they need Linux, root and the first PID
 * namespace (npm test's main run isolates itself in one of its own, then runs the kernel tests
 * again outside it), and, as asked, the eBPF helper built and tracefs mounted.
 */
import { existsSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildBpf } from '../../electron/build/build-native.ts';

/** True in the first PID namespace, where the kernel's pids are this process's. */
export const INIT_PID_NAMESPACE = process.platform === 'linux' && readlinkSync('/proc/self/ns/pid') === 'pid:[4026531836]';

/** What a test of kernel events needs beyond Linux, root and the first PID namespace. */
export interface KernelNeeds {
  readonly bpf?: boolean;
  readonly tracefs?: boolean;
}

/** The reason to skip, or false when the test can run. */
export function kernelSkip(needs: KernelNeeds): string | false {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return `needs Linux and root (${[needs.tracefs ? 'tracefs' : '', needs.bpf ? 'BPF' : ''].filter(Boolean).join(', ')})`;
  if (!INIT_PID_NAMESPACE) return 'runs in a PID namespace of its own (npm test isolates itself so): kernel events are off there by design; npm test runs this file again in the first PID namespace';
  if (needs.bpf) {
    const built = buildBpf(fileURLToPath(new URL('../../', import.meta.url)));
    if (!built.ok) return `the eBPF helper is not built here: ${built.message}`;
  }
  if (needs.tracefs && !existsSync('/sys/kernel/tracing/instances') && !existsSync('/sys/kernel/debug/tracing/instances')) return 'tracefs is not mounted';
  return false;
}

/**
 * Which systemd unit and which container a process runs in, read from its /proc/PID/cgroup
 * text. Pure: the table of container runtimes is the one place to add another.
 */
import type { ContainerInfo } from './model.ts';

/** What a cgroup path says about a process. */
export interface CgroupFacts {
  readonly path: string | null;
  readonly unit: string | null;
  readonly container: ContainerInfo | null;
}

// The path patterns of container runtimes (systemd and cgroupfs drivers), first match wins.
const RUNTIMES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\/kubepods[^/]*\/(?:.*\/)?(?:cri-containerd-|crio-|docker-)?([0-9a-f]{64})(?:\.scope)?$/, 'kubernetes'],
  [/(?:^|\/)docker-([0-9a-f]{12,64})\.scope(?:\/|$)/, 'docker'],
  [/(?:^|\/)docker\/([0-9a-f]{12,64})(?:\/|$)/, 'docker'],
  [/(?:^|\/)libpod-(?:conmon-)?([0-9a-f]{12,64})\.scope(?:\/|$)/, 'podman'],
  [/(?:^|\/)cri-containerd-([0-9a-f]{12,64})\.scope(?:\/|$)/, 'containerd'],
  [/(?:^|\/)crio-([0-9a-f]{12,64})\.scope(?:\/|$)/, 'cri-o'],
  [/(?:^|\/)lxc\.payload\.([^/]+)/, 'lxc'],
  [/(?:^|\/)lxc\/([^/]+)/, 'lxc'],
  [/(?:^|\/)machine-([^/]+)\.scope(?:\/|$)/, 'systemd-machined'],
];

const UNIT = /^[^/]+\.(?:service|scope|socket|mount|swap|timer|target)$/;

/** The unified (v2) hierarchy's path, else systemd's named v1 hierarchy, else the first line's. */
export function cgroupPath(text: string): string | null {
  const lines = text.split('\n').filter(Boolean).map((line) => line.split(':'));
  const pick = lines.find((f) => f[0] === '0' && f[1] === '') ?? lines.find((f) => f[1] === 'name=systemd') ?? lines[0];
  return pick && pick.length >= 3 ? pick.slice(2).join(':') : null;
}

/** The unit (the innermost systemd unit on the path, e.g. `ssh.service`, `session-3.scope`) and container. */
export function parseCgroup(text: string): CgroupFacts {
  const path = cgroupPath(text);
  if (path === null) return { path, unit: null, container: null };
  const unit = path.split('/').filter((segment) => UNIT.test(segment)).at(-1) ?? null;
  for (const [pattern, runtime] of RUNTIMES) {
    const id = pattern.exec(path)?.[1];
    if (id) return { path, unit, container: { runtime, id } };
  }
  return { path, unit, container: null };
}

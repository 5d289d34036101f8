/** A port list as Ghostport keeps it: each port once, in ascending order. */
export function normalizePorts(ports: readonly number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** True when two normalized port lists are the same. */
export function samePorts(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((port, i) => port === b[i]);
}

/**
 * `npm test`: everything that can run on this machine, in order, stopping at the first failure.
 * 1. type-check, 2. the import-direction check, 3. Node tests (unit and integration, one file at
 * a time because integration tests bind the real port 596), 4. Playwright (browser and Electron).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

interface Step {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly when?: () => boolean;
}

const steps: readonly Step[] = [
  { name: 'type-check', command: 'npx', args: ['tsc', '-p', 'tsconfig.json', '--noEmit'] },
  // The tests run `ghostport` as users do, from the bundle: build it from the current sources.
  { name: 'build the CLI', command: process.execPath, args: ['electron/build/build.ts', '--cli'] },
  { name: 'node tests', command: process.execPath, args: ['--test', '--test-concurrency=1', '--test-reporter=spec', 'tests/**/*.test.ts'] },
  {
    name: 'playwright',
    command: 'npx',
    args: ['playwright', 'test', '--config', 'tests/playwright.config.ts'],
    when: () => existsSync('tests/playwright.config.ts'),
  },
];

/** Tests that need kernel events (tracefs, eBPF), which only run in the first PID namespace. */
const KERNEL_TESTS = ['tests/node/kernel-events.test.ts', 'tests/node/bpf-events.test.ts', 'tests/node/kernel-restarts.test.ts', 'tests/node/safety-net.test.ts', 'tests/node/bound-sockets.test.ts', 'tests/node/uring-events.test.ts'];

// Ghostport sees every network namespace and every process on the machine. As root on Linux the
// suite therefore runs in its own network, PID and mount namespaces: sockets on 596 of anything
// else (another run of the suite, a real service) are out of its sight, and its mounts and named
// namespaces vanish with it. (sh as PID 1 there reaps orphans while it waits.)
if (process.platform === 'linux' && process.getuid?.() === 0 && !process.env.GHOSTPORT_TEST_ISOLATED && spawnSync('unshare', ['--version']).status === 0) {
  const command = ['ip link set lo up', [process.execPath, ...process.argv.slice(1)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')].join(' && ');
  const isolated = spawnSync('unshare', ['--net', '--pid', '--fork', '--mount-proc', 'sh', '-c', command], { stdio: 'inherit', env: { ...process.env, GHOSTPORT_TEST_ISOLATED: '1' } });
  if (isolated.status !== 0) process.exit(isolated.status ?? 1);
  // Kernel events are off inside a PID namespace of its own (the trace's pids are the first
  // namespace's), so their tests skip above: run them again here, in a network and mount
  // namespace of their own but in the first PID namespace, where they really run.
  const only = process.argv.slice(2);
  if (only.length === 0 || only.includes('kernel events')) {
    process.stdout.write('\n=== kernel events (first PID namespace) ===\n');
    const kernel = `ip link set lo up && '${process.execPath}' --test --test-concurrency=1 --test-reporter=spec ${KERNEL_TESTS.join(' ')}`;
    const result = spawnSync('unshare', ['--net', '--mount', 'sh', '-c', kernel], { stdio: 'inherit', env: { ...process.env, GHOSTPORT_TEST_ISOLATED: '1' } });
    if (result.status !== 0) {
      process.stderr.write(`\nnpm test: step "kernel events" failed (exit ${result.status ?? result.signal}).\n`);
      process.exit(1);
    }
    process.stdout.write('\nnpm test: kernel events passed too.\n');
  }
  process.exit(0);
}

const only = process.argv.slice(2);
for (const step of steps) {
  if (only.length > 0 && !only.includes(step.name)) continue;
  if (step.when && !step.when()) continue;
  process.stdout.write(`\n=== ${step.name} ===\n`);
  const result = spawnSync(step.command, step.args, { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`\nnpm test: step "${step.name}" failed (exit ${result.status ?? result.signal}).\n`);
    process.exit(1);
  }
}
process.stdout.write('\nnpm test: all steps passed.\n');

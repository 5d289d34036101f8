/**
 * Dependencies: no high or critical advisory in what ships (`npm audit --omit=dev`), and
 * systeminformation — the one dependency that runs shell commands — at a version past every
 * advisory published against it. The audit needs the registry's advisory endpoint; where it
 * cannot be reached the test is skipped with the registry's answer, never passed silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Advisories published against systeminformation, with the first fixed version (GitHub Advisory
 * Database, OSV and https://systeminformation.io/security.html, as of 2026-11). Add new ones here.
 */
const ADVISORIES: readonly { readonly id: string; readonly what: string; readonly fixed: string }[] = [
  { id: 'GHSA-5xpp-75jx-m839', what: 'command injection in networkInterfaces() via interfaces(5) paths (CVE-2026-50289)', fixed: '5.31.7' },
  { id: 'GHSA-5vv4-hvf7-2h46', what: 'command injection via unsanitized locate output in versions() (CVE-2026-26318)', fixed: '5.31.0' },
  { id: 'GHSA-9c88-49p5-5ggf', what: 'command injection via the interface in the wifiNetworks() retry path (CVE-2026-26280)', fixed: '5.30.8' },
  { id: 'GHSA-wphj-fx3q-84ch', what: 'command injection in fsSize() on Windows (CVE-2025-68154)', fixed: '5.27.14' },
  { id: 'GHSA-cvv5-9h9w-qp2m', what: 'SSID command injection in getWindowsIEEE8021x (CVE-2024-56334)', fixed: '5.23.7' },
  { id: 'GHSA-gx6r-qc2v-3p3v', what: 'SSID command injection in wifiConnections()/wifiNetworks() (CVE-2023-42810)', fixed: '5.21.7' },
  { id: 'GHSA-jff2-qjw8-5476', what: 'command injection through array parameters (CVE-2021-21388)', fixed: '5.6.4' },
  { id: 'GHSA-2m8v-572m-ff2v', what: 'command injection through array parameters (CVE-2021-21315)', fixed: '5.3.1' },
  { id: 'GHSA-m57p-p67h-mq74', what: 'command injection in inetLatency() (CVE-2020-26274)', fixed: '4.31.1' },
  { id: 'GHSA-7648-jmwf-vw7j', what: 'prototype pollution in networkStats() on the BSDs (CVE-2026-116674)', fixed: '5.33.13' },
];

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).slice(0, 3).map(Number);
  const pb = b.split(/[.+-]/).slice(0, 3).map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

test('systeminformation is past every published advisory: installed, locked and declared', () => {
  const floor = ADVISORIES.map((a) => a.fixed).reduce((max, v) => (compareVersions(v, max) > 0 ? v : max));
  const installed = (require('systeminformation/package.json') as { version: string }).version;
  for (const advisory of ADVISORIES) {
    assert.ok(compareVersions(installed, advisory.fixed) >= 0, `installed ${installed} is affected by ${advisory.id} (${advisory.what}), fixed in ${advisory.fixed}`);
  }
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string }> };
  const locked = lock.packages['node_modules/systeminformation']?.version ?? '';
  assert.ok(compareVersions(locked, floor) >= 0, `package-lock.json pins ${locked}, below ${floor}`);
  const declared = (JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> }).dependencies.systeminformation ?? '';
  const minimum = /^[\^~]?(\d+\.\d+\.\d+)$/.exec(declared)?.[1];
  assert.ok(minimum, `package.json declares systeminformation as "${declared}": expected ^x.y.z`);
  assert.ok(compareVersions(minimum, floor) >= 0, `package.json allows ${declared}, below ${floor}: a fresh install could resolve a vulnerable version`);
});

test('npm audit --omit=dev: no high or critical advisory', (t) => {
  const npm = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', timeout: 120_000 });
  if (npm.error) return t.skip(`npm could not run: ${npm.error.message}`);
  let report: {
    metadata?: { vulnerabilities?: Record<string, number> };
    vulnerabilities?: Record<string, { severity: string; via: unknown[] }>;
    message?: string;
    statusCode?: number;
    error?: { summary?: string; code?: string };
  };
  try {
    report = JSON.parse(npm.stdout);
  } catch {
    return t.skip(`npm audit gave no report (exit ${npm.status}): ${(npm.stderr || npm.stdout).trim().split('\n')[0]}`);
  }
  if (!report.metadata?.vulnerabilities) {
    const why = report.message ?? report.error?.summary ?? report.error?.code ?? `exit ${npm.status}`;
    return t.skip(`the registry's audit endpoint is unreachable from here (${why}); run \`npm audit --omit=dev --audit-level=high\` where it is`);
  }
  const counts = report.metadata.vulnerabilities;
  const serious = Object.entries(report.vulnerabilities ?? {})
    .filter(([, v]) => v.severity === 'high' || v.severity === 'critical')
    .map(([name, v]) => `${name} (${v.severity})`);
  assert.equal((counts.high ?? 0) + (counts.critical ?? 0), 0, `high/critical advisories in production dependencies: ${serious.join(', ')}`);
});

/** Evidence in words: the groups a responder reads, the warnings, the CLI/copy text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceGroups, evidenceWarnings, formatEvidenceLines } from '#common/evidence-text.ts';
import { makeProcess } from './desktop-fixtures.ts';

const full = makeProcess({
  name: 'python3',
  path: '/tmp/x/python3',
  argv: ['python3', '-m', 'http.server', '596'],
  uid: 1000,
  cwd: '/home/bob',
  exeDeleted: true,
  exeSha256: 'ab'.repeat(32),
  package: null,
  unit: 'cron.service',
  container: null,
  netns: 4026531840,
  uptimeSeconds: 3725,
  ancestry: [
    { pid: 900, name: 'sh', command: 'sh -c python3 -m http.server 596', user: 'bob', startedAt: null },
    { pid: 1, name: 'systemd', command: '/sbin/init', user: 'root', startedAt: null },
  ],
  otherSockets: { listening: ['TCP 0.0.0.0:596', 'TCP 127.0.0.1:8080'], peers: ['TCP 203.0.113.9:443'], total: 3 },
  reasons: { package: 'not from a package: no dpkg package lists /tmp/x/python3', container: 'not in a container (no runtime named in its cgroup)' },
});

test('warnings: deleted, modified, not from a package; nothing for a clean packaged binary', () => {
  assert.deepEqual(evidenceWarnings(full), ['deleted executable', 'not from a package']);
  const modified = makeProcess({ exeDeleted: false, package: { manager: 'dpkg', name: 'netcat-openbsd', version: '1.219-1', modified: true } });
  assert.deepEqual(evidenceWarnings(modified), ['modified since netcat-openbsd installed it']);
  assert.deepEqual(evidenceWarnings(makeProcess({ exeDeleted: false, package: { manager: 'dpkg', name: 'x', version: null, modified: false } })), []);
  assert.deepEqual(evidenceWarnings(makeProcess()), [], 'old records without evidence warn of nothing');
});

test('groups in the responder\u2019s order, unknowns with their reason', () => {
  const groups = evidenceGroups(full);
  assert.deepEqual(groups.map((g) => g.title), ['Who', 'What', 'How it started', 'Talking to']);
  const container = groups[0]!.rows.find((r) => r.label === 'Container');
  assert.deepEqual(container, { label: 'Container', value: null, reason: 'not in a container (no runtime named in its cgroup)' });
  const pkg = groups[1]!.rows.find((r) => r.label === 'Package');
  assert.equal(pkg?.warning, true);
  assert.equal(pkg?.value, null);
});

test('the text block: warning first, argv one per line, ancestry indented, escaped', () => {
  const lines = formatEvidenceLines({ ...full, cwd: '/home/bob\u202Eevil' });
  assert.equal(lines[0], '  WARNING: deleted executable; not from a package');
  const text = lines.join('\n');
  assert.match(text, /Executable: \/tmp\/x\/python3 \(DELETED since it started\)/);
  assert.match(text, /Arguments:\n {6}python3\n {6}-m\n {6}http\.server\n {6}596/);
  assert.match(text, /Started by:\n {6}900 sh \(bob\): sh -c python3 -m http\.server 596\n {7}1 systemd \(root\): \/sbin\/init/);
  assert.match(text, /Working directory: \/home\/bob\\u202eevil/);
  assert.match(text, /Package: — not from a package: no dpkg package lists \/tmp\/x\/python3\n/);
  assert.match(text, /Listening on:\n {6}TCP 0\.0\.0\.0:596\n {6}TCP 127\.0\.0\.1:8080/);
  assert.match(text, /running 1 h 02 min at detection/);
});

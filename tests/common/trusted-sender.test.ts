import { test } from 'node:test';
import assert from 'node:assert/strict';
import { senderRejection } from '#common/trusted-sender.ts';
import type { SenderFacts } from '#common/trusted-sender.ts';

import { appUrlToRelativePath, contentTypeFor, isAppUrl } from '#common/app-origin.ts';

// What the dead isTrustedSender helper said, kept as the test's shorthand.
const isTrustedSender = (facts: SenderFacts, ids: ReadonlySet<number>) => senderRejection(facts, ids) === null;
const trusted = new Set([3]);
const good = { webContentsId: 3, frameUrl: 'ghostport://app/index.html', isMainFrame: true };

test('the app window, top frame, own origin is trusted', () => {
  assert.equal(isTrustedSender(good, trusted), true);
  assert.equal(isTrustedSender({ ...good, frameUrl: 'ghostport://app/index.html#/process/4711' }, trusted), true);
});

test('forged or foreign senders are refused, each with a reason', () => {
  const cases = [
    { ...good, webContentsId: 4 },
    { ...good, frameUrl: null },
    { ...good, isMainFrame: false },
    { ...good, frameUrl: 'https://evil.example/index.html' },
    { ...good, frameUrl: 'file:///usr/share/ghostport/index.html' },
    { ...good, frameUrl: 'ghostport://evil/index.html' },
    { ...good, frameUrl: 'ghostport://app.evil/index.html' },
    { ...good, frameUrl: 'ghostport://app:8080/index.html' },
    { ...good, frameUrl: 'ghostport://user@app/index.html' },
    { ...good, frameUrl: 'about:blank' },
    { ...good, frameUrl: 'not a url' },
  ];
  for (const facts of cases) {
    assert.equal(isTrustedSender(facts, trusted), false, JSON.stringify(facts));
    assert.match(senderRejection(facts, trusted) ?? '', /\w/);
  }
  assert.equal(isTrustedSender(good, new Set()), false);
});

test('app URLs map to files inside the renderer folder only', () => {
  assert.equal(appUrlToRelativePath('ghostport://app/'), 'index.html');
  assert.equal(appUrlToRelativePath('ghostport://app/index.html?x=1#y'), 'index.html');
  assert.equal(appUrlToRelativePath('ghostport://app/assets/main-1a2b.js'), 'assets/main-1a2b.js');
  assert.equal(appUrlToRelativePath('ghostport://app/assets/a%20b.css'), 'assets/a b.css');
  // The URL parser resolves plain and %2e dot segments to the root: still inside the folder.
  assert.equal(appUrlToRelativePath('ghostport://app/../../etc/passwd'), 'etc/passwd');
  assert.equal(appUrlToRelativePath('ghostport://app/a/%2e%2e/%2e%2e/etc/passwd'), 'etc/passwd');
  for (const bad of [
    'ghostport://app/..%2f..%2fetc/passwd',
    'ghostport://app/%2e%2e%2fetc',
    'ghostport://app/a%5c..%5cb',
    'ghostport://app/a%00.js',
    'ghostport://app/%E0%A4%A',
    'ghostport://other/index.html',
    'file:///etc/passwd',
  ]) {
    assert.equal(appUrlToRelativePath(bad), null, bad);
  }
  assert.equal(isAppUrl('ghostport://app/x'), true);
});

test('content types cover what vite emits', () => {
  assert.equal(contentTypeFor('index.html'), 'text/html; charset=utf-8');
  assert.equal(contentTypeFor('assets/x.JS'), 'text/javascript; charset=utf-8');
  assert.equal(contentTypeFor('assets/x.css'), 'text/css; charset=utf-8');
  assert.equal(contentTypeFor('x.unknown'), 'application/octet-stream');
});

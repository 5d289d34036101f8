/** The window's security settings, as data (no Electron binary needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APP_SCHEME_PRIVILEGES,
  CONTENT_SECURITY_POLICY,
  RESPONSE_HEADERS,
  WINDOW_OPEN_RESPONSE,
  isNavigationAllowed,
  isPermissionGranted,
  secureWebPreferences,
} from '#main/security-policy.ts';

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((part) => {
      const [name, ...values] = part.trim().split(/\s+/);
      return [name!, values];
    }),
  );
}

test('webPreferences state isolation, sandbox and no Node explicitly', () => {
  const prefs = secureWebPreferences('/app/dist/preload/preload.cjs');
  assert.equal(prefs.preload, '/app/dist/preload/preload.cjs');
  for (const key of ['contextIsolation', 'sandbox', 'nodeIntegration', 'webSecurity'] as const) {
    assert.ok(Object.hasOwn(prefs, key), `${key} is stated, not left to the default`);
  }
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInWorker, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.allowRunningInsecureContent, false);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.experimentalFeatures, false);
  assert.equal(prefs.navigateOnDragDrop, false);
  assert.equal(prefs.enableBlinkFeatures, '');
});

test('the CSP allows only the app own scripts and styles: no inline, no eval, no network', () => {
  const csp = directives(CONTENT_SECURITY_POLICY);
  assert.deepEqual(csp.get('default-src'), ["'none'"]);
  assert.deepEqual(csp.get('script-src'), ["'self'"]);
  assert.deepEqual(csp.get('style-src'), ["'self'"]);
  assert.deepEqual(csp.get('img-src'), ["'self'", 'data:']);
  assert.deepEqual(csp.get('connect-src'), ["'none'"]);
  assert.deepEqual(csp.get('object-src'), ["'none'"]);
  assert.deepEqual(csp.get('base-uri'), ["'none'"]);
  assert.deepEqual(csp.get('form-action'), ["'none'"]);
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-|\*|http:|https:|blob:|ws:/);
});

test('every response of the app protocol carries the CSP and hardening headers', () => {
  assert.equal(RESPONSE_HEADERS['Content-Security-Policy'], CONTENT_SECURITY_POLICY);
  assert.equal(RESPONSE_HEADERS['X-Content-Type-Options'], 'nosniff');
  assert.equal(RESPONSE_HEADERS['Cross-Origin-Opener-Policy'], 'same-origin');
});

test('the app scheme is standard and secure but grants nothing more', () => {
  assert.equal(APP_SCHEME_PRIVILEGES.scheme, 'ghostport');
  const p = APP_SCHEME_PRIVILEGES.privileges!;
  assert.equal(p.standard, true);
  assert.equal(p.secure, true);
  for (const key of ['bypassCSP', 'allowServiceWorkers', 'supportFetchAPI', 'corsEnabled'] as const) assert.equal(p[key], false, key);
});

test('navigation, new windows and permission requests are all denied', () => {
  for (const url of ['ghostport://app/index.html', 'https://example.com/', 'file:///etc/passwd', 'javascript:alert(1)']) {
    assert.equal(isNavigationAllowed(url), false, url);
  }
  assert.deepEqual(WINDOW_OPEN_RESPONSE, { action: 'deny' });
  for (const permission of ['notifications', 'media', 'geolocation', 'clipboard-read', 'openExternal', 'fullscreen', 'unknown']) {
    assert.equal(isPermissionGranted(permission), false, permission);
  }
});

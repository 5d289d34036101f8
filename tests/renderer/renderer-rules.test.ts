/**
 * Rules of the renderer that a reviewer would otherwise have to remember: one module touches the
 * preload API, nothing renders HTML from strings, nothing talks to the network, nothing evaluates
 * code, and the reducers and formatters stay free of the DOM so they run under Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../renderer/src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|tsx)$/.test(entry.name) ? [path] : [];
  });
}

/** The code without comments, so prose about "the window." is not mistaken for a use of `window`. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const files = sources(SRC).map((path) => ({ path: relative(SRC, path), text: code(readFileSync(path, 'utf8')) }));

function offenders(pattern: RegExp, except: readonly string[] = []): string[] {
  return files.filter((f) => !except.includes(f.path) && pattern.test(f.text)).map((f) => f.path);
}

test('the renderer has sources to check', () => {
  assert.ok(files.length > 20, `found ${files.length}`);
});

test('only api.ts touches window.ghostport', () => {
  assert.deepEqual(offenders(/\bwindow\b[^;\n]*\bghostport\b|\.ghostport\b|\['ghostport'\]/, ['api.ts']), []);
  assert.match(files.find((f) => f.path === 'api.ts')?.text ?? '', /window as unknown as \{ readonly ghostport\?/);
});

test('no HTML from strings, no eval, no network', () => {
  assert.deepEqual(offenders(/dangerouslySetInnerHTML|\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write/), []);
  assert.deepEqual(offenders(/\beval\(|new Function\(|setTimeout\(\s*['"`]/), []);
  // http-api.ts is the API's HTTP transport for `ghostport ui`: same-origin only (its CSP says connect-src 'self').
  assert.deepEqual(offenders(/\bfetch\(|XMLHttpRequest|WebSocket|EventSource|navigator\.sendBeacon|import\(\s*['"`]https?:/, ['http-api.ts']), []);
  assert.doesNotMatch(files.find((f) => f.path === 'http-api.ts')?.text ?? '', /https?:|\/\/[a-z]/i, 'the HTTP transport names no other origin');
  assert.deepEqual(offenders(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/), [], 'no remote URLs (fonts, images, scripts)');
});

test('state, format and virtual modules are free of React and the DOM (they run under Node)', () => {
  const pure = files.filter((f) => /^(format|virtual)\//.test(f.path) || /^state\/(?!use-)/.test(f.path));
  assert.ok(pure.length >= 10, `found ${pure.length}`);
  for (const file of pure) {
    assert.doesNotMatch(file.text, /from 'react'|\bdocument\.|\bwindow\.|\bnavigator\./, file.path);
  }
});

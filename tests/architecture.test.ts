/**
 * The import direction, enforced (VS Code-style runtime folders):
 * - electron/common: pure. Only zod and other common modules; no Node, Electron, systeminformation, DOM code.
 * - electron/node: Node and common; never Electron, the main process, the preload or the renderer.
 * - electron/preload: common (types) and its own folder; it runs sandboxed and can load nothing else.
 * - renderer: React and electron/common only (its vite.config.ts is build tooling, run by Node).
 * - `electron` itself is imported only in electron/main and electron/preload.
 * - Raw `ipcMain`/`ipcRenderer` appear only in electron/main/ipc.ts and electron/preload/preload.ts.
 * The checker is tested on synthetic violations first, so a broken checker cannot pass vacuously.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = process.cwd();
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const IPC_MODULES = new Set(['electron/main/ipc.ts', 'electron/preload/preload.ts']);

/** A source file, by repository-relative POSIX path. */
interface Source {
  readonly path: string;
  readonly text: string;
}

/** The package's import aliases (package.json `imports`), as repository-relative folders. */
const ALIASES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { imports: Record<string, string> }).imports).map(([alias, path]) => [
    alias.replace(/\*$/, ''),
    path.replace(/^\.\//, '').replace(/\*$/, ''),
  ]),
);

/** The repository-relative file a relative or aliased specifier names; null for a package or built-in. */
function targetOf(source: Source, specifier: string): string | null {
  if (specifier.startsWith('.')) return relative(ROOT, resolve(ROOT, dirname(source.path), specifier)).split(sep).join('/');
  const alias = Object.keys(ALIASES).find((prefix) => specifier.startsWith(prefix));
  return alias === undefined ? null : ALIASES[alias]! + specifier.slice(alias.length);
}

function importsOf(source: Source): string[] {
  const info = ts.preProcessFile(source.text, true, true);
  return info.importedFiles.map((f) => f.fileName);
}

function layerOf(path: string): string | null {
  // Build configuration beside the renderer (vite.config.ts) runs in Node at build time.
  if (/^renderer\/[^/]+\.config\.[cm]?[jt]s$/.test(path)) return 'build-config';
  for (const layer of ['electron/common/', 'electron/node/', 'electron/main/', 'electron/preload/', 'electron/build/', 'renderer/', 'tests/']) {
    if (path.startsWith(layer)) return layer.slice(0, -1);
  }
  return null;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every rule broken by these files, as readable lines. */
function violations(sources: readonly Source[]): string[] {
  const found: string[] = [];
  for (const source of sources) {
    const layer = layerOf(source.path);
    for (const specifier of importsOf(source)) {
      const target = targetOf(source, specifier);
      const targetLayer = target ? layerOf(target) : null;
      const bare = target !== null ? null : specifier;
      const isNode = bare !== null && NODE_BUILTINS.has(bare);
      const isElectron = bare === 'electron' || (bare?.startsWith('electron/') ?? false);
      const say = (why: string) => found.push(`${source.path} imports ${specifier}: ${why}`);
      if (isElectron && layer !== 'electron/main' && layer !== 'electron/preload') say('only electron/main and electron/preload may import electron');
      if (layer === 'electron/common') {
        if (isNode) say('electron/common is pure: no Node modules');
        if (bare === 'systeminformation') say('electron/common is pure: no systeminformation');
        if (bare !== null && !isNode && !isElectron && bare !== 'zod' && bare !== 'systeminformation') say('electron/common may use zod only');
        if (target && targetLayer !== 'electron/common') say('electron/common may import only electron/common');
      }
      if (layer === 'electron/node' && target && ['electron/main', 'electron/preload', 'renderer'].includes(targetLayer ?? '')) {
        say('electron/node must not depend on the main process, the preload or the renderer');
      }
      if (layer === 'electron/preload' && target && targetLayer !== 'electron/common' && targetLayer !== 'electron/preload') {
        say('the sandboxed preload may import only electron/common and its own folder');
      }
      if (layer === 'electron/preload' && bare !== null && !isElectron) say('the sandboxed preload can load no npm or Node module');
      if (layer === 'renderer') {
        if (isNode) say('the renderer cannot use Node modules');
        if (bare === 'systeminformation') say('the renderer cannot use systeminformation');
        if (target?.startsWith('electron/') && targetLayer !== 'electron/common') say('the renderer may import only electron/common from electron/');
      }
    }
    if ((layer?.startsWith('electron/') || layer === 'renderer') && !IPC_MODULES.has(source.path)) {
      if (/\b(ipcMain|ipcRenderer)\b/.test(stripComments(source.text))) {
        found.push(`${source.path} uses raw ipcMain/ipcRenderer: only ${[...IPC_MODULES].join(' and ')} may`);
      }
    }
  }
  return found;
}

function collect(dir: string): Source[] {
  const out: Source[] = [];
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'artifacts' || entry.name.startsWith('.')) continue;
      const full = join(abs, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|tsx|mts|cts|mjs|cjs|js)$/.test(entry.name)) {
        out.push({ path: relative(ROOT, full).split(sep).join('/'), text: readFileSync(full, 'utf8') });
      }
    }
  };
  walk(join(ROOT, dir));
  return out;
}

test('the checker catches each kind of violation', () => {
  const bad: Source[] = [
    { path: 'electron/common/a.ts', text: "import { readFile } from 'node:fs';" },
    { path: 'electron/common/b.ts', text: "import fs from 'fs';" },
    { path: 'electron/common/c.ts', text: "import si from 'systeminformation';" },
    { path: 'electron/common/d.ts', text: "import { Engine } from '../node/engine.ts';" },
    { path: 'electron/common/d2.ts', text: "import { Engine } from '#node/engine.ts';" },
    { path: 'renderer/src/h2.tsx', text: "import { History } from '#node/history.ts';" },
    { path: 'electron/node/g2.ts', text: "import { createWindow } from '#main/window.ts';" },
    { path: 'electron/common/e.ts', text: "import type { App } from 'electron';" },
    { path: 'electron/node/f.ts', text: "import { app } from 'electron';" },
    { path: 'electron/node/g.ts', text: "export { x } from '../main/main.ts';" },
    { path: 'renderer/src/h.tsx', text: "import { History } from '../../electron/node/history.ts';" },
    { path: 'renderer/src/i.ts', text: "const { ipcRenderer } = window.require('electron');" },
    { path: 'renderer/src/j.ts', text: "const m = await import('node:child_process');" },
    { path: 'electron/preload/k.ts', text: "import { z } from 'zod';" },
    { path: 'electron/preload/l.ts', text: "import { Engine } from '../node/engine.ts';" },
    { path: 'electron/main/tray.ts', text: "import { ipcMain } from 'electron';\nipcMain.on('x', () => {});" },
    { path: 'tests/m.test.ts', text: "import { app } from 'electron';" },
  ];
  const found = violations(bad);
  for (const source of bad) assert.ok(found.some((line) => line.startsWith(source.path)), `${source.path} should be flagged`);
  assert.deepEqual(
    violations([
      { path: 'electron/common/ok.ts', text: "import { z } from 'zod';\nimport type { Snapshot } from './model.ts';" },
      { path: 'electron/node/ok.ts', text: "import { readFile } from 'node:fs/promises';\nimport { x } from '../common/model.ts';" },
      { path: 'renderer/src/ok-alias.ts', text: "import type { Snapshot } from '#common/model.ts';" },
      { path: 'electron/common/ok-alias.ts', text: "import { z } from 'zod';\nimport { x } from '#common/model.ts';" },
      { path: 'electron/main/ok.ts', text: "import { app } from 'electron';\nimport { Engine } from '../node/engine.ts';" },
      { path: 'renderer/src/ok.tsx', text: "import { useState } from 'react';\nimport type { AppState } from '../../electron/common/ipc-contract.ts';" },
      { path: 'electron/main/ipc.ts', text: "import { ipcMain } from 'electron';" },
      { path: 'electron/common/comment.ts', text: '// ipcRenderer is mentioned only in a comment' },
      { path: 'renderer/vite.config.ts', text: "import { fileURLToPath } from 'node:url';" },
    ]),
    [],
  );
});

test('the repository follows the import direction', () => {
  const sources = [...collect('electron'), ...collect('renderer'), ...collect('tests')];
  assert.ok(sources.some((s) => s.path === 'electron/main/main.ts'), 'the scan found the sources');
  assert.ok(sources.length > 50, `scanned ${sources.length} files`);
  assert.deepEqual(violations(sources), []);
});

/** Import cycles among our own modules (type-only imports included), each as "a -> b -> a". */
function cycles(sources: readonly Source[]): string[] {
  const paths = new Set(sources.map((s) => s.path));
  const edges = new Map(
    sources.map((source) => [
      source.path,
      importsOf(source)
        .map((specifier) => targetOf(source, specifier))
        .filter((target): target is string => target !== null && paths.has(target)),
    ]),
  );
  const found: string[] = [];
  const done = new Set<string>();
  const visit = (path: string, stack: string[]) => {
    const at = stack.indexOf(path);
    if (at >= 0) return void found.push([...stack.slice(at), path].join(' -> '));
    if (done.has(path)) return;
    for (const target of edges.get(path) ?? []) visit(target, [...stack, path]);
    done.add(path);
  };
  for (const path of paths) visit(path, []);
  return found;
}

test('no module imports itself back, directly or through others', () => {
  assert.deepEqual(
    cycles([
      { path: 'electron/common/a.ts', text: "import type { B } from './b.ts';" },
      { path: 'electron/common/b.ts', text: "import { a } from './a.ts';" },
      { path: 'electron/common/c.ts', text: "import { a } from './a.ts';" },
    ]),
    ['electron/common/a.ts -> electron/common/b.ts -> electron/common/a.ts'],
  );
  assert.deepEqual(cycles([...collect('electron'), ...collect('renderer')]), []);
});

/**
 * Builds the window: `renderer/` in, `dist/renderer/` out, relative asset URLs so the files load
 * from the app's custom protocol (`ghostport://app/`) as well as from a test origin. No inline
 * scripts or styles end up in the HTML, so the strict CSP in index.html holds.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  // Nothing in the window is loaded from outside its own files.
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'chrome140',
    // The polyfill would inject code to fetch preloads; Electron's Chromium needs none.
    modulePreload: { polyfill: false },
    // Inlined assets would become data: URLs in CSS; keep every asset a file under 'self'.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { strictPort: true },
});

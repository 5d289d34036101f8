/**
 * Playwright for the browser tests of the renderer (tests/renderer/*.spec.ts) and the Electron
 * tests. One worker, no parallelism: the tests bind the real port 596. The browser comes from npm
 * (tests/support/test-browser.ts), because `npx playwright install` cannot download here.
 */
import { defineConfig } from '@playwright/test';
import { resolveTestBrowser, TEST_BROWSER_ARGS } from './support/test-browser.ts';

export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'artifacts/test-results',
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: await resolveTestBrowser(),
      args: [...TEST_BROWSER_ARGS],
    },
    // Traces off: engineers share this checkout and a concurrent run empties the output folder under a live trace.
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});

/**
 * Playwright for the browser tests of the renderer (tests/renderer/*.spec.ts) and the Electron
 * tests. One worker, no parallelism: the tests bind the real port 596. Debian's Chromium
 * (`apt-get install chromium`), because `npx playwright install` cannot download here.
 */
import { defineConfig } from '@playwright/test';

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
      executablePath: process.env.GHOSTPORT_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    },
    // Traces off: engineers share this checkout and a concurrent run empties the output folder under a live trace.
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});

/**
 * Opens the built window in a fresh browser context, bridged to a rig, and records what the
 * page did that it must not do (network requests, CSP violations, dialogs, page errors).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from '@playwright/test';
import type { WindowRig } from './window-rig.ts';
import { bridgePage } from './bridge.ts';
import type { Bridge } from './bridge.ts';
import { buildRenderer } from './build-renderer.ts';
import { serveRenderer, TEST_ENTRY_URL } from './serve-renderer.ts';
import type { ServedRequests } from './serve-renderer.ts';

/** Where the screenshots of the key states go. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../artifacts/screenshots/', import.meta.url));

/** An open window and what it did. */
export interface WindowPage {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly bridge: Bridge;
  readonly requests: ServedRequests;
  readonly pageErrors: string[];
  readonly dialogs: string[];
  readonly consoleErrors: string[];
  /** CSP violations the page reported. */
  cspViolations(): Promise<string[]>;
  /** Saves a screenshot of the whole window as tests/artifacts/screenshots/<name>.png. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Opens the window against the rig. */
export async function openWindow(browser: Browser, rig: WindowRig, options: BrowserContextOptions = {}): Promise<WindowPage> {
  const dist = buildRenderer();
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, ...options });
  const requests = await serveRenderer(context, dist);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  const bridge = await bridgePage(page, rig.service);
  await page.goto(TEST_ENTRY_URL);
  return {
    context,
    page,
    bridge,
    requests,
    pageErrors,
    dialogs,
    consoleErrors,
    cspViolations: () => page.evaluate(() => [...((window as unknown as { __cspViolations?: string[] }).__cspViolations ?? [])]),
    async screenshot(name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const path = `${SCREENSHOT_DIR}${name}.png`;
      // Let transitions and the one-second clocks settle so the picture is what a person sees.
      await page.waitForTimeout(250);
      await page.screenshot({ path, animations: 'disabled' });
      return path;
    },
    async close() {
      bridge.detach();
      await context.close();
    },
  };
}

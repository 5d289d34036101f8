/**
 * Serves the built renderer to a Playwright browser context from a fixed origin, with the same
 * response headers (CSP included) as the app's `ghostport://app/` protocol, and blocks and
 * records every other request: the window must not touch the network.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { BrowserContext } from '@playwright/test';
import { appUrlToRelativePath, APP_ENTRY_URL, contentTypeFor } from '#common/app-origin.ts';
import { RESPONSE_HEADERS } from '#main/security-policy.ts';

/** The origin the tests load the window from (Chromium will not run ES modules from file://). */
export const TEST_ORIGIN = 'https://ghostport.test';
/** The window's URL under the test origin. */
export const TEST_ENTRY_URL = `${TEST_ORIGIN}/index.html`;

/** What the route saw. */
export interface ServedRequests {
  /** Requests to anything but the test origin (aborted). */
  readonly blocked: string[];
  /** Files served. */
  readonly served: string[];
}

/** Routes every request of the context: renderer files from `distDir`, everything else aborted. */
export async function serveRenderer(context: BrowserContext, distDir: string): Promise<ServedRequests> {
  const root = resolve(distDir);
  const log: ServedRequests = { blocked: [], served: [] };
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== TEST_ORIGIN) {
      log.blocked.push(url.href);
      await route.abort('blockedbyclient');
      return;
    }
    // The app protocol's own path policy decides what may be served (no `..`, no encoded slashes).
    const relative = appUrlToRelativePath(new URL(url.pathname + url.search, APP_ENTRY_URL).href);
    const file = relative === null ? null : resolve(join(root, relative));
    if (file === null || !file.startsWith(root + sep)) {
      await route.fulfill({ status: 404, headers: { ...RESPONSE_HEADERS }, contentType: 'text/plain', body: 'not found' });
      return;
    }
    try {
      const body = await readFile(file);
      log.served.push(relative as string);
      await route.fulfill({ status: 200, headers: { ...RESPONSE_HEADERS, 'Content-Type': contentTypeFor(relative as string) }, body });
    } catch {
      await route.fulfill({ status: 404, headers: { ...RESPONSE_HEADERS }, contentType: 'text/plain', body: 'not found' });
    }
  });
  return log;
}

/**
 * The browser tests run on a machine with no system browser: the npm Chromium is unpacked and
 * drives a page, with GHOSTPORT_CHROMIUM unset and no chromium on the PATH.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('the npm Chromium launches and renders with no system browser on the PATH', { timeout: 120_000 }, () => {
  const script = `
    import { chromium } from '@playwright/test';
    import { resolveTestBrowser, TEST_BROWSER_ARGS } from './tests/support/test-browser.ts';
    const path = await resolveTestBrowser();
    const browser = await chromium.launch({ executablePath: path, args: [...TEST_BROWSER_ARGS] });
    const page = await browser.newPage();
    await page.setContent('<p id="x">rendered</p>');
    console.log(JSON.stringify({ path, text: await page.textContent('#x') }));
    await browser.close();`;
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
  delete env.GHOSTPORT_CHROMIUM;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 110_000 });
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { path: string; text: string };
  assert.equal(result.text, 'rendered');
  assert.match(result.path, /ghostport-chromium-[\d.]+\/chromium$/);
});

/**
 * The Chromium the browser tests drive: `GHOSTPORT_CHROMIUM` when set (a system Chromium), else the
 * build that `@sparticuz/chromium` publishes to npm with its own libraries, so `npm ci && npm test`
 * needs no system browser (`npx playwright install` cannot download on our machines).
 */
import Chromium from '@sparticuz/chromium';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Launch flags that work as root in a container: no sandbox, no GPU, no background network. */
export const TEST_BROWSER_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

const packageVersion = (): string => {
  const manifest = new URL('../package.json', import.meta.resolve('@sparticuz/chromium'));
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
};

/**
 * Unpacks the npm Chromium once per version into the temp dir and returns its path. Extraction goes
 * to a private folder renamed into place, so concurrent test runs never launch a half-written binary.
 */
export async function resolveTestBrowser(): Promise<string> {
  const fromEnv = process.env.GHOSTPORT_CHROMIUM;
  if (fromEnv) return fromEnv;
  const home = join(tmpdir(), `ghostport-chromium-${packageVersion()}`);
  const binary = join(home, 'chromium');
  if (existsSync(binary)) return binary;
  const staging = mkdtempSync(join(tmpdir(), 'ghostport-chromium-staging-'));
  const savedTmp = process.env.TMPDIR;
  // The package always unpacks into os.tmpdir(): point that at our staging folder for the call.
  process.env.TMPDIR = staging;
  try {
    await Chromium.executablePath();
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
  try {
    renameSync(staging, home);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(binary)) throw error;
  }
  return binary;
}

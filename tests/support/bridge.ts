/**
 * Bridges a page's `window.ghostport` to a real `AppService` in the test process, over the same
 * contract the Electron preload uses: the page gets the preload's own `createGhostportApi`
 * (bundled from electron/preload/ghostport-api.ts), whose transport forwards requests through a
 * Playwright binding to `service.invoke(channel, args)` (the function the main process's IPC
 * handlers call after checking the sender), and the service's pushes are delivered into the
 * page. Nothing is mocked: the answers come from the real engine, history and settings store.
 */
import { build } from 'esbuild';
import type { Page } from '@playwright/test';
import type { AppService } from '#node/app-service.ts';
import type { PushChannel, PushPayloads } from '#common/ipc-contract.ts';
import { REPO_ROOT } from './build-renderer.ts';

const INVOKE_BINDING = '__ghostportTestInvoke';
const PUSH_FUNCTION = '__ghostportTestPush';

let pageScript: Promise<string> | null = null;

/** The init script that defines `window.ghostport` in the page (bundled once per process). */
export function bridgeScript(): Promise<string> {
  pageScript ??= build({
    stdin: {
      contents: `
        import { createGhostportApi } from './electron/preload/ghostport-api.ts';
        const listeners = new Map();
        // Pushes from the test process arrive here (the preload's ipcRenderer.on in the app).
        Object.defineProperty(window, ${JSON.stringify(PUSH_FUNCTION)}, {
          value: (channel, payload) => { for (const listener of listeners.get(channel) ?? []) listener(payload); },
        });
        const transport = {
          invoke: (channel, args) => window[${JSON.stringify(INVOKE_BINDING)}](channel, args),
          listen: (channel, listener) => {
            let set = listeners.get(channel);
            if (!set) listeners.set(channel, (set = new Set()));
            set.add(listener);
            return () => set.delete(listener);
          },
        };
        Object.defineProperty(window, 'ghostport', { value: createGhostportApi(transport), enumerable: true });
        // Collects CSP violations so a test can prove the window runs under the strict policy.
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => {
          window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
        });
      `,
      resolveDir: REPO_ROOT,
      sourcefile: 'ghostport-test-preload.ts',
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0]?.text ?? '');
  return pageScript;
}

/** A page wired to a service. */
export interface Bridge {
  /** Requests the page made, in order: channel names. */
  readonly calls: string[];
  /** Sends a push to the page as the main process would. */
  push<C extends PushChannel>(channel: C, payload: PushPayloads[C]): Promise<void>;
  /** Stops forwarding the service's pushes. */
  detach(): void;
}

/** Installs the bridge; call before the page navigates. */
export async function bridgePage(page: Page, service: AppService): Promise<Bridge> {
  const calls: string[] = [];
  await page.exposeBinding(INVOKE_BINDING, async (_source, channel: unknown, args: unknown) => {
    calls.push(String(channel));
    return service.invoke(String(channel), args);
  });
  await page.addInitScript({ content: await bridgeScript() });
  const push = async <C extends PushChannel>(channel: C, payload: PushPayloads[C]): Promise<void> => {
    if (page.isClosed()) return;
    await page
      .evaluate(([name, c, p]) => (window as unknown as Record<string, (c: string, p: unknown) => void>)[name]?.(c, p), [PUSH_FUNCTION, channel, payload] as const)
      .catch(() => undefined); // the page may be navigating or closing
  };
  const unsubscribe = [service.onStateChanged((state) => void push('state:changed', state)), service.onEvents((events) => void push('events:appended', events))];
  page.once('close', () => unsubscribe.forEach((off) => off()));
  return { calls, push, detach: () => unsubscribe.forEach((off) => off()) };
}

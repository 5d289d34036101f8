/**
 * The window's security settings as plain data, so tests can assert them without an Electron
 * binary: webPreferences, the Content-Security-Policy, response headers, the custom scheme's
 * privileges and the (deny-everything) navigation and permission decisions. Imports Electron
 * types only; nothing here runs Electron code.
 */
import type { CustomScheme, WebPreferences } from 'electron';
import { APP_SCHEME } from '#common/app-origin.ts';
import { contentSecurityPolicy, windowResponseHeaders } from '#common/content-policy.ts';

/**
 * webPreferences of every Ghostport window. Each security-relevant flag is stated even where it
 * is Electron's default, so a future default change or a careless edit shows up in review and
 * in tests/main/security-policy.test.ts.
 */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    enableBlinkFeatures: '',
    // Middle-click (auxclick) can open links outside the navigation handlers (Electron checklist).
    disableBlinkFeatures: 'Auxclick',
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    // The main process polls; the window only renders, so it may be throttled when hidden.
    backgroundThrottling: true,
  };
}

/**
 * The page's CSP, sent as a response header by the protocol handler (a header cannot be
 * removed by the page, unlike a meta tag). No inline script, no eval, no network at all:
 * data reaches the page only through the preload API.
 */
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy("'none'");

/** Headers on every response of the app protocol. */
export const RESPONSE_HEADERS: Readonly<Record<string, string>> = windowResponseHeaders("'none'");

/**
 * The app scheme's privileges: `standard` (real origin, relative URLs) and `secure` (a secure
 * context); nothing that widens access (no CSP bypass, no fetch from elsewhere, no CORS, no
 * service workers).
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: {
    standard: true,
    secure: true,
    bypassCSP: false,
    allowServiceWorkers: false,
    supportFetchAPI: false,
    corsEnabled: false,
    stream: false,
    codeCache: false,
  },
};

/**
 * Whether a window may navigate to a URL: never. The page is a single-page app whose routes
 * are in-page (hash) changes, which do not fire `will-navigate`; anything that does is either
 * a bug or an attack (a link in a process name, a drag-and-drop).
 */
export function isNavigationAllowed(_url: string): boolean {
  return false;
}

/** What `setWindowOpenHandler` answers for every `window.open` and target=_blank link. */
export const WINDOW_OPEN_RESPONSE = { action: 'deny' } as const;

/** Whether a permission request (camera, notifications, clipboard…) is granted: never. */
export function isPermissionGranted(_permission: string): boolean {
  return false;
}

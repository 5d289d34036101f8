/**
 * App-wide Electron hardening (Electron security checklist): sandbox every renderer, deny every
 * permission, every navigation, every new window and every <webview>, for all web contents,
 * including ones created later.
 */
import { app } from 'electron';
import type { Session } from 'electron';
import { WINDOW_OPEN_RESPONSE, isNavigationAllowed, isPermissionGranted } from './security-policy.ts';

/** Must run before the app is ready: turns the sandbox on for every renderer. */
export function enableSandboxEverywhere(): void {
  app.enableSandbox();
}

/** Installs the deny-all handlers on the session and on every web contents. */
export function setupHardening(session: Session): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => callback(isPermissionGranted(permission)));
  session.setPermissionCheckHandler((_contents, permission) => isPermissionGranted(permission));
  session.setDevicePermissionHandler(() => false);
  session.on('will-download', (event) => event.preventDefault());
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => WINDOW_OPEN_RESPONSE);
    contents.on('will-navigate', (event) => {
      if (!isNavigationAllowed(event.url)) event.preventDefault();
    });
    contents.on('will-frame-navigate', (event) => {
      if (!isNavigationAllowed(event.url)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => {
      if (!isNavigationAllowed(event.url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}

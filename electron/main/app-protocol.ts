/**
 * The `ghostport://app/` protocol: serves the built renderer (dist/renderer) with the CSP and
 * hardening headers, and nothing outside that folder.
 */
import { protocol } from 'electron';
import type { Session } from 'electron';
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { APP_SCHEME, appUrlToRelativePath, contentTypeFor } from '#common/app-origin.ts';
import { APP_SCHEME_PRIVILEGES, RESPONSE_HEADERS } from './security-policy.ts';

/** Registers the scheme as standard and secure; must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
}

/** Serves the renderer folder on the app scheme of this session. */
export function setupAppProtocol(session: Session, rendererDir: string): void {
  const root = resolve(rendererDir);
  session.protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET') return textResponse(405, 'method not allowed');
    const relative = appUrlToRelativePath(request.url);
    if (relative === null) return textResponse(404, 'not found');
    const file = resolve(join(root, relative));
    // Belt and braces: the URL policy already refused `..`; a resolved path must still be inside.
    if (!file.startsWith(root + sep)) return textResponse(404, 'not found');
    try {
      const body = await readFile(file);
      return new Response(body, { status: 200, headers: { ...RESPONSE_HEADERS, 'Content-Type': contentTypeFor(relative) } });
    } catch {
      return textResponse(404, 'not found');
    }
  });
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...RESPONSE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}

/**
 * The app's own origin, `ghostport://app/`, and how its URLs map to files of the built
 * renderer. Pure: used by the protocol handler, navigation guards and the IPC sender check.
 */

/** The custom scheme the window is loaded from (a custom protocol beats file://: no ambient file access). */
export const APP_SCHEME = 'ghostport';

/** The one host of the scheme. */
export const APP_HOST = 'app';

/** The page the window loads. */
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** True when a URL is on the app's own origin (scheme and host exact; no credentials, no port). */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.hostname === APP_HOST &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === ''
  );
}

/**
 * The renderer file a request for this URL should serve, as a relative POSIX path
 * (`index.html`, `assets/app-3f2a.js`), or null when the URL is not ours or tries to leave
 * the renderer folder (`..`, encoded slashes or backslashes, NUL).
 */
export function appUrlToRelativePath(url: string): string | null {
  if (!isAppUrl(url)) return null;
  const { pathname } = new URL(url);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\\') || decoded.includes('\0')) return null;
  // The URL parser already resolved `..` in the raw path; an encoded `%2e%2e` or `%2f` decodes
  // to something it did not see, so any `..` segment left here is an attack.
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) return null;
  if (/%2f/i.test(pathname)) return null;
  return segments.length === 0 ? 'index.html' : segments.join('/');
}

/** Content-Type for a served renderer file, by extension; unknown types are served as bytes. */
export function contentTypeFor(relativePath: string): string {
  const extension = relativePath.slice(relativePath.lastIndexOf('.') + 1).toLowerCase();
  return CONTENT_TYPES[extension] ?? 'application/octet-stream';
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  woff: 'font/woff',
  map: 'application/json; charset=utf-8',
};

/**
 * The window's Content-Security-Policy and hardening headers: one policy for the desktop
 * window (served on ghostport://app/) and the browser window of `ghostport ui` (served over
 * loopback HTTP). The only difference is `connect-src`: the desktop page has no network at all
 * (its data comes through the preload), the browser page may reach its own origin's API. Pure.
 */

/** The CSP; `connect` is 'none' (desktop) or 'self' (the page's API on its own origin). */
export function contentSecurityPolicy(connect: "'none'" | "'self'" = "'none'"): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "media-src 'none'",
    "object-src 'none'",
    "frame-src 'none'",
    "child-src 'none'",
    "worker-src 'none'",
    "manifest-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers on every response that serves the window. */
export function windowResponseHeaders(connect: "'none'" | "'self'" = "'none'"): Readonly<Record<string, string>> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(connect),
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}

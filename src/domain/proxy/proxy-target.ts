import { ProxyPathInvalidError } from './proxy-errors.js';

/**
 * The provider URL of a proxied call: the API base URL, then the agent's
 * path (as sent, still percent-encoded), then its query. The path may not
 * climb out of the base: dot segments, encoded dots, slashes or backslashes
 * and control characters are refused rather than normalized.
 */
export function upstreamUrl(apiBaseUrl: string, rawPath: string, rawQuery: string): URL {
  if (/[\u0000-\u001f\u007f\\#]/.test(rawPath)) throw new ProxyPathInvalidError('has a control character, a backslash or a fragment');
  if (/%(2e|2f|5c|00)/i.test(rawPath)) throw new ProxyPathInvalidError('has an encoded dot, slash, backslash or NUL');
  const segments = rawPath.split('/');
  if (segments.some((s) => s === '.' || s === '..')) throw new ProxyPathInvalidError('has a "." or ".." segment');
  const base = apiBaseUrl.replace(/\/+$/, '');
  const path = rawPath.replace(/^\/+/, '');
  const url = new URL(`${base}/${path}${rawQuery ? `?${rawQuery}` : ''}`);
  const baseUrl = new URL(base);
  // Belt and braces: whatever URL parsing made of it, it is still under the base.
  if (url.origin !== baseUrl.origin || !`${url.pathname}`.startsWith(baseUrl.pathname.replace(/\/+$/, ''))) {
    throw new ProxyPathInvalidError("leaves the provider's API base");
  }
  return url;
}

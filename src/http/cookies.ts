import type { CookieReader } from '../domain/connections/consent-links.js';

/** Cookie names and values Nexus sets: token characters only, so no quoting or decoding is ever needed. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** A reader over a request's Cookie header (the first value of a repeated name wins, as browsers send the most specific first). */
export function cookieReader(header: string | string[] | undefined | null): CookieReader {
  const raw = Array.isArray(header) ? header.join('; ') : (header ?? '');
  const jar = new Map<string, string>();
  // Bounded: a browser sends at most a few KiB of cookies; more is not ours.
  for (const part of raw.slice(0, 16_384).split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (TOKEN.test(name) && TOKEN.test(value) && !jar.has(name)) jar.set(name, value);
  }
  return (name) => jar.get(name);
}

export interface CookieOptions {
  maxAgeSeconds: number;
  path: string;
  sameSite: 'Strict' | 'Lax';
  /** BASE_URL is https. Names starting `__Host-` need it (and Path=/, no Domain). */
  secure: boolean;
}

/** A Set-Cookie value: always HttpOnly (no script reads a binding), never a Domain (host-only). */
export function setCookie(name: string, value: string, o: CookieOptions): string {
  if (!TOKEN.test(name) || (value !== '' && !TOKEN.test(value))) throw new TypeError('setCookie: name and value must be token characters');
  return [
    `${name}=${value}`,
    `Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`,
    `Path=${o.path}`,
    'HttpOnly',
    `SameSite=${o.sameSite}`,
    ...(o.secure ? ['Secure'] : []),
  ].join('; ');
}

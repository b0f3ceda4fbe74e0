import { createHash } from 'node:crypto';
import { InvalidFieldError, PageTokenInvalidError } from './errors.js';

/**
 * Opaque keyset page tokens: the last key seen plus a fingerprint of the
 * filters, so a token reused with other filters is refused rather than
 * silently skipping rows. Tokens carry no authority: the project filter is
 * always applied from the caller's credentials.
 */
export function encodePageToken(lastKey: string, filters: unknown): string {
  return Buffer.from(JSON.stringify({ k: lastKey, f: fingerprint(filters) })).toString('base64url');
}

export function decodePageToken(token: string, filters: unknown): string | undefined {
  if (!token) return undefined;
  if (token.length > 1024) throw new PageTokenInvalidError();
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k?: unknown; f?: unknown };
    if (typeof parsed.k === 'string' && parsed.f === fingerprint(filters)) return parsed.k;
  } catch {
    // fall through
  }
  throw new PageTokenInvalidError();
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export function pageSize(requested: number): number {
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  if (requested < 0 || requested > MAX_PAGE_SIZE) {
    throw new InvalidFieldError('page_size', `must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  return requested;
}

function fingerprint(filters: unknown): string {
  return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16);
}

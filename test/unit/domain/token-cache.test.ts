import { describe, expect, it } from 'vitest';
import type { IssuedCredential } from '../../../src/domain/model/issued-credential.js';
import { TokenCache } from '../../../src/domain/tokens/token-cache.js';

const NOW = Date.UTC(2026, 0, 1);
const oauth = (token: string, expiresAt: number | undefined): IssuedCredential => ({
  type: 'oauth2',
  accessToken: token,
  tokenType: 'Bearer',
  scopes: [],
  expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt),
});
const bearer: IssuedCredential = { type: 'bearer', token: 'static', extra: {} };

describe('TokenCache', () => {
  it('serves an entry only to its own project', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.set('prj_a', 'conn_1', oauth('a-token', NOW + 3600_000), cache.mark(), NOW);
    expect(cache.get('prj_a', 'conn_1', 60_000, NOW)).toMatchObject({ accessToken: 'a-token' });
    expect(cache.get('prj_b', 'conn_1', 60_000, NOW)).toBeUndefined();
  });

  it("never serves a token past its expiry minus the caller's margin", () => {
    // A maximum age beyond the token's life: only the expiry decides here.
    const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 600_000 });
    cache.set('p', 'c', oauth('t', NOW + 120_000), cache.mark(), NOW);
    expect(cache.get('p', 'c', 60_000, NOW)).toBeDefined();
    expect(cache.get('p', 'c', 120_000, NOW)).toBeUndefined();
    expect(cache.get('p', 'c', 60_000, NOW + 60_000)).toBeUndefined();
    expect(cache.get('p', 'c', 0, NOW + 119_000)).toBeDefined();
  });

  it('does not store an already expired token', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.set('p', 'c', oauth('t', NOW - 1), cache.mark(), NOW);
    expect(cache.size).toBe(0);
  });

  it('forgets every entry after the maximum age of the clock, expiring or static (no sleep)', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 150 });
    cache.set('p', 'static', bearer, cache.mark(), NOW);
    cache.set('p', 'oauth', oauth('t', NOW + 3600_000), cache.mark(), NOW);
    expect(cache.get('p', 'static', 0, NOW + 149)).toEqual(bearer);
    expect(cache.get('p', 'oauth', 0, NOW + 149)).toBeDefined();
    expect(cache.get('p', 'static', 0, NOW + 150)).toBeUndefined();
    expect(cache.get('p', 'oauth', 0, NOW + 150)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops an invalidated entry, and everything on clear', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.set('p', 'c1', bearer, cache.mark());
    cache.set('p', 'c2', bearer, cache.mark());
    cache.invalidate('c1');
    expect(cache.get('p', 'c1', 0)).toBeUndefined();
    expect(cache.get('p', 'c2', 0)).toBeDefined();
    cache.clear();
    expect(cache.get('p', 'c2', 0)).toBeUndefined();
  });

  it('refuses a value read before an invalidation that arrived while it was being read', () => {
    const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 60_000 });
    const mark = cache.mark();
    cache.invalidate('c'); // the change's event lands while the old row is in flight
    cache.set('p', 'c', bearer, mark);
    expect(cache.get('p', 'c', 0)).toBeUndefined();
    cache.set('p', 'c', bearer, cache.mark());
    expect(cache.get('p', 'c', 0)).toBeDefined();
  });

  it('keeps at most maxEntries, evicting the least recently used', () => {
    const cache = new TokenCache({ maxEntries: 2, maxAgeMs: 60_000 });
    cache.set('p', 'c1', bearer, cache.mark());
    cache.set('p', 'c2', bearer, cache.mark());
    cache.get('p', 'c1', 0);
    cache.set('p', 'c3', bearer, cache.mark());
    expect(cache.size).toBe(2);
    expect(cache.get('p', 'c2', 0)).toBeUndefined();
    expect(cache.get('p', 'c1', 0)).toBeDefined();
  });

  it('is off with zero entries', () => {
    const cache = new TokenCache({ maxEntries: 0, maxAgeMs: 60_000 });
    cache.set('p', 'c', bearer, cache.mark());
    expect(cache.enabled).toBe(false);
    expect(cache.get('p', 'c', 0)).toBeUndefined();
  });

  it('reports each lookup as a hit or a miss', () => {
    const seen: boolean[] = [];
    const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 60_000, onLookup: (hit) => seen.push(hit) });
    cache.get('p', 'c', 0);
    cache.set('p', 'c', bearer, cache.mark());
    cache.get('p', 'c', 0);
    cache.get('other', 'c', 0);
    expect(seen).toEqual([false, true, false]);
  });
});

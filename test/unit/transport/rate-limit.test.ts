import { describe, expect, it } from 'vitest';
import { bucketKeyOfIp, TokenBuckets } from '../../../src/http/token-bucket.js';

describe('token buckets', () => {
  it('grants the burst, then one token per 1/rate seconds, and says how long to wait', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 3 }, 100, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0]);
    expect(buckets.take('a')).toBeCloseTo(500);
    expect(buckets.take('b')).toBe(0);
    now = 499;
    expect(buckets.take('a')).toBeGreaterThan(0);
    now = 1_000;
    expect(buckets.take('a')).toBe(0);
  });

  it('forgets the least recently used key past its size bound', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1 }, 2, () => 0);
    buckets.take('a');
    buckets.take('b');
    buckets.take('c');
    expect(buckets.size).toBe(2);
    // "a" was forgotten: it starts full again; "c" is still empty.
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('c')).toBeGreaterThan(0);
  });

  it('keys IPv4 by address and IPv6 by /64', () => {
    expect(bucketKeyOfIp('203.0.113.9')).toBe('203.0.113.9');
    expect(bucketKeyOfIp('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(bucketKeyOfIp('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(bucketKeyOfIp('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(bucketKeyOfIp('::1')).toBe('0:0:0:0::/64');
  });
});

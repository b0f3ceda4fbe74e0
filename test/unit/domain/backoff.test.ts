import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/domain/tokens/backoff.js';

describe('backoffDelay', () => {
  it('doubles the ceiling with each failure, draws from its upper half, and caps it', () => {
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1_000, 60_000, low))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1_000, 60_000, high))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(backoffDelay(20, 1_000, 60_000, high)).toBe(60_000);
    expect(backoffDelay(20, 1_000, 60_000, low)).toBe(30_000);
    // Absurd failure counts neither overflow nor go below the floor.
    expect(backoffDelay(10_000, 1_000, 60_000, high)).toBe(60_000);
    expect(backoffDelay(0, 1_000, 60_000, low)).toBe(500);
  });

  it('spreads delays with jitter', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, 1_000, 60_000)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(2_000), expect(d).toBeLessThanOrEqual(4_000);
  });
});

import { describe, expect, it } from 'vitest';
import { isPastMaxAge, retryDelay } from '../../../../src/domain/webhooks/backoff.js';

describe('webhook retryDelay (full jitter)', () => {
  it('doubles the ceiling with each failed attempt and caps it', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, 1_000, 60_000, top))).toEqual([999, 1_999, 3_999, 7_999, 15_999]);
    expect(retryDelay(7, 1_000, 60_000, top)).toBe(59_999);
    expect(retryDelay(30, 1_000, 60_000, top)).toBe(59_999);
  });

  it('draws from the whole window: zero up to the ceiling', () => {
    expect(retryDelay(4, 1_000, 60_000, () => 0)).toBe(0);
    expect(retryDelay(4, 1_000, 60_000, () => 0.5)).toBe(4_000);
    const delays = Array.from({ length: 200 }, () => retryDelay(4, 1_000, 60_000));
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(8_000);
    }
    // Spread over the window, not bunched at its top (equal jitter would keep every delay >= 4 000).
    expect(delays.some((d) => d < 2_000)).toBe(true);
    expect(delays.some((d) => d > 6_000)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(100);
  });

  it('survives absurd attempt counts and a zero count', () => {
    expect(retryDelay(1_000_000, 1_000, 3_600_000, () => 0.5)).toBe(1_800_000);
    expect(retryDelay(0, 1_000, 60_000, () => 0.5)).toBe(500);
    expect(Number.isFinite(retryDelay(Number.MAX_SAFE_INTEGER, 1_000, 60_000))).toBe(true);
  });
});

describe('isPastMaxAge', () => {
  it('is dead from the moment the age reaches the maximum', () => {
    const created = new Date(1_000_000);
    expect(isPastMaxAge(created, 1_000_000 + 59_999, 60_000)).toBe(false);
    expect(isPastMaxAge(created, 1_000_000 + 60_000, 60_000)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { QuotaExceededError } from '../../../src/domain/shared/errors.js';
import type { QuotaLimits } from '../../../src/domain/model/project-quotas.js';
import type { Principal } from '../../../src/domain/shared/principal.js';
import { Quotas, type QuotaKind } from '../../../src/transport/quotas.js';

const LIMITS: QuotaLimits = { keyRatePerSecond: 2, keyBurst: 3, ipRatePerSecond: 100, ipBurst: 100 };

function caller(keyId: string, projectId = 'prj_a'): Principal {
  return { projectId, keyId, scopes: new Set(['tokens']) };
}

function setup(limits: QuotaLimits | ((projectId: string) => QuotaLimits) = LIMITS, replicas = 1, maxKeys?: number) {
  const clock = { now: 0 };
  const refusals: [string, QuotaKind][] = [];
  const quotas = new Quotas(
    { limitsOf: (p) => (typeof limits === 'function' ? limits(p) : limits) },
    { replicas, now: () => clock.now, refused: (p, k) => refusals.push([p, k]), ...(maxKeys ? { maxKeys } : {}) },
  );
  /** The refusal of one call, or undefined when it was allowed. */
  const call = (c: Principal, ip = '203.0.113.7'): QuotaExceededError | undefined => {
    try {
      quotas.check(c, ip);
      return undefined;
    } catch (err) {
      expect(err).toBeInstanceOf(QuotaExceededError);
      return err as QuotaExceededError;
    }
  };
  return { clock, refusals, quotas, call };
}

describe('call quotas', () => {
  it('a key gets its burst, then RATE_LIMITED with the exact wait, and is served again after it', () => {
    const { clock, call, refusals } = setup();
    const a = caller('key_a');
    expect([call(a), call(a), call(a)]).toEqual([undefined, undefined, undefined]);
    const refused = call(a)!;
    expect(refused.reason).toBe('RATE_LIMITED');
    expect(refused.kind).toBe('resource_exhausted');
    expect(refused.metadata).toEqual({ quota: 'api_key' });
    // 2 per second: the next token is 500 ms away.
    expect(refused.retryDelayMs).toBeCloseTo(500);
    clock.now = 499;
    expect(call(a)).toBeDefined();
    clock.now = 1_000;
    expect(call(a)).toBeUndefined();
    expect(refusals).toEqual([
      ['prj_a', 'key'],
      ['prj_a', 'key'],
    ]);
  });

  it('another key of the same project is not affected', () => {
    const { call } = setup();
    for (let i = 0; i < 3; i++) call(caller('key_a'));
    expect(call(caller('key_a'))).toBeDefined();
    expect(call(caller('key_b'))).toBeUndefined();
  });

  it('an IP is limited across every key of the project, but not in another project', () => {
    const { call } = setup({ keyRatePerSecond: 1000, keyBurst: 1000, ipRatePerSecond: 1, ipBurst: 4 });
    for (let i = 0; i < 4; i++) expect(call(caller(`key_${i}`))).toBeUndefined();
    const refused = call(caller('key_new'))!;
    expect(refused.metadata).toEqual({ quota: 'client_ip' });
    expect(refused.retryDelayMs).toBeCloseTo(1000);
    // Another address, or the same address with another project's key, has its own bucket.
    expect(call(caller('key_new'), '198.51.100.1')).toBeUndefined();
    expect(call(caller('key_x', 'prj_b'))).toBeUndefined();
  });

  it('IPv6 callers share their /64', () => {
    const { call } = setup({ keyRatePerSecond: 1000, keyBurst: 1000, ipRatePerSecond: 1, ipBurst: 1 });
    expect(call(caller('k1'), '2001:db8:0:1::1')).toBeUndefined();
    expect(call(caller('k2'), '2001:db8:0:1::ffff')).toBeDefined();
  });

  it('each of N replicas enforces 1/N of the rate and burst', () => {
    const { clock, call } = setup({ keyRatePerSecond: 10, keyBurst: 8, ipRatePerSecond: 0, ipBurst: 1 }, 2);
    const a = caller('key_a');
    for (let i = 0; i < 4; i++) expect(call(a)).toBeUndefined();
    // 5 per second on this replica: 200 ms to the next call.
    expect(call(a)!.retryDelayMs).toBeCloseTo(200);
    clock.now = 200;
    expect(call(a)).toBeUndefined();
  });

  it('a rate of 0 turns that quota off', () => {
    const { call } = setup({ keyRatePerSecond: 0, keyBurst: 1, ipRatePerSecond: 0, ipBurst: 1 });
    for (let i = 0; i < 1000; i++) expect(call(caller('key_a'))).toBeUndefined();
  });

  it('a changed quota applies to the buckets already held', () => {
    let limits = LIMITS;
    const { call } = setup(() => limits);
    const a = caller('key_a');
    for (let i = 0; i < 3; i++) call(a);
    expect(call(a)).toBeDefined();
    limits = { ...LIMITS, keyRatePerSecond: 1000, keyBurst: 1000 };
    // Still empty (a raise does not mint tokens), but refills at the new rate.
    expect(call(a)!.retryDelayMs).toBeLessThanOrEqual(1);
  });

  it('waits for a project whose quotas are not cached yet', async () => {
    const quotas = new Quotas({ limitsOf: async () => ({ ...LIMITS, keyBurst: 1 }) }, { replicas: 1, now: () => 0 });
    await quotas.check(caller('k'), '203.0.113.7');
    await expect(quotas.check(caller('k'), '203.0.113.7')).rejects.toBeInstanceOf(QuotaExceededError);
  });

  it('holds a bounded number of buckets', () => {
    const { call, quotas } = setup(LIMITS, 1, 50);
    for (let i = 0; i < 500; i++) call(caller(`key_${i}`), `10.0.${i >> 8}.${i & 255}`);
    expect(quotas.size.keys).toBeLessThanOrEqual(50);
    expect(quotas.size.ips).toBeLessThanOrEqual(50);
    expect(quotas.size.keys).toBeGreaterThanOrEqual(25);
  });
});

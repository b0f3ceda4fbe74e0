import { createContextKey, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { isIP } from 'node:net';
import { RateLimitedError } from '../domain/shared/errors.js';
import type { Principal } from '../domain/shared/principal.js';
import { clientIpKey } from './client-ip.js';
import type { Quotas } from './quotas.js';
import { TokenBucket, type BucketSpec } from '../http/token-bucket.js';

/**
 * Token buckets keyed by a string (today: a client IP; a later per-key or
 * per-project quota is another key and another spec). In memory, per
 * process: with N replicas behind a balancer a client gets up to N times
 * the budget, which bounds abuse without a shared store on the hot path.
 * Memory is bounded: past `maxKeys` the least recently used bucket is
 * forgotten (its key starts again with a full bucket).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly spec: BucketSpec,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token: 0 when granted, else the milliseconds until one is available. `spec`: this key's settings, when not the default. */
  take(key: string, spec: BucketSpec = this.spec): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? new TokenBucket(spec, now);
    // Re-inserted so that Map order is least recently used first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return bucket.take(now, spec);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** IPv6 clients usually hold a whole /64: they share one bucket. */
export function bucketKeyOfIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** The caller's verified principal, computed once per call (by the rate limiter) and reused by the handler. */
export const verifiedPrincipalKey = createContextKey<Promise<Principal | undefined> | undefined>(undefined, {
  description: 'the verified principal of the call',
});

/**
 * Calls without valid credentials (no API key or user token, or one that
 * does not verify) spend a token of their client IP's bucket; when it is
 * empty they are refused with RESOURCE_EXHAUSTED, RATE_LIMITED and a
 * RetryInfo saying when a token is back. Valid credentials never spend the
 * IP's unauthenticated budget, so an address shared with an attacker (NAT,
 * proxy) keeps serving authenticated callers; they spend their own quotas
 * instead (per key and per client IP within their project, quotas.ts) when
 * `quotas` is given. The credentials are verified once: the handler reuses
 * the result (see accessInterceptor in access.ts).
 */
export function rateLimits(
  buckets: TokenBuckets,
  verify: (ctx: Pick<HandlerContext, 'requestHeader' | 'values'>) => Promise<Principal | undefined>,
  quotas?: Quotas,
): Interceptor {
  return (next) => async (req) => {
    const ctx = { requestHeader: req.header, values: req.contextValues };
    const principal = verify(ctx);
    req.contextValues.set(verifiedPrincipalKey, principal);
    const caller = await principal.then(
      (p) => p,
      () => undefined,
    );
    const ip = req.contextValues.get(clientIpKey);
    if (!caller) {
      const waitMs = buckets.take(bucketKeyOfIp(ip));
      if (waitMs > 0) throw new RateLimitedError(waitMs);
    } else if (quotas) {
      const pending = quotas.check(caller, ip);
      if (pending) await pending;
    }
    return next(req);
  };
}

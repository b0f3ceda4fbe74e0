import { createContextKey, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { isIP } from 'node:net';
import { RateLimitedError } from '../domain/shared/errors.js';
import type { Principal } from '../domain/shared/principal.js';
import { clientIpKey } from './client-ip.js';
import type { Quotas } from './quotas.js';
import { TokenBucket, type BucketSpec } from '../http/token-bucket.js';

/**
 * Token buckets keyed by a string: a client IP for unauthenticated calls; a
 * key id, or a project and an address, for the call quotas (quotas.ts). In
 * memory, per process. Memory is bounded without reordering anything on a
 * hit: buckets live in two generations of at most `maxKeys / 2` each; a key
 * is looked up in the current one (one Map.get, the hot path), then in the
 * previous one (and moved up); when the current one is full it becomes the
 * previous one and the old previous one is dropped. So a key not used while
 * `maxKeys / 2` other keys arrived is forgotten (it starts again with a full
 * bucket), and a key in use never is.
 */
export class TokenBuckets {
  private current = new Map<string, TokenBucket>();
  private previous = new Map<string, TokenBucket>();
  private readonly generation: number;

  constructor(
    private readonly spec: BucketSpec,
    maxKeys = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.generation = Math.max(1, Math.floor(maxKeys / 2));
  }

  /**
   * Takes one token: 0 when granted, else the milliseconds until one is
   * available. `spec`: this key's settings, when not the default; `now`: the
   * time, when the caller already read the clock.
   */
  take(key: string, spec: BucketSpec = this.spec, now: number = this.now()): number {
    let bucket = this.current.get(key);
    if (!bucket) {
      bucket = this.previous.get(key);
      if (bucket) this.previous.delete(key);
      else bucket = new TokenBucket(spec, now);
      if (this.current.size >= this.generation) {
        this.previous = this.current;
        this.current = new Map();
      }
      this.current.set(key, bucket);
    }
    return bucket.take(now, spec);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** IPv6 clients usually hold a whole /64: they share one bucket. */
export function bucketKeyOfIp(ip: string): string {
  // IPv4 (every call of the quotas' hot path from an IPv4 client) without parsing.
  if (!ip.includes(':') || isIP(ip) !== 6) return ip;
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

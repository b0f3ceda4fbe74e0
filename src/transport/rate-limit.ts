import { createContextKey, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { NexusError, RateLimitedError } from '../domain/shared/errors.js';
import type { Principal } from '../domain/shared/principal.js';
import { clientIpKey } from './client-ip.js';
import type { Quotas } from './quotas.js';
import { bucketKeyOfIp, type TokenBuckets } from '../http/token-bucket.js';

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
    // Credentials that do not verify make an anonymous caller here (the access
    // interceptor then refuses them). A store that cannot answer is not the
    // caller's doing: that error is the answer (UNAVAILABLE), and the call is
    // not charged to its address's unauthenticated budget.
    const caller = await principal.then(
      (p) => p,
      (err: unknown) => {
        if (err instanceof NexusError && err.kind === 'unauthenticated') return undefined;
        throw err;
      },
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

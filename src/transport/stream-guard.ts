import type { HandlerContext } from '@connectrpc/connect';
import type { StreamCredentials } from '../domain/connections/stream-credentials.js';
import type { Principal } from '../domain/shared/principal.js';
import { recheckOf } from './access.js';

/**
 * Runs a stream until its client leaves or its credential ends (revoked,
 * expired, scope gone); then it fails with UNAUTHENTICATED (or
 * PERMISSION_DENIED) instead of delivering another item.
 */
export async function* whileCredentialHolds<T>(
  credentials: StreamCredentials,
  caller: Principal,
  ctx: HandlerContext,
  stream: (signal: AbortSignal) => AsyncIterable<T>,
): AsyncGenerator<T> {
  // The grant's recheck verifies afresh (the call's first verification is cached) under the method's policy.
  const guard = credentials.guard(caller, recheckOf(ctx));
  try {
    for await (const item of stream(AbortSignal.any([ctx.signal, guard.signal]))) {
      if (guard.ended) break;
      yield item;
    }
    if (guard.ended) throw guard.ended;
  } finally {
    guard.close();
  }
}

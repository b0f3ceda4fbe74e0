import type { FastifyReply } from 'fastify';
import { ErrorReason, ErrorReasonSchema } from '../../gen/ts/nexus/v1/errors_pb.js';
import { QuotaExceededError } from '../domain/shared/errors.js';
import type { Principal } from '../domain/shared/principal.js';

/** What an HTTP route needs of the call quotas (transport/quotas.ts `Quotas`, `App.quotas`). */
export interface QuotaCheck {
  /** Throws QuotaExceededError when over quota. */
  check(principal: Principal, clientIp: string): void | Promise<void>;
}

/**
 * The call quotas on an HTTP route that takes an API key (the proxy): spends
 * one call of the caller's quotas, as an RPC would. Over quota, it answers
 * 429 with `Retry-After` (whole seconds, rounded up) and a JSON body naming
 * the reason, and returns false: the route must stop there. Other errors
 * propagate.
 *
 *   if (!(await enforceHttpQuota(app.quotas, principal, clientIp, reply))) return reply;
 */
export async function enforceHttpQuota(quotas: QuotaCheck, principal: Principal, clientIp: string, reply: FastifyReply): Promise<boolean> {
  try {
    await quotas.check(principal, clientIp);
    return true;
  } catch (err) {
    if (!(err instanceof QuotaExceededError)) throw err;
    const retryAfterMs = err.retryDelayMs ?? 1_000;
    reply
      .code(429)
      .header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))))
      .header('cache-control', 'no-store')
      .send({
        code: 'resource_exhausted',
        reason: ErrorReasonSchema.value[ErrorReason[err.reason]].name,
        message: err.message,
        quota: err.metadata.quota,
        retry_after_ms: Math.ceil(retryAfterMs),
      });
    return false;
  }
}

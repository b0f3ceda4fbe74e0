import { NexusError } from '../shared/errors.js';

/**
 * The authorization server answered with an OAuth error (4xx, e.g.
 * invalid_grant): a definite "no", never retried automatically. `error` is
 * the OAuth error code, safe to show; the description is not kept because
 * some servers echo request parameters into it.
 */
export class OAuthRejectedError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'PROVIDER_REJECTED';
  /** `detail`: why, for the log (never a value the server or the user sent). */
  constructor(
    readonly error: string,
    readonly status: number,
    readonly detail?: string,
  ) {
    super(`authorization server rejected the request: ${error}`, { error });
  }
}

/** Only OAuth error codes that look like codes are repeated to callers. */
export function safeErrorCode(value: unknown): string {
  return typeof value === 'string' && /^[a-z0-9_.-]{1,64}$/i.test(value) ? value : 'invalid_response';
}

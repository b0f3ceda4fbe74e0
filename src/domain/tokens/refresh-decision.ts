import type { ConnectionRow } from '../model/connection.js';
import type { RefreshTokenRotationName } from '../model/provider.js';
import { AttentionRequiredError, ConnectionNotActiveError } from '../shared/errors.js';
import type { TokenSet } from '../oauth/token-set.js';

/*
 * The refresh decision (src/domain/tokens/refresher.ts step 1) as pure
 * functions of what the row, the provider and the sealed tokens say and of
 * the time: no database, no clock of its own, no provider call. The
 * refresher gathers the facts under the row lock and acts on the verdicts;
 * test/unit/domain/refresh-decision.test.ts holds the whole table.
 *
 * Two steps, because the second needs the credentials opened and the first
 * must not (a live lease is waited for even if the row would not decrypt):
 *   judgeLease:  is the connection usable, and is someone else refreshing it?
 *   judgeTokens: are the tokens good enough, or must we refresh now?
 */

/** The row's columns the decision reads. */
export type RefreshFacts = Pick<
  ConnectionRow,
  'id' | 'status' | 'statusReason' | 'credentialsSealed' | 'refreshAttemptId' | 'refreshLeaseUntil' | 'refreshFailures' | 'updatedAt'
>;

/** What the caller asked for. */
export interface RefreshWant {
  /** Refresh when the token expires within this many ms. */
  margin: number;
  /** RefreshToken: refresh even if fresh, unless someone refreshed since `observedUpdatedAt`. */
  force: boolean;
  observedUpdatedAt: number;
  /** Set after waiting for another attempt: its failure count when we started waiting. */
  sawFailures?: number | undefined;
}

export type LeaseVerdict =
  /** Not ACTIVE, or no credentials: the error to answer with. */
  | { kind: 'unusable'; error: Error }
  /** Another attempt holds a live lease: wait for it, then decide again. */
  | { kind: 'wait'; attemptId: string; leaseUntil: number; failures: number }
  /** The lease ran out: its holder is presumed dead, the outcome of its provider call unknown. */
  | { kind: 'abandoned' }
  /** Nobody is refreshing. */
  | { kind: 'free' };

export function judgeLease(row: RefreshFacts, now: number): LeaseVerdict {
  const unusable = usabilityError(row);
  if (unusable) return { kind: 'unusable', error: unusable };
  if (!row.refreshAttemptId) return { kind: 'free' };
  const leaseUntil = row.refreshLeaseUntil?.getTime() ?? 0;
  if (leaseUntil > now) return { kind: 'wait', attemptId: row.refreshAttemptId, leaseUntil, failures: row.refreshFailures };
  return { kind: 'abandoned' };
}

/**
 * Whether the connection's refresh token may have rotated: what its provider
 * declares (oauth2.refresh_token_rotation), else what its last refresh
 * showed; never refreshed and undeclared counts as rotating. An abandoned
 * attempt of a token that may rotate is never resent (ATTENTION_REQUIRED,
 * refresh_interrupted); a stable one is taken over.
 */
export function mayRotate(declared: RefreshTokenRotationName | undefined, lastRefreshRotated: boolean | null): boolean {
  if (declared === 'rotates') return true;
  if (declared === 'stable') return false;
  return lastRefreshRotated !== false;
}

export type TokenVerdict =
  /** Answer with the stored tokens. */
  | { kind: 'current' }
  /** The attempt this call waited for failed: answer UNAVAILABLE rather than hammer the provider. */
  | { kind: 'waited-attempt-failed' }
  /** Expired and nothing to refresh with: only the user can fix it (ATTENTION_REQUIRED, no_refresh_token). */
  | { kind: 'expired-without-refresh-token' }
  /** Take the lease and call the provider. */
  | { kind: 'refresh' };

export function judgeTokens(row: RefreshFacts, tokens: TokenSet, want: RefreshWant, now: number): TokenVerdict {
  if (!want.force && isFresh(tokens, want.margin, now)) return { kind: 'current' };
  // Someone refreshed since this forced refresh was asked for: that refresh answers it.
  if (want.force && row.updatedAt.getTime() > want.observedUpdatedAt) return { kind: 'current' };
  if (want.sawFailures !== undefined && row.refreshFailures > want.sawFailures) return { kind: 'waited-attempt-failed' };
  if (!tokens.refreshToken) {
    // Nothing to refresh with: hand out what is left until it has expired.
    if (tokens.expiresAt === undefined || tokens.expiresAt > now) return { kind: 'current' };
    return { kind: 'expired-without-refresh-token' };
  }
  return { kind: 'refresh' };
}

export function usabilityError(row: Pick<ConnectionRow, 'id' | 'status' | 'statusReason' | 'credentialsSealed'>): Error | undefined {
  if (row.status === 'ATTENTION_REQUIRED') return new AttentionRequiredError(row.id, row.statusReason);
  if (row.status !== 'ACTIVE' || !row.credentialsSealed) return new ConnectionNotActiveError(row.id, row.status);
  return undefined;
}

/** True when the tokens do not expire within `marginMs` of `now` (tokens without an expiry never do). */
export function isFresh(tokens: TokenSet, marginMs: number, now: number): boolean {
  return tokens.expiresAt === undefined || tokens.expiresAt - now > marginMs;
}

export type ConnectionStatusName = 'PENDING' | 'ACTIVE' | 'ATTENTION_REQUIRED' | 'FAILED' | 'REVOKED';

/**
 * Refresh bookkeeping (see domain/tokens/refresher.ts). Not part of a new
 * row: the columns have database defaults.
 */
export interface RefreshState {
  /** The refresh attempt in flight (or, with ATTENTION_REQUIRED/refresh_interrupted, the one abandoned). */
  refreshAttemptId: string | null;
  /** Which process holds the attempt (host:pid), for operators and fault tests. */
  refreshAttemptBy: string | null;
  refreshStartedAt: Date | null;
  /** After this, a holder that has not finished is presumed dead. */
  refreshLeaseUntil: Date | null;
  /** Transient failures in a row; reset by a successful refresh. */
  refreshFailures: number;
  /** The background worker leaves the row alone until then (backoff). */
  refreshNextAttemptAt: Date | null;
  /** Whether the last refresh returned a new refresh token; null: never refreshed (treated as rotating). */
  refreshTokenRotates: boolean | null;
}

export const REFRESH_STATE_KEYS = [
  'refreshAttemptId',
  'refreshAttemptBy',
  'refreshStartedAt',
  'refreshLeaseUntil',
  'refreshFailures',
  'refreshNextAttemptAt',
  'refreshTokenRotates',
] as const satisfies readonly (keyof RefreshState)[];

export interface ConnectionRow extends RefreshState {
  id: string;
  projectId: string;
  workspaceId: string;
  providerId: string;
  status: ConnectionStatusName;
  statusReason: string;
  scopes: string[];
  returnUrl: string;
  /** Post-OAuth field values; never secret. */
  fields: Record<string, unknown> | null;
  supersededBy: string | null;
  /** Credentials (tokens or captured static values), sealed with AAD bound to this row. */
  credentialsSealed: string | null;
  /** Access-token expiry, kept in clear so refresh decisions need no decryption. */
  tokenExpiresAt: Date | null;
  /** Who consented at the provider: the verified ID token's (or userinfo's) `sub`; null when the provider does not say. */
  providerSubject?: string | null;
  /** That account's email, when the provider asserted one. */
  providerEmail?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A connection as callers and watchers see it: no refresh bookkeeping. */
export interface ConnectionView extends Omit<ConnectionRow, keyof RefreshState> {
  providerName: string;
}

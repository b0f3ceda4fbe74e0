import { EntitySchema } from 'typeorm';

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

export const ConnectionEntity = new EntitySchema<ConnectionRow>({
  name: 'Connection',
  tableName: 'connections',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    workspaceId: { name: 'workspace_id', type: 'text' },
    providerId: { name: 'provider_id', type: 'text' },
    status: { type: 'text' },
    statusReason: { name: 'status_reason', type: 'text' },
    scopes: { type: 'text', array: true },
    returnUrl: { name: 'return_url', type: 'text' },
    fields: { type: 'jsonb', nullable: true },
    supersededBy: { name: 'superseded_by', type: 'text', nullable: true },
    credentialsSealed: { name: 'credentials_sealed', type: 'text', nullable: true },
    tokenExpiresAt: { name: 'token_expires_at', type: 'timestamptz', nullable: true },
    providerSubject: { name: 'provider_subject', type: 'text', nullable: true },
    providerEmail: { name: 'provider_email', type: 'text', nullable: true },
    refreshAttemptId: { name: 'refresh_attempt_id', type: 'text', nullable: true },
    refreshAttemptBy: { name: 'refresh_attempt_by', type: 'text', nullable: true },
    refreshStartedAt: { name: 'refresh_started_at', type: 'timestamptz', nullable: true },
    refreshLeaseUntil: { name: 'refresh_lease_until', type: 'timestamptz', nullable: true },
    refreshFailures: { name: 'refresh_failures', type: 'integer', default: 0 },
    refreshNextAttemptAt: { name: 'refresh_next_attempt_at', type: 'timestamptz', nullable: true },
    refreshTokenRotates: { name: 'refresh_token_rotates', type: 'boolean', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

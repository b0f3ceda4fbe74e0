import { EntitySchema } from 'typeorm';

/** SIWE nonces, authorization codes and handoff codes: short-lived, single-use, stored as SHA-256. */
export type OneTimeCodeKind = 'nonce' | 'authorization_code' | 'handoff';

export interface OneTimeCodeRow {
  codeHash: string;
  kind: OneTimeCodeKind;
  projectId: string;
  clientId: string;
  sessionId: string | null;
  redirectUri: string | null;
  /** PKCE S256 challenge (authorization codes). */
  codeChallenge: string | null;
  /** Handoff intent, e.g. CONNECTIONS. */
  intent: string | null;
  /** Hash of the initiating client IP (handoff codes), null when not bound. */
  ipFingerprint: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

export const OneTimeCodeEntity = new EntitySchema<OneTimeCodeRow>({
  name: 'OneTimeCode',
  tableName: 'one_time_codes',
  columns: {
    codeHash: { name: 'code_hash', type: 'text', primary: true },
    kind: { type: 'text' },
    projectId: { name: 'project_id', type: 'text' },
    clientId: { name: 'client_id', type: 'text' },
    sessionId: { name: 'session_id', type: 'text', nullable: true },
    redirectUri: { name: 'redirect_uri', type: 'text', nullable: true },
    codeChallenge: { name: 'code_challenge', type: 'text', nullable: true },
    intent: { type: 'text', nullable: true },
    ipFingerprint: { name: 'ip_fingerprint', type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz' },
    expiresAt: { name: 'expires_at', type: 'timestamptz' },
    usedAt: { name: 'used_at', type: 'timestamptz', nullable: true },
  },
});

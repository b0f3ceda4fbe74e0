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

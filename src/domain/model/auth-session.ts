/** `user`: signed in with SIWE (has refresh tokens). `web`: a Manage Connections web session from a handoff. */
export type AuthSessionKind = 'user' | 'web';

/** A signed-in session of one account through one client. Revoking it ends all its tokens. */
export interface AuthSessionRow {
  id: string;
  projectId: string;
  accountId: string;
  clientId: string;
  kind: AuthSessionKind;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
}

import { EntitySchema } from 'typeorm';

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

export const AuthSessionEntity = new EntitySchema<AuthSessionRow>({
  name: 'AuthSession',
  tableName: 'auth_sessions',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    accountId: { name: 'account_id', type: 'text' },
    clientId: { name: 'client_id', type: 'text' },
    kind: { type: 'text' },
    scopes: { type: 'text', array: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz' },
    revokedAt: { name: 'revoked_at', type: 'timestamptz', nullable: true },
    revokeReason: { name: 'revoke_reason', type: 'text', nullable: true },
  },
});

import { EntitySchema } from 'typeorm';
import type { AuthSessionRow } from '../../domain/model/auth-session.js';

/** The table of the domain model's `AuthSessionRow` (src/domain/model/auth-session.ts). */
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

import { EntitySchema } from 'typeorm';

export type AuthStateKind = 'oauth' | 'capture';

/**
 * The server side of a signed state token. The token proves where it came
 * from; this row makes it single-use and keeps the PKCE verifier secret.
 */
export interface AuthStateRow {
  id: string;
  projectId: string;
  connectionId: string;
  kind: AuthStateKind;
  /** PKCE code verifier, sealed with AAD bound to this state id. */
  codeVerifierSealed: string | null;
  expiresAt: Date;
  consumedAt: Date | null;
  createdAt: Date;
}

export const AuthStateEntity = new EntitySchema<AuthStateRow>({
  name: 'AuthState',
  tableName: 'auth_states',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    connectionId: { name: 'connection_id', type: 'text' },
    kind: { type: 'text' },
    codeVerifierSealed: { name: 'code_verifier_sealed', type: 'text', nullable: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz' },
    consumedAt: { name: 'consumed_at', type: 'timestamptz', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

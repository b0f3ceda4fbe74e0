import { EntitySchema } from 'typeorm';
import type { AuthStateRow } from '../../domain/model/auth-state.js';

/** The table of the domain model's `AuthStateRow` (src/domain/model/auth-state.ts). */
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
    linkHash: { name: 'link_hash', type: 'text', nullable: true },
    providerUrl: { name: 'provider_url', type: 'text', nullable: true },
    clientId: { name: 'client_id', type: 'text', nullable: true },
    browserBindingHash: { name: 'browser_binding_hash', type: 'text', nullable: true },
    confirmedAt: { name: 'confirmed_at', type: 'timestamptz', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

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
  /** OAuth: SHA-256 (hex) of the consent link's secret (BASE_URL/connect/{secret}). */
  linkHash: string | null;
  /** OAuth: the provider's authorization URL, revealed only once the person confirmed. */
  providerUrl: string | null;
  /** The OAuth client whose signed-in user started the flow (the consent page's branding). */
  clientId: string | null;
  /** SHA-256 (hex) of the cookie that binds the flow to one browser; the callback requires it. */
  browserBindingHash: string | null;
  /** When the person confirmed on Nexus's consent page (or the web app's session did). */
  confirmedAt: Date | null;
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
    linkHash: { name: 'link_hash', type: 'text', nullable: true },
    providerUrl: { name: 'provider_url', type: 'text', nullable: true },
    clientId: { name: 'client_id', type: 'text', nullable: true },
    browserBindingHash: { name: 'browser_binding_hash', type: 'text', nullable: true },
    confirmedAt: { name: 'confirmed_at', type: 'timestamptz', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

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

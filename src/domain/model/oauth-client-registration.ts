import type { ClientAuthMethodName } from './provider.js';

/**
 * An OAuth client Nexus registered dynamically (RFC 7591) at an MCP
 * server's authorization server. One per provider, authorization server and
 * redirect URI; every connection to that provider reuses it.
 */
export interface OAuthClientRegistrationRow {
  id: string;
  projectId: string;
  providerId: string;
  issuer: string;
  redirectUri: string;
  clientId: string;
  /** The registered client's secret, sealed with AAD bound to this row id; null for public clients. */
  clientSecretSealed: string | null;
  clientSecretExpiresAt: Date | null;
  tokenEndpointAuthMethod: ClientAuthMethodName;
  createdAt: Date;
}

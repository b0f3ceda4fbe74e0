import { EntitySchema } from 'typeorm';
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

export const OAuthClientRegistrationEntity = new EntitySchema<OAuthClientRegistrationRow>({
  name: 'OAuthClientRegistration',
  tableName: 'oauth_client_registrations',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    providerId: { name: 'provider_id', type: 'text' },
    issuer: { type: 'text' },
    redirectUri: { name: 'redirect_uri', type: 'text' },
    clientId: { name: 'client_id', type: 'text' },
    clientSecretSealed: { name: 'client_secret_sealed', type: 'text', nullable: true },
    clientSecretExpiresAt: { name: 'client_secret_expires_at', type: 'timestamptz', nullable: true },
    tokenEndpointAuthMethod: { name: 'token_endpoint_auth_method', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

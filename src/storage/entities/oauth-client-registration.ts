import { EntitySchema } from 'typeorm';
import type { OAuthClientRegistrationRow } from '../../domain/model/oauth-client-registration.js';

/** The table of the domain model's `OAuthClientRegistrationRow` (src/domain/model/oauth-client-registration.ts). */
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

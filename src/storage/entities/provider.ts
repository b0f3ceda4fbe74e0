import { EntitySchema } from 'typeorm';
import type { ProviderRow } from '../../domain/model/provider.js';

/** The table of the domain model's `ProviderRow` (src/domain/model/provider.ts). */
export const ProviderEntity = new EntitySchema<ProviderRow>({
  name: 'Provider',
  tableName: 'providers',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    name: { type: 'text' },
    displayName: { name: 'display_name', type: 'text' },
    description: { type: 'text' },
    logoUrl: { name: 'logo_url', type: 'text' },
    categories: { type: 'text', array: true },
    authType: { name: 'auth_type', type: 'text' },
    enabled: { type: 'boolean' },
    oauth2: { type: 'jsonb', nullable: true },
    clientSecretSealed: { name: 'client_secret_sealed', type: 'text', nullable: true },
    credentialSchema: { name: 'credential_schema', type: 'jsonb', nullable: true },
    postOauthFieldsSchema: { name: 'post_oauth_fields_schema', type: 'jsonb', nullable: true },
    apiKey: { name: 'api_key', type: 'jsonb', nullable: true },
    awsSigv4: { name: 'aws_sigv4', type: 'jsonb', nullable: true },
    catalogName: { name: 'catalog_name', type: 'text', nullable: true },
    connectionFieldsSchema: { name: 'connection_fields_schema', type: 'jsonb', nullable: true },
    mcp: { type: 'jsonb', nullable: true },
    apiBaseUrl: { name: 'api_base_url', type: 'text', default: '' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

import { EntitySchema } from 'typeorm';
import type { OAuthClientRow } from '../../domain/model/oauth-client.js';

/** The table of the domain model's `OAuthClientRow` (src/domain/model/oauth-client.ts). */
export const OAuthClientEntity = new EntitySchema<OAuthClientRow>({
  name: 'OAuthClient',
  tableName: 'oauth_clients',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    type: { type: 'text' },
    displayName: { name: 'display_name', type: 'text' },
    secretHash: { name: 'secret_hash', type: 'text', nullable: true },
    redirectUris: { name: 'redirect_uris', type: 'text', array: true },
    branding: { type: 'jsonb' },
    siweOrigins: { name: 'siwe_origins', type: 'text', array: true },
    siweChainIds: { name: 'siwe_chain_ids', type: 'jsonb' },
    handoffIpBinding: { name: 'handoff_ip_binding', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

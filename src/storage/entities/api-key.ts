import { EntitySchema } from 'typeorm';
import type { ApiKeyRow } from '../../domain/model/api-key.js';

/** The table of the domain model's `ApiKeyRow` (src/domain/model/api-key.ts). */
export const ApiKeyEntity = new EntitySchema<ApiKeyRow>({
  name: 'ApiKey',
  tableName: 'api_keys',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    name: { type: 'text' },
    displayPrefix: { name: 'display_prefix', type: 'text' },
    keyHash: { name: 'key_hash', type: 'text', unique: true },
    scopes: { type: 'text', array: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    revokedAt: { name: 'revoked_at', type: 'timestamptz', nullable: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz', nullable: true },
    lastUsedAt: { name: 'last_used_at', type: 'timestamptz', nullable: true },
  },
});

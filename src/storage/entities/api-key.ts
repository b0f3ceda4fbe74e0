import { EntitySchema } from 'typeorm';

export type ApiKeyScope = 'admin' | 'connections' | 'tokens';

/** An API key, stored only as the SHA-256 of the key. */
export interface ApiKeyRow {
  id: string;
  projectId: string;
  name: string;
  /** The first characters of the key, to recognise it in listings. */
  displayPrefix: string;
  keyHash: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  revokedAt: Date | null;
}

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
  },
});

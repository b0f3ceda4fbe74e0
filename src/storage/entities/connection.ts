import { EntitySchema } from 'typeorm';

export type ConnectionStatusName = 'PENDING' | 'ACTIVE' | 'ATTENTION_REQUIRED' | 'FAILED' | 'REVOKED';

export interface ConnectionRow {
  id: string;
  projectId: string;
  workspaceId: string;
  providerId: string;
  status: ConnectionStatusName;
  statusReason: string;
  scopes: string[];
  returnUrl: string;
  /** Post-OAuth field values; never secret. */
  fields: Record<string, unknown> | null;
  supersededBy: string | null;
  /** Credentials (tokens or captured static values), sealed with AAD bound to this row. */
  credentialsSealed: string | null;
  /** Access-token expiry, kept in clear so refresh decisions need no decryption. */
  tokenExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const ConnectionEntity = new EntitySchema<ConnectionRow>({
  name: 'Connection',
  tableName: 'connections',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    workspaceId: { name: 'workspace_id', type: 'text' },
    providerId: { name: 'provider_id', type: 'text' },
    status: { type: 'text' },
    statusReason: { name: 'status_reason', type: 'text' },
    scopes: { type: 'text', array: true },
    returnUrl: { name: 'return_url', type: 'text' },
    fields: { type: 'jsonb', nullable: true },
    supersededBy: { name: 'superseded_by', type: 'text', nullable: true },
    credentialsSealed: { name: 'credentials_sealed', type: 'text', nullable: true },
    tokenExpiresAt: { name: 'token_expires_at', type: 'timestamptz', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

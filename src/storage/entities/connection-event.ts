import { EntitySchema } from 'typeorm';

export type ConnectionEventTypeName =
  | 'CREATED'
  | 'ACTIVE'
  | 'ATTENTION_REQUIRED'
  | 'FAILED'
  | 'REVOKED'
  | 'REFRESHED'
  | 'DELETED'
  | 'UPDATED';

/** The connection as it was right after the change: every column except the sealed credentials. */
export interface ConnectionSnapshot {
  id: string;
  projectId: string;
  workspaceId: string;
  providerId: string;
  providerName: string;
  status: string;
  statusReason: string;
  scopes: string[];
  returnUrl: string;
  fields: Record<string, unknown> | null;
  supersededBy: string | null;
  tokenExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectionEventRow {
  /** bigserial, as a string (pg returns int8 as text). Within a project, ids grow in commit order. */
  id: string;
  projectId: string;
  connectionId: string;
  workspaceId: string;
  providerId: string;
  type: ConnectionEventTypeName;
  connection: ConnectionSnapshot;
  createdAt: Date;
}

export const ConnectionEventEntity = new EntitySchema<ConnectionEventRow>({
  name: 'ConnectionEvent',
  tableName: 'connection_events',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    projectId: { name: 'project_id', type: 'text' },
    connectionId: { name: 'connection_id', type: 'text' },
    workspaceId: { name: 'workspace_id', type: 'text' },
    providerId: { name: 'provider_id', type: 'text' },
    type: { type: 'text' },
    connection: { type: 'jsonb' },
    createdAt: { name: 'created_at', type: 'timestamptz' },
  },
});

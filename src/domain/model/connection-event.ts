export type ConnectionEventTypeName = 'CREATED' | 'ACTIVE' | 'ATTENTION_REQUIRED' | 'FAILED' | 'REVOKED' | 'REFRESHED' | 'DELETED' | 'UPDATED';

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

import { EntitySchema } from 'typeorm';
import type { ConnectionRow } from '../../domain/model/connection.js';

/** The table of the domain model's `ConnectionRow` (src/domain/model/connection.ts). */
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
    providerSubject: { name: 'provider_subject', type: 'text', nullable: true },
    providerEmail: { name: 'provider_email', type: 'text', nullable: true },
    refreshAttemptId: { name: 'refresh_attempt_id', type: 'text', nullable: true },
    refreshAttemptBy: { name: 'refresh_attempt_by', type: 'text', nullable: true },
    refreshStartedAt: { name: 'refresh_started_at', type: 'timestamptz', nullable: true },
    refreshLeaseUntil: { name: 'refresh_lease_until', type: 'timestamptz', nullable: true },
    refreshFailures: { name: 'refresh_failures', type: 'integer', default: 0 },
    refreshNextAttemptAt: { name: 'refresh_next_attempt_at', type: 'timestamptz', nullable: true },
    refreshTokenRotates: { name: 'refresh_token_rotates', type: 'boolean', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

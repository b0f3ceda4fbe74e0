import { EntitySchema } from 'typeorm';
import type { ConnectionEventRow } from '../../domain/model/connection-event.js';

/** The table of the domain model's `ConnectionEventRow` (src/domain/model/connection-event.ts). */
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

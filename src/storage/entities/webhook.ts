import { EntitySchema } from 'typeorm';
import type { WebhookDeliveryRow, WebhookEndpointRow } from '../../domain/model/webhook.js';

/** The table of the domain model's `WebhookEndpointRow` (src/domain/model/webhook.ts). */
export const WebhookEndpointEntity = new EntitySchema<WebhookEndpointRow>({
  name: 'WebhookEndpoint',
  tableName: 'webhook_endpoints',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    url: { type: 'text' },
    description: { type: 'text' },
    eventTypes: { name: 'event_types', type: 'text', array: true },
    enabled: { type: 'boolean' },
    secrets: { type: 'jsonb' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

/** The table of the domain model's `WebhookDeliveryRow`: the outbox. */
export const WebhookDeliveryEntity = new EntitySchema<WebhookDeliveryRow>({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    projectId: { name: 'project_id', type: 'text' },
    endpointId: { name: 'endpoint_id', type: 'text' },
    messageId: { name: 'message_id', type: 'text' },
    connectionId: { name: 'connection_id', type: 'text' },
    eventId: { name: 'event_id', type: 'bigint' },
    eventType: { name: 'event_type', type: 'text' },
    payload: { type: 'jsonb' },
    status: { type: 'text' },
    attempts: { type: 'integer' },
    nextAttemptAt: { name: 'next_attempt_at', type: 'timestamptz' },
    leaseOwner: { name: 'lease_owner', type: 'text', nullable: true },
    leaseUntil: { name: 'lease_until', type: 'timestamptz', nullable: true },
    lastStatusCode: { name: 'last_status_code', type: 'integer', nullable: true },
    lastError: { name: 'last_error', type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    deliveredAt: { name: 'delivered_at', type: 'timestamptz', nullable: true },
  },
});

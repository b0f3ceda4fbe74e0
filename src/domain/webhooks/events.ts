import type { ConnectionEventTypeName, ConnectionSnapshot } from '../model/connection-event.js';
import type { WebhookConnectionData, WebhookEventType, WebhookPayload } from '../model/webhook.js';
import type { Persistence, Tx } from '../ports/persistence.js';

/**
 * Which connection events become webhook messages, and their body. A change
 * that is not a status change (REFRESHED, UPDATED) sends nothing; a refresh
 * that fails without changing the status (a transient failure) sends
 * `connection.refresh_failed` (enqueueRefreshFailed).
 */
const TYPE_OF_EVENT: Partial<Record<ConnectionEventTypeName, WebhookEventType>> = {
  CREATED: 'connection.created',
  ACTIVE: 'connection.active',
  ATTENTION_REQUIRED: 'connection.attention_required',
  FAILED: 'connection.failed',
  REVOKED: 'connection.revoked',
  DELETED: 'connection.deleted',
};

export function webhookTypeOf(type: ConnectionEventTypeName): WebhookEventType | undefined {
  return TYPE_OF_EVENT[type];
}

/** The connection as a webhook shows it: no credential, no return URL, no fields (they may hold account data). */
export function webhookData(c: ConnectionSnapshot): WebhookConnectionData {
  return {
    id: c.id,
    project_id: c.projectId,
    workspace_id: c.workspaceId,
    provider_id: c.providerId,
    provider_name: c.providerName,
    status: c.status,
    status_reason: c.statusReason,
    scopes: c.scopes,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

export function webhookPayload(type: WebhookEventType, at: Date, connection: ConnectionSnapshot): WebhookPayload {
  return { type, timestamp: at.toISOString(), data: webhookData(connection) };
}

/**
 * The outbox: queues, in the caller's transaction (the one that appended the
 * connection event), one pending delivery per enabled endpoint of the
 * project whose filter takes the event. They commit with the event, or
 * never. Returns how many were queued.
 */
export function enqueueForEvent(
  store: Pick<Persistence, 'webhooks'>,
  event: { id: string; type: ConnectionEventTypeName; createdAt: Date; connection: ConnectionSnapshot },
  now: Date,
  tx: Tx,
): Promise<number> {
  const type = webhookTypeOf(event.type);
  if (!type) return Promise.resolve(0);
  const c = event.connection;
  return store.webhooks.enqueue(
    {
      projectId: c.projectId,
      connectionId: c.id,
      eventId: event.id,
      messageKey: `msg_${event.id}`,
      type,
      payload: webhookPayload(type, event.createdAt, c),
      now,
    },
    tx,
  );
}

/**
 * A refresh failed and the connection's status did not change (a transient
 * failure: the provider was down or slow; a refusal makes the connection
 * ATTENTION_REQUIRED, which is its own event). No connection event is
 * recorded for it, so the message is keyed by the refresh attempt.
 */
export function enqueueRefreshFailed(
  store: Pick<Persistence, 'webhooks'>,
  connection: ConnectionSnapshot,
  attemptId: string,
  now: Date,
  tx: Tx,
): Promise<number> {
  const type = 'connection.refresh_failed';
  return store.webhooks.enqueue(
    {
      projectId: connection.projectId,
      connectionId: connection.id,
      eventId: '0',
      messageKey: `msg_rf_${attemptId}`,
      type,
      payload: webhookPayload(type, now, connection),
      now,
    },
    tx,
  );
}

/**
 * Signed webhooks (docs/webhooks.md): a project's endpoints and the outbox of
 * deliveries to them.
 */

/** The `type` of a webhook message; an endpoint's filter lists some of them (none: every one). */
export const WEBHOOK_EVENT_TYPES = [
  'connection.created',
  'connection.active',
  'connection.attention_required',
  'connection.failed',
  'connection.revoked',
  'connection.deleted',
  'connection.refresh_failed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** One signing secret of an endpoint, sealed with the key ring. */
export interface WebhookSecretRecord {
  /** 'whs_' + ULID: names the secret in the AAD, never secret itself. */
  id: string;
  /** The `whsec_...` secret, sealed (AAD: webhookSecretAad). */
  sealed: string;
  /** ISO time. */
  created_at: string;
  /** ISO time after which it no longer signs (the old secret of a rotation); null: no end. */
  expires_at: string | null;
}

export interface WebhookEndpointRow {
  /** 'whep_' + ULID. */
  id: string;
  projectId: string;
  url: string;
  description: string;
  /** Empty: every event type. */
  eventTypes: string[];
  enabled: boolean;
  /** Newest last; at most two live ones (during a rotation's overlap). */
  secrets: WebhookSecretRecord[];
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookDeliveryStatus = 'pending' | 'delivering' | 'succeeded' | 'dead';
export const WEBHOOK_DELIVERY_STATUSES: readonly WebhookDeliveryStatus[] = ['pending', 'delivering', 'succeeded', 'dead'];

export interface WebhookDeliveryRow {
  /** bigserial, as a string (pg returns int8 as text). */
  id: string;
  projectId: string;
  endpointId: string;
  /** The `webhook-id` header: stable across retries and redeliveries, receivers dedupe on it. */
  messageId: string;
  connectionId: string;
  eventId: string;
  eventType: string;
  /** The JSON body as signed. */
  payload: WebhookPayload;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  lastStatusCode: number | null;
  /** Never a secret, never more of a response body than a short sanitized excerpt. */
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** The connection as a webhook shows it: no credential, no secret, no return URL. */
export interface WebhookConnectionData {
  id: string;
  project_id: string;
  workspace_id: string;
  provider_id: string;
  provider_name: string;
  status: string;
  status_reason: string;
  scopes: string[];
  created_at: string;
  updated_at: string;
}

/** The body of a webhook message (Standard Webhooks style). */
export interface WebhookPayload {
  type: WebhookEventType;
  /** ISO time of the event. */
  timestamp: string;
  data: WebhookConnectionData;
}

import type { WebhookSecretRecord } from './webhook.js';

/**
 * A delivery the worker claimed: its lease is held by `leaseOwner` for this
 * attempt (`attempts` counts it), with what sending needs from its endpoint.
 */
export interface ClaimedDelivery {
  id: string;
  projectId: string;
  endpointId: string;
  /** The `webhook-id`: stable across retries and redeliveries. */
  messageId: string;
  connectionId: string;
  eventType: string;
  /** The JSON body (as stored; serialized the same way on every attempt). */
  payload: unknown;
  /** Attempts started, this one included. */
  attempts: number;
  createdAt: Date;
  leaseOwner: string;
  url: string;
  secrets: WebhookSecretRecord[];
}

/** How an attempt ended, as written back. */
export type DeliveryOutcome =
  | { status: 'succeeded'; statusCode: number; at: Date }
  | { status: 'pending'; statusCode: number | null; error: string; nextAttemptAt: Date }
  | { status: 'dead'; statusCode: number | null; error: string };

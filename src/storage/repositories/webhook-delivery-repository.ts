import type { DataSource } from 'typeorm';
import type { ClaimedDelivery, DeliveryOutcome } from '../../domain/model/webhook-delivery.js';
import type { WebhookSecretRecord } from '../../domain/model/webhook.js';
import type { WebhookDeliveriesPort } from '../../domain/ports/webhook-deliveries.js';

const UNFINISHED = `('pending', 'delivering')`;

// Due: unfinished, its backoff over, no live lease (a 'delivering' row whose
// lease lapsed is a dead replica's: it is sent again, at least once). $1 = now.
// A disabled endpoint's deliveries wait (neither attempted nor aged out) until
// it is enabled again: disabling is how an admin pauses a broken receiver.
const DUE = `d.status IN ${UNFINISHED} AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until < $1)`;

// Per-connection order: a delivery waits while an older one of the same
// endpoint and connection is unfinished (pending, backing off or in flight);
// succeeded and dead ones do not hold it up. The index on
// (endpoint_id, connection_id, id) answers it.
const FIRST_IN_LINE = `NOT EXISTS (
  SELECT 1 FROM webhook_deliveries o
   WHERE o.endpoint_id = d.endpoint_id AND o.connection_id = d.connection_id
     AND o.id < d.id AND o.status IN ${UNFINISHED})`;

interface ClaimedRow {
  id: string;
  project_id: string;
  endpoint_id: string;
  message_id: string;
  connection_id: string;
  event_type: string;
  payload: unknown;
  attempts: number;
  created_at: Date;
  lease_owner: string;
  url: string;
  secrets: WebhookSecretRecord[] | null;
}

/** The webhook delivery queue: the worker's claim and completion (the API's reads and redelivery: webhook-endpoint-repository.ts). */
export class WebhookDeliveryRepository implements WebhookDeliveriesPort {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One statement: pick with FOR UPDATE SKIP LOCKED (rows another claim holds
   * are passed over, never waited for), lease and count the attempt. A
   * concurrent claim that skipped a locked row also finds the row's newer
   * siblings blocked by it (still unfinished in its snapshot), so two
   * deliveries of one connection are never in flight together.
   */
  async claim(p: { now: Date; limit: number; owner: string; leaseUntil: Date }): Promise<ClaimedDelivery[]> {
    // TypeORM answers an UPDATE with [rows, count].
    const [rows] = (await this.dataSource.query(
      `WITH picked AS (
         SELECT d.id FROM webhook_deliveries d
          WHERE ${DUE}
            AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.enabled)
            AND ${FIRST_IN_LINE}
          ORDER BY d.next_attempt_at, d.id
          LIMIT $2
          FOR UPDATE OF d SKIP LOCKED)
       UPDATE webhook_deliveries d
          SET status = 'delivering', attempts = d.attempts + 1, lease_owner = $3, lease_until = $4
         FROM picked, webhook_endpoints e
        WHERE d.id = picked.id AND e.id = d.endpoint_id
       RETURNING d.id, d.project_id, d.endpoint_id, d.message_id, d.connection_id, d.event_type, d.payload,
                 d.attempts, d.created_at, d.lease_owner, e.url, e.secrets`,
      [p.now, p.limit, p.owner, p.leaseUntil],
    )) as [ClaimedRow[], number];
    return rows
      .map((r) => ({
        id: String(r.id),
        projectId: r.project_id,
        endpointId: r.endpoint_id,
        messageId: r.message_id,
        connectionId: r.connection_id,
        eventType: r.event_type,
        payload: r.payload,
        attempts: Number(r.attempts),
        createdAt: new Date(r.created_at),
        leaseOwner: r.lease_owner,
        url: r.url,
        secrets: r.secrets ?? [],
      }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  async complete(claim: Pick<ClaimedDelivery, 'id' | 'leaseOwner' | 'attempts'>, outcome: DeliveryOutcome): Promise<boolean> {
    const succeeded = outcome.status === 'succeeded';
    const [, count] = (await this.dataSource.query(
      `UPDATE webhook_deliveries
          SET status = $4, last_status_code = $5, last_error = $6, delivered_at = $7,
              next_attempt_at = COALESCE($8, next_attempt_at), lease_owner = NULL, lease_until = NULL
        WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'delivering'`,
      [
        claim.id,
        claim.leaseOwner,
        claim.attempts,
        outcome.status,
        outcome.statusCode,
        succeeded ? null : outcome.error,
        succeeded ? outcome.at : null,
        outcome.status === 'pending' ? outcome.nextAttemptAt : null,
      ],
    )) as [unknown, number];
    return count === 1;
  }

  async release(claim: Pick<ClaimedDelivery, 'id' | 'leaseOwner' | 'attempts'>, now: Date): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $4, lease_owner = NULL, lease_until = NULL
        WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'delivering'`,
      [claim.id, claim.leaseOwner, claim.attempts, now],
    )) as [unknown, number];
    return count === 1;
  }

  async backlog(now: Date): Promise<{ due: number; backingOff: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE d.next_attempt_at <= $1) AS due, count(*) FILTER (WHERE d.next_attempt_at > $1) AS backing_off
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
        WHERE d.status IN ${UNFINISHED}`,
      [now],
    )) as { due: string; backing_off: string }[];
    return { due: Number(row?.due ?? 0), backingOff: Number(row?.backing_off ?? 0) };
  }
}

import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { App } from '../../src/app.js';
import type { KeyRing } from '../../src/crypto/index.js';
import { newId, seal } from '../../src/crypto/index.js';
import { webhookSecretAad } from '../../src/domain/keys/sealed-secrets.js';
import { DeliveryWorker, type DeliveryWorkerOptions } from '../../src/domain/webhooks/delivery-worker.js';
import { liveWebhookSecrets } from '../../src/domain/webhooks/secrets.js';
import { createWebhookSender } from '../../src/domain/webhooks/sender.js';
import { generateWebhookSecret, signWebhook } from '../../src/domain/webhooks/signing.js';

/** A secret of a test endpoint: the plain `whsec_` value, and when it stops signing. */
export interface TestSecret {
  secret: string;
  expiresAt?: Date | null;
}

/** Inserts an endpoint row directly (the delivery worker's tests do not depend on the endpoint RPCs); returns its id and secrets. */
export async function insertEndpoint(
  ds: Pick<DataSource, 'query'> | { query(sql: string, params: unknown[]): Promise<unknown> },
  ring: KeyRing,
  p: { projectId: string; url: string; secrets?: TestSecret[]; enabled?: boolean },
): Promise<{ id: string; secrets: string[] }> {
  const id = newId('whep');
  const secrets = p.secrets ?? [{ secret: generateWebhookSecret() }];
  const records = secrets.map((s) => {
    const secretId = newId('whs');
    return {
      id: secretId,
      sealed: seal(ring, s.secret, webhookSecretAad(id, secretId)),
      created_at: new Date().toISOString(),
      expires_at: s.expiresAt ? s.expiresAt.toISOString() : null,
    };
  });
  await ds.query(`INSERT INTO webhook_endpoints (id, project_id, url, enabled, secrets) VALUES ($1, $2, $3, $4, $5)`, [
    id,
    p.projectId,
    p.url,
    p.enabled ?? true,
    JSON.stringify(records),
  ]);
  return { id, secrets: secrets.map((s) => s.secret) };
}

let nextEvent = 1;

/** Queues a delivery as the outbox would (one event of one connection to one endpoint); returns its id and message id. */
export async function insertDelivery(
  ds: DataSource,
  p: { projectId: string; endpointId: string; connectionId: string; createdAt: Date; type?: string },
): Promise<{ id: string; messageId: string }> {
  const eventId = nextEvent++;
  const messageId = `msg_${eventId}_${randomBytes(4).toString('hex')}`;
  const type = p.type ?? 'connection.active';
  const payload = {
    type,
    timestamp: p.createdAt.toISOString(),
    data: { id: p.connectionId, project_id: p.projectId, status: 'ACTIVE', event: eventId },
  };
  const [row] = (await ds.query(
    `INSERT INTO webhook_deliveries (project_id, endpoint_id, message_id, connection_id, event_id, event_type, payload, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
    [p.projectId, p.endpointId, messageId, p.connectionId, eventId, type, JSON.stringify(payload), p.createdAt],
  )) as { id: string }[];
  return { id: String(row!.id), messageId };
}

export interface DeliveryRowView {
  id: string;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  lease_owner: string | null;
  lease_until: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  message_id: string;
}

export async function readDelivery(ds: DataSource, id: string): Promise<DeliveryRowView> {
  const [row] = (await ds.query(
    `SELECT id, status, attempts, next_attempt_at, lease_owner, lease_until, last_status_code, last_error, delivered_at, message_id
       FROM webhook_deliveries WHERE id = $1`,
    [id],
  )) as DeliveryRowView[];
  return row!;
}

/** A delivery worker over the app's store, outbound policy, key ring and audit log, with test-sized timings. */
export function testWorker(
  app: App,
  ring: KeyRing,
  options: Partial<DeliveryWorkerOptions> & { timeoutMs?: number; clock?: () => number; name?: string; random?: () => number } = {},
): DeliveryWorker {
  const { timeoutMs = 2_000, clock, name, random, ...rest } = options;
  return new DeliveryWorker(
    {
      deliveries: app.store.webhookDeliveries,
      send: createWebhookSender(app.outbound, { timeoutMs }),
      sign: signWebhook,
      liveSecrets: (endpoint, nowMs) => liveWebhookSecrets(ring, endpoint, nowMs),
      audit: app.audit,
      observer: app.metrics.webhookDelivery,
      warn: () => undefined,
      ...(clock ? { clock } : {}),
      ...(name ? { name } : {}),
      ...(random ? { random } : {}),
    },
    {
      pollMs: 50,
      batchSize: 10,
      concurrency: 10,
      leaseMs: timeoutMs + 5_000,
      backoffBaseMs: 1_000,
      backoffMaxMs: 10_000,
      maxAgeMs: 3_600_000,
      ...rest,
    },
  );
}

/** Polls once and waits for every attempt it started to end. */
export async function pollAndSettle(worker: DeliveryWorker): Promise<void> {
  await worker.pollOnce();
  await worker.idle();
}

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_ID } from '../../src/domain/model/project.js';
import { BACKENDS } from '../support/databases.js';
import { eventually } from '../support/refresh-fixtures.js';
import { loadRefreshConfig, loadWebhookDeliveryConfig } from '../../src/config/config.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, clients, RETURN_URL, startTestApp, type TestApp } from '../support/test-app.js';
import { KeyRing } from '../../src/crypto/index.js';
import { generateWebhookSecret } from '../../src/domain/webhooks/signing.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { insertDelivery, insertEndpoint, pollAndSettle, readDelivery, testWorker } from '../support/webhook-deliveries.js';

/**
 * The delivery worker against a real receiver that verifies every request with
 * the `standardwebhooks` package, on both databases. Deliveries are queued
 * directly (the outbox is the webhook API's business); the worker is polled by
 * hand with an injected clock where timing matters (backoff, maximum age).
 */
describe.each(BACKENDS)('webhook delivery worker (%s)', (backend) => {
  let receiver: WebhookReceiver;
  let nexus: TestApp;
  let projectId: string;
  let offset = 0;
  const clock = () => Date.now() + offset;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    nexus = await startTestApp({ backend });
    projectId = DEFAULT_PROJECT_ID;
  }, 120_000);
  afterAll(async () => {
    await nexus?.close();
    await receiver?.stop();
  });
  beforeEach(async () => {
    offset = 0;
    receiver.mode = { kind: 'ok' };
    receiver.received.length = 0;
    await receiver.up();
    // Each case starts from an empty queue: what earlier cases left unfinished would come due under a moved clock.
    await ds().query(`UPDATE webhook_deliveries SET status = 'dead', lease_owner = NULL, lease_until = NULL WHERE status IN ('pending', 'delivering')`);
  });

  const ds = () => nexus.app.database.dataSource;
  const endpoint = async (secrets?: { secret: string; expiresAt?: Date | null }[], url = receiver.url) => {
    const e = await insertEndpoint(ds(), nexus.config.keyRing, { projectId, url, ...(secrets ? { secrets } : {}) });
    receiver.secrets = e.secrets;
    return e;
  };
  const deliver = (endpointId: string, connectionId: string, createdAt = new Date(clock())) =>
    insertDelivery(ds(), { projectId, endpointId, connectionId, createdAt });

  it('delivers a signed message that the standardwebhooks package verifies, and records the success', async () => {
    const e = await endpoint();
    const d = await deliver(e.id, 'conn_a');
    await pollAndSettle(testWorker(nexus.app, nexus.config.keyRing, { clock }));

    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.verifiedWith).toEqual(e.secrets);
    expect(got.id).toBe(d.messageId);
    expect(JSON.parse(got.body)).toMatchObject({ type: 'connection.active', data: { id: 'conn_a' } });
    expect(Math.abs(Number(got.timestamp) - Date.now() / 1000)).toBeLessThan(5);
    const row = await readDelivery(ds(), d.id);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 204, last_error: null, lease_owner: null, lease_until: null });
    expect(row.delivered_at).toBeInstanceOf(Date);
    const metrics = await nexus.app.metrics.registry.metrics();
    expect(metrics).toMatch(/^nexus_webhook_deliveries_total\{outcome="succeeded"\} [1-9]/m);
    expect(metrics).toMatch(/^nexus_webhook_delivery_duration_seconds_count\{outcome="succeeded"\} [1-9]/m);
    expect(metrics).toMatch(/^nexus_webhook_backlog\{state="due"\} 1$/m);
  });

  it('receiver down: the attempt fails and is retried after a backoff; once it is up the message arrives with the same id', async () => {
    const e = await endpoint();
    const d = await deliver(e.id, 'conn_down');
    await receiver.down();
    const worker = testWorker(nexus.app, nexus.config.keyRing, { clock, backoffBaseMs: 60_000, backoffMaxMs: 60_000, random: () => 0.5 });
    await pollAndSettle(worker);
    let row = await readDelivery(ds(), d.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, lease_owner: null });
    expect(row.last_error).toMatch(/network error ECONNREFUSED/);
    // Full jitter over a 60 s ceiling, drawn at 0.5: due 30 s later, and not before.
    expect(row.next_attempt_at.getTime() - clock()).toBeGreaterThan(25_000);
    await receiver.up();
    await pollAndSettle(worker);
    expect(receiver.received).toHaveLength(0);
    offset += 31_000;
    await pollAndSettle(worker);
    row = await readDelivery(ds(), d.id);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2, last_status_code: 204, last_error: null });
    expect(receiver.verifiedIds()).toEqual([d.messageId]);
  });

  it('5xx then 2xx: the failure is recorded with a short sanitized excerpt, then the retry succeeds', async () => {
    const e = await endpoint();
    const d = await deliver(e.id, 'conn_5xx');
    receiver.mode = { kind: 'status', status: 503, body: `busy\n\u0000${'x'.repeat(5_000)}` };
    const worker = testWorker(nexus.app, nexus.config.keyRing, { clock, backoffBaseMs: 1_000, backoffMaxMs: 1_000 });
    await pollAndSettle(worker);
    let row = await readDelivery(ds(), d.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503 });
    expect(row.last_error).toMatch(/^HTTP 503: busy x+$/);
    expect(row.last_error!.length).toBeLessThanOrEqual(220);
    receiver.mode = { kind: 'ok' };
    offset += 1_000;
    await pollAndSettle(worker);
    row = await readDelivery(ds(), d.id);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2, last_status_code: 204 });
    // Both attempts carried the same webhook-id, each verified.
    expect(receiver.received.map((r) => r.id)).toEqual([d.messageId, d.messageId]);
    expect(receiver.received.every((r) => r.verifiedWith.length === 1)).toBe(true);
  });

  it('a receiver that hangs: the attempt times out and counts as failed', async () => {
    const e = await endpoint();
    const d = await deliver(e.id, 'conn_hang');
    receiver.mode = { kind: 'hang' };
    const started = Date.now();
    await pollAndSettle(testWorker(nexus.app, nexus.config.keyRing, { clock, timeoutMs: 400 }));
    expect(Date.now() - started).toBeLessThan(3_000);
    const row = await readDelivery(ds(), d.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, lease_owner: null });
    expect(row.last_error).toMatch(/timed out/);
    expect(receiver.received).toHaveLength(1);
  });

  it('a redirect is a failed attempt, never followed', async () => {
    const other = await WebhookReceiver.start();
    try {
      const e = await endpoint();
      const d = await deliver(e.id, 'conn_redirect');
      receiver.mode = { kind: 'status', status: 307, headers: { location: other.url } };
      await pollAndSettle(testWorker(nexus.app, nexus.config.keyRing, { clock }));
      expect(await readDelivery(ds(), d.id)).toMatchObject({ status: 'pending', last_status_code: 307, last_error: 'HTTP 307' });
      expect(other.received).toHaveLength(0);
    } finally {
      await other.stop();
    }
  });

  it('still failing past the maximum age: dead, and never claimed again', async () => {
    const e = await endpoint();
    const d = await deliver(e.id, 'conn_dead');
    receiver.mode = { kind: 'status', status: 500 };
    const worker = testWorker(nexus.app, nexus.config.keyRing, { clock, maxAgeMs: 60_000, backoffBaseMs: 1_000, backoffMaxMs: 1_000 });
    await pollAndSettle(worker);
    expect(await readDelivery(ds(), d.id)).toMatchObject({ status: 'pending', attempts: 1 });
    offset += 60_000;
    await pollAndSettle(worker);
    const row = await readDelivery(ds(), d.id);
    expect(row).toMatchObject({ status: 'dead', attempts: 2, last_status_code: 500, last_error: 'HTTP 500', lease_owner: null });
    receiver.mode = { kind: 'ok' };
    offset += 3_600_000;
    await pollAndSettle(worker);
    expect(await readDelivery(ds(), d.id)).toMatchObject({ status: 'dead', attempts: 2 });
    expect(receiver.received).toHaveLength(2);
  });

  it("keeps a connection's order: event 2 waits until event 1 succeeds, or dies; other connections go on", async () => {
    const e = await endpoint();
    const t0 = new Date(clock());
    const first = await deliver(e.id, 'conn_order', t0);
    const second = await deliver(e.id, 'conn_order', t0);
    const other = await deliver(e.id, 'conn_other', t0);
    receiver.mode = { kind: 'status', status: 503 };
    const worker = testWorker(nexus.app, nexus.config.keyRing, { clock, maxAgeMs: 120_000, backoffBaseMs: 1_000, backoffMaxMs: 1_000 });
    await pollAndSettle(worker);
    expect(receiver.received.map((r) => r.id).sort()).toEqual([first.messageId, other.messageId].sort());
    expect(await readDelivery(ds(), second.id)).toMatchObject({ status: 'pending', attempts: 0 });

    // Backing off, event 1 still holds event 2 back.
    offset += 500;
    await pollAndSettle(worker);
    expect(await readDelivery(ds(), second.id)).toMatchObject({ attempts: 0 });

    // Event 1 dies (past the maximum age): it no longer blocks; event 2 goes next.
    receiver.received.length = 0;
    offset += 120_000;
    await pollAndSettle(worker);
    expect(await readDelivery(ds(), first.id)).toMatchObject({ status: 'dead' });
    expect(receiver.received.map((r) => r.id)).not.toContain(second.messageId);
    receiver.mode = { kind: 'ok' };
    await pollAndSettle(worker);
    expect(await readDelivery(ds(), second.id)).toMatchObject({ status: 'succeeded', attempts: 1 });

    // And success unblocks too: event 4 follows event 3 in the same poll cycle order.
    const third = await deliver(e.id, 'conn_order', new Date(clock()));
    const fourth = await deliver(e.id, 'conn_order', new Date(clock()));
    receiver.received.length = 0;
    await pollAndSettle(worker);
    expect(receiver.received.map((r) => r.id)).toEqual([third.messageId]);
    await pollAndSettle(worker);
    expect(receiver.received.map((r) => r.id)).toEqual([third.messageId, fourth.messageId]);
  });

  it('rotation: with two live secrets both signatures verify, with either secret alone; an expired secret no longer signs', async () => {
    const [oldSecret, newSecret, expired] = [generateWebhookSecret(), generateWebhookSecret(), generateWebhookSecret()];
    const e = await endpoint([
      { secret: expired, expiresAt: new Date(clock() - 1_000) },
      { secret: oldSecret, expiresAt: new Date(clock() + 3_600_000) },
      { secret: newSecret },
    ]);
    receiver.secrets = [oldSecret, newSecret, expired];
    const d = await deliver(e.id, 'conn_rotation');
    await pollAndSettle(testWorker(nexus.app, nexus.config.keyRing, { clock }));
    const got = receiver.received[0]!;
    expect(got.id).toBe(d.messageId);
    expect(got.verifiedWith).toEqual([oldSecret, newSecret]);
    expect(got.signature.split(' ')).toHaveLength(2);
  });

  it('a disabled endpoint pauses: its queued deliveries wait, out of the backlog, and go once it is enabled again', async () => {
    const e = await insertEndpoint(ds(), nexus.config.keyRing, { projectId, url: receiver.url, enabled: false });
    receiver.secrets = e.secrets;
    const d = await deliver(e.id, 'conn_paused');
    const worker = testWorker(nexus.app, nexus.config.keyRing, { clock });
    await pollAndSettle(worker);
    expect(await readDelivery(ds(), d.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await nexus.app.store.webhookDeliveries.backlog(new Date(clock()))).toEqual({ due: 0, backingOff: 0 });
    expect(receiver.received).toHaveLength(0);
    await ds().query(`UPDATE webhook_endpoints SET enabled = true WHERE id = $1`, [e.id]);
    await pollAndSettle(worker);
    expect(await readDelivery(ds(), d.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(receiver.verifiedIds()).toEqual([d.messageId]);
  });

  it('never sends an unsigned message: a secret that does not open (its key left the ring) fails the attempt', async () => {
    const e = await insertEndpoint(ds(), KeyRing.generate('gone'), { projectId, url: receiver.url });
    const d = await deliver(e.id, 'conn_unopenable');
    await pollAndSettle(testWorker(nexus.app, nexus.config.keyRing, { clock }));
    expect(await readDelivery(ds(), d.id)).toMatchObject({ status: 'pending', attempts: 1, last_error: 'no live signing secret of the endpoint opens' });
    expect(receiver.received).toHaveLength(0);
  });

  it('two workers polling the same database at once never deliver one row twice, nor two rows of one connection together', async () => {
    const e = await endpoint();
    const t0 = new Date(clock());
    const queued: { connection: string; messageId: string }[] = [];
    for (let i = 0; i < 24; i++) {
      const connection = `conn_pair_${i % 6}`;
      queued.push({ connection, messageId: (await deliver(e.id, connection, t0)).messageId });
    }
    receiver.mode = { kind: 'ok', delayMs: 30 };
    // On PostgreSQL the second worker is another replica (its own app and connection pool on the same database);
    // the embedded database belongs to one process, so there both workers share it.
    const replica = backend === 'postgres' ? await startTestApp({ backend, databaseUrl: nexus.config.databaseUrl!, keyRing: nexus.config.keyRing }) : undefined;
    const a = testWorker(nexus.app, nexus.config.keyRing, { clock, name: 'worker-a', batchSize: 3 });
    const b = testWorker((replica ?? nexus).app, nexus.config.keyRing, { clock, name: 'worker-b', batchSize: 3 });
    const deadline = Date.now() + 30_000;
    try {
      while (receiver.verifiedIds().length < queued.length && Date.now() < deadline) {
        await Promise.all([pollAndSettle(a), pollAndSettle(b)]);
      }
    } finally {
      await replica?.close();
    }
    const attempts = (await ds().query(`SELECT DISTINCT attempts FROM webhook_deliveries WHERE connection_id LIKE 'conn_pair_%'`)) as { attempts: number }[];
    expect(attempts).toEqual([{ attempts: 1 }]);
    // Each message exactly once (no lease lapsed, so at-least-once means exactly once here).
    expect(receiver.received.map((r) => r.id).sort()).toEqual(queued.map((q) => q.messageId).sort());
    expect(receiver.maxConcurrentPerConnection).toBe(1);
    // Per connection, in the order queued.
    for (let c = 0; c < 6; c++) {
      const connection = `conn_pair_${c}`;
      const order = receiver.received.filter((r) => JSON.parse(r.body).data.id === connection).map((r) => r.id);
      expect(order).toEqual(queued.filter((q) => q.connection === connection).map((q) => q.messageId));
    }
  });

  it('stop drains the attempts in flight within the deadline, and hands back those past it', async () => {
    const e = await endpoint();
    const quick = await deliver(e.id, 'conn_drain');
    receiver.mode = { kind: 'ok', delayMs: 300 };
    const worker = testWorker(nexus.app, nexus.config.keyRing, { timeoutMs: 10_000 });
    worker.start();
    await receiver.waitFor((r) => r.length === 1, 10_000, 'the first attempt');
    await worker.stop(5_000);
    expect(await readDelivery(ds(), quick.id)).toMatchObject({ status: 'succeeded', attempts: 1 });

    const slow = await deliver(e.id, 'conn_drain_hang');
    receiver.mode = { kind: 'hang' };
    const again = testWorker(nexus.app, nexus.config.keyRing, { timeoutMs: 10_000 });
    again.start();
    await receiver.waitFor((r) => r.length === 2, 10_000, 'the hanging attempt');
    const stopping = Date.now();
    await again.stop(300);
    expect(Date.now() - stopping).toBeLessThan(2_000);
    // Not the receiver's failure: due again at once, for whichever worker polls next; the attempt still counted.
    const row = await readDelivery(ds(), slow.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lease_owner: null, lease_until: null, last_error: null });
    expect(row.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('a connection event nudges a running worker: no wait for the poll interval', async () => {
    const e = await endpoint();
    const worker = testWorker(nexus.app, nexus.config.keyRing, { pollMs: 60_000 });
    worker.start();
    try {
      await new Promise((r) => setTimeout(r, 200)); // the first poll ran and found nothing
      const d = await deliver(e.id, 'conn_nudge');
      worker.nudge();
      const started = Date.now();
      await receiver.waitFor((r) => r.some((x) => x.id === d.messageId), 5_000, 'the nudged delivery');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await worker.stop(1_000);
    }
  });

  it('audits every attempt as webhook.delivery by the system, with no secret in it', async () => {
    const e = await endpoint();
    const d = await deliver(e.id, 'conn_audit');
    receiver.mode = { kind: 'status', status: 502 };
    const worker = testWorker(nexus.app, nexus.config.keyRing, { clock, backoffBaseMs: 10, backoffMaxMs: 10 });
    await pollAndSettle(worker);
    receiver.mode = { kind: 'ok' };
    offset += 1_000;
    await pollAndSettle(worker);
    await nexus.app.audit.flush();
    const events = await nexus.app.store.audit.query({ projectId, afterSeq: 0, action: 'webhook.delivery', targetId: d.id, limit: 10 });
    expect(events.map((ev) => [ev.outcome, ev.reason, ev.detail?.attempt])).toEqual([
      ['failed', 'WEBHOOK_DELIVERY_FAILED', 1],
      ['success', '', 2],
    ]);
    expect(events[0]).toMatchObject({ actorKind: 'system', targetType: 'webhook_delivery', detail: { status_code: 502, message_id: d.messageId } });
    const text = JSON.stringify(events);
    for (const s of e.secrets) expect(text).not.toContain(s.slice('whsec_'.length));
  });
});

describe.each(BACKENDS)("the server's own worker, from the outbox (%s)", (backend) => {
  let receiver: WebhookReceiver;
  let nexus: TestApp;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    nexus = await startTestApp({
      backend,
      config: {
        refresh: { ...loadRefreshConfig({}, 2_000), worker: true },
        // A long poll: only the nudge of the connection event can make the delivery prompt.
        webhooks: { ...loadWebhookDeliveryConfig({}), pollMs: 60_000 },
      },
    });
  }, 120_000);
  afterAll(async () => {
    await nexus?.close();
    await receiver?.stop();
  });

  it('delivers a connection event promptly, signed, through the app wiring and the nudge', async () => {
    expect(nexus.app.webhookWorker).toBeDefined();
    const ds = nexus.app.database.dataSource;
    const [project] = (await ds.query(`SELECT id FROM projects ORDER BY created_at LIMIT 1`)) as { id: string }[];
    const e = await insertEndpoint(ds, nexus.config.keyRing, { projectId: project!.id, url: receiver.url });
    receiver.secrets = e.secrets;
    await new Promise((r) => setTimeout(r, 300)); // the worker's first poll has run and found nothing
    const api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: apiKeyProvider() });
    const started = Date.now();
    const created = await api.connections.createConnection({
      workspaceId: 'ws-hook',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    const [got] = await receiver.waitFor((r) => r.length >= 1, 10_000, 'the connection.created webhook');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(got!.verifiedWith).toEqual(e.secrets);
    expect(JSON.parse(got!.body)).toMatchObject({ type: 'connection.created', data: { id: created.connection!.id, workspace_id: 'ws-hook' } });
    const row = await eventually('the delivery recorded as succeeded', async () => {
      const [r] = (await ds.query(`SELECT status, message_id FROM webhook_deliveries WHERE endpoint_id = $1`, [e.id])) as {
        status: string;
        message_id: string;
      }[];
      return r?.status === 'succeeded' ? r : undefined;
    });
    expect(row.message_id).toBe(got!.id);
  });
});

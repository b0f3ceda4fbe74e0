import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_ID } from '../../src/domain/model/project.js';
import { KeyRing } from '../../src/crypto/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { eventually, newKeys, replicaEnv } from '../support/refresh-fixtures.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, clients, RETURN_URL } from '../support/test-app.js';
import { insertEndpoint } from '../support/webhook-deliveries.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const TIMEOUT_MS = 6_000;
const LEASE_MS = 7_000;
const EVENTS = 3;

/**
 * kill -9 of the replica in the middle of delivering webhooks. Real server
 * processes (dist/) on one PostgreSQL: the first one's worker sends the
 * CREATED webhooks of three new connections to a receiver that holds every
 * request; the process is killed while they are held; a second process on
 * the same database finds the dead replica's leases lapsed and sends them
 * again. Every message arrives (at least once), under one webhook-id per
 * event (receivers deduplicate on it), verified by the `standardwebhooks`
 * package, and every delivery row ends succeeded: nothing is lost.
 */
describe('kill -9 of the delivering replica mid-delivery', () => {
  let receiver: WebhookReceiver;
  let db: TestDatabase;
  let sql: pg.Client;
  let env: Record<string, string>;
  let keys: string;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    db = await createTestDatabase();
    keys = newKeys();
    env = replicaEnv(db.url, keys, {
      NEXUS_WEBHOOK_POLL_MS: '200',
      NEXUS_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      NEXUS_WEBHOOK_LEASE_MS: String(LEASE_MS),
      NEXUS_WEBHOOK_BACKOFF_BASE_MS: '200',
      NEXUS_WEBHOOK_BACKOFF_MAX_MS: '1000',
    });
    sql = new pg.Client({ connectionString: db.url });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await sql?.end().catch(() => undefined);
    await db?.drop();
    await receiver?.stop();
  });

  it('another replica delivers every held message after the lease lapses: same webhook-ids, none lost', async () => {
    const started = Date.now();
    const first = await startServerProcess(env);
    servers.push(first);
    await sql.connect();
    const endpoint = await insertEndpoint(sql, KeyRing.parse(keys), { projectId: DEFAULT_PROJECT_ID, url: receiver.url });
    receiver.secrets = endpoint.secrets;
    receiver.mode = { kind: 'hold' };

    const api = clients(first.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: apiKeyProvider() });
    for (let i = 0; i < EVENTS; i++) {
      await api.connections.createConnection({ workspaceId: `ws-${i}`, provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL });
    }
    // The first replica has every message in flight (held by the receiver), each under its lease.
    await receiver.waitFor((r) => new Set(r.map((x) => x.id)).size === EVENTS, 15_000, 'the first attempts');
    const inFlight = (await sql.query(`SELECT status, lease_owner, lease_until FROM webhook_deliveries`)).rows as {
      status: string;
      lease_owner: string | null;
      lease_until: Date;
    }[];
    expect(inFlight).toHaveLength(EVENTS);
    expect(inFlight.every((r) => r.status === 'delivering' && r.lease_owner?.includes(`:${first.pid}:`))).toBe(true);
    const leasesLapse = Math.min(...inFlight.map((r) => r.lease_until.getTime()));

    await first.stop('SIGKILL');
    receiver.release(); // answers go to a dead socket: the first replica never learns of them
    receiver.mode = { kind: 'ok' };
    const killedAt = Date.now();

    const second = await startServerProcess(env);
    servers.push(second);
    const rows = await eventually(
      'every delivery succeeded',
      async () => {
        const r = (await sql.query(`SELECT id, status, attempts, message_id FROM webhook_deliveries ORDER BY id`)).rows as {
          status: string;
          attempts: number;
          message_id: string;
        }[];
        return r.every((x) => x.status === 'succeeded') ? r : undefined;
      },
      30_000,
    );
    // Not sent again before the dead replica's leases lapsed.
    const resent = receiver.received.filter((r) => r.at >= killedAt);
    expect(resent).toHaveLength(EVENTS);
    expect(Math.min(...resent.map((r) => r.at))).toBeGreaterThanOrEqual(leasesLapse);

    // At least once, one distinct webhook-id per event, every one verified.
    expect(rows).toHaveLength(EVENTS);
    expect(rows.every((r) => r.attempts === 2)).toBe(true);
    expect(receiver.received.every((r) => r.verifiedWith.length === 1)).toBe(true);
    expect(receiver.verifiedIds().sort()).toEqual(rows.map((r) => r.message_id).sort());
    for (const r of rows) expect(receiver.received.filter((x) => x.id === r.message_id).length).toBeGreaterThanOrEqual(2);
    const types = receiver.received.map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(new Set(types)).toEqual(new Set(['connection.created']));
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});

// WebhookService over the real server, on both databases: endpoints, secrets
// (returned once, both signing during a rotation), deliveries and
// redelivery, and each project seeing only its own.
import { Code } from '@connectrpc/connect';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../../gen/ts/nexus/v1/api_key_pb.js';
import { WebhookDeliveryStatus } from '../../gen/ts/nexus/v1/webhook_pb.js';
import { keyIdOf } from '../../src/crypto/index.js';
import { resealAll } from '../../src/domain/keys/key-rotation.js';
import { DEFAULT_PROJECT_ID } from '../../src/domain/model/project.js';
import { liveWebhookSecrets } from '../../src/domain/webhooks/secrets.js';
import { signWebhook } from '../../src/domain/webhooks/signing.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, governanceClients, startTestApp, webhookClient, type TestApp } from '../support/test-app.js';

const HOUR = 3_600_000;
/** A response as text (timestamps hold bigints). */
const text = (m: unknown) => JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));

describe.each(BACKENDS)('WebhookService (%s)', (backend) => {
  let nexus: TestApp;
  let now = Date.parse('2026-12-01T09:00:00Z');
  const admin = () => webhookClient(nexus.baseUrl, ADMIN_KEY);
  /** What the delivery worker would sign with now, opened from the stored row. */
  const storedSecrets = async (id: string) => liveWebhookSecrets(nexus.config.keyRing, (await nexus.app.store.webhooks.findById(DEFAULT_PROJECT_ID, id))!, now);
  const verifies = (secret: string, signWith: string[]) => {
    const body = '{"type":"connection.active"}';
    const headers = signWebhook({ id: 'msg_test', timestamp: Math.floor(Date.now() / 1000), body, secrets: signWith });
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    // 127.0.0.1:9 stands for a receiver on a trusted internal host (http allowed outside production).
    nexus = await startTestApp({ backend, clock: () => now, config: { outboundAllowedHosts: ['127.0.0.1:9'] } });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('creates an endpoint and returns its whsec_ secret once; get and list never show it', async () => {
    const created = await admin().createWebhookEndpoint({
      endpoint: { url: 'https://hooks.example.com/nexus', description: 'ops', eventTypes: ['connection.active', 'connection.revoked', 'connection.active'] },
    });
    const e = created.endpoint!;
    expect(e.id).toMatch(/^whep_[0-9A-Z]{26}$/);
    expect(e).toMatchObject({ projectId: DEFAULT_PROJECT_ID, url: 'https://hooks.example.com/nexus', description: 'ops', disabled: false });
    expect(e.eventTypes).toEqual(['connection.active', 'connection.revoked']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(e.secrets).toHaveLength(1);
    expect(e.secrets[0]!.id).toMatch(/^whs_/);
    expect(e.secrets[0]!.expireTime).toBeUndefined();
    // The secret returned is the one that signs.
    expect(await storedSecrets(e.id)).toEqual([created.secret]);

    const got = await admin().getWebhookEndpoint({ endpointId: e.id });
    const listed = await admin().listWebhookEndpoints({});
    for (const shown of [text(got), text(listed)]) {
      expect(shown).not.toContain(created.secret);
      expect(shown).not.toContain(created.secret.slice('whsec_'.length, 20));
    }
    expect(got.endpoint).toEqual(e);
    // Sealed at rest: the stored row does not hold the secret in clear.
    const raw = (await nexus.app.database.dataSource.query(`SELECT secrets::text AS s FROM webhook_endpoints WHERE id = $1`, [e.id])) as { s: string }[];
    expect(raw[0]!.s).not.toContain(created.secret.slice('whsec_'.length));
    await admin().deleteWebhookEndpoint({ endpointId: e.id });
  });

  it('validates on write: the outbound policy for the URL, known event types, bounds', async () => {
    const bad = async (url: string) => {
      const err = await expectConnectError(admin().createWebhookEndpoint({ endpoint: { url } }), Code.InvalidArgument, 'URL_NOT_ALLOWED');
      expect(err.rawMessage).toMatch(/endpoint\.url/);
      return err.rawMessage;
    };
    expect(await bad('http://hooks.example.com/in')).toMatch(/https/);
    expect(await bad('https://127.0.0.1/in')).toMatch(/loopback/);
    expect(await bad('https://user:pw@hooks.example.com/in')).toMatch(/credentials/);
    await bad('not a url');
    await expectConnectError(admin().createWebhookEndpoint({ endpoint: { url: '' } }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(
      admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/in', eventTypes: ['connection.refreshed'] } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(
      admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/in', description: 'x'.repeat(501) } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    // An allow-listed internal host may be reached over http (outside production).
    const local = (await admin().createWebhookEndpoint({ endpoint: { url: 'http://127.0.0.1:9/hook' } })).endpoint!;
    expect(local.url).toBe('http://127.0.0.1:9/hook');
    // Update validates the same way and changes only what the mask names.
    await expectConnectError(
      admin().updateWebhookEndpoint({ endpoint: { id: local.id, url: 'https://169.254.169.254/latest' }, updateMask: { paths: ['url'] } }),
      Code.InvalidArgument,
      'URL_NOT_ALLOWED',
    );
    const updated = (
      await admin().updateWebhookEndpoint({
        endpoint: { id: local.id, url: 'https://ignored.example.com', description: 'now disabled', disabled: true },
        updateMask: { paths: ['description', 'disabled'] },
      })
    ).endpoint!;
    expect(updated).toMatchObject({ url: 'http://127.0.0.1:9/hook', description: 'now disabled', disabled: true });
    await expectConnectError(
      admin().updateWebhookEndpoint({ endpoint: { id: local.id }, updateMask: { paths: ['secrets'] } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(admin().updateWebhookEndpoint({ endpoint: { id: 'whep_nope', description: 'x' } }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
    await expectConnectError(admin().updateWebhookEndpoint({ endpoint: { description: 'x' } }), Code.InvalidArgument, 'INVALID_FIELD');
    await admin().deleteWebhookEndpoint({ endpointId: local.id });
    await expectConnectError(admin().deleteWebhookEndpoint({ endpointId: local.id }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
    await expectConnectError(admin().getWebhookEndpoint({ endpointId: local.id }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
  });

  it('pages through endpoints and caps them at 20 per project', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await admin().createWebhookEndpoint({ endpoint: { url: `https://hooks.example.com/${i}` } })).endpoint!.id);
    await expectConnectError(
      admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/21' } }),
      Code.ResourceExhausted,
      'WEBHOOK_ENDPOINT_LIMIT',
    );
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await admin().listWebhookEndpoints({ pageSize: 7, pageToken });
      expect(page.endpoints.length).toBeLessThanOrEqual(7);
      seen.push(...page.endpoints.map((e) => e.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    // By id: creation order to the millisecond (this test's clock stands still, so any order within it).
    expect(seen).toEqual([...ids].sort());
    await expectConnectError(admin().listWebhookEndpoints({ pageToken: 'garbage' }), Code.InvalidArgument, 'PAGE_TOKEN_INVALID');
    await expectConnectError(admin().listWebhookEndpoints({ pageSize: 501 }), Code.InvalidArgument, 'INVALID_FIELD');
    for (const id of ids) await admin().deleteWebhookEndpoint({ endpointId: id });

    // Concurrent creates cannot pass the cap together: 30 at once from none, exactly 20 succeed.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => admin().createWebhookEndpoint({ endpoint: { url: `https://hooks.example.com/race/${i}` } })),
    );
    const made = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.endpoint!.id] : []));
    expect(made).toHaveLength(20);
    for (const o of outcomes) if (o.status === 'rejected') expect(String(o.reason)).toMatch(/resource_exhausted/);
    expect((await admin().listWebhookEndpoints({ pageSize: 500 })).endpoints).toHaveLength(20);
    for (const id of made) await admin().deleteWebhookEndpoint({ endpointId: id });
  });

  it('rotates the secret: both sign during the overlap, then only the new one', async () => {
    const created = await admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/rotate' } });
    const id = created.endpoint!.id;
    const first = created.secret;
    const rotated = await admin().rotateWebhookSecret({ endpointId: id, overlap: { seconds: BigInt(2 * 3600), nanos: 0 } });
    const second = rotated.secret;
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(first);
    expect(rotated.endpoint!.secrets).toHaveLength(2);
    expect(text(rotated.endpoint)).not.toContain(first.slice(6, 30));
    const expiry = rotated.endpoint!.secrets[0]!.expireTime!;
    expect(Number(expiry.seconds) * 1000).toBe(now + 2 * HOUR);

    // During the overlap: both secrets sign, so a receiver holding either verifies.
    const during = await storedSecrets(id);
    expect(during).toEqual([first, second]);
    expect(verifies(first, during)).toBe(true);
    expect(verifies(second, during)).toBe(true);

    // After it: only the new one.
    now += 2 * HOUR + 1;
    const after = await storedSecrets(id);
    expect(after).toEqual([second]);
    expect(verifies(first, after)).toBe(false);
    expect(verifies(second, after)).toBe(true);
    expect((await admin().getWebhookEndpoint({ endpointId: id })).endpoint!.secrets).toHaveLength(1);

    // The default overlap is 24 hours; rotating again ends the older overlapping secret at once (never three).
    const third = (await admin().rotateWebhookSecret({ endpointId: id })).secret;
    const fourth = await admin().rotateWebhookSecret({ endpointId: id });
    expect(fourth.endpoint!.secrets).toHaveLength(2);
    expect(Number(fourth.endpoint!.secrets[0]!.expireTime!.seconds)).toBe(Math.floor((now + 24 * HOUR) / 1000));
    expect(await storedSecrets(id)).toEqual([third, fourth.secret]);
    // Overlap 0: the old secret stops at once.
    const fifth = await admin().rotateWebhookSecret({ endpointId: id, overlap: { seconds: 0n, nanos: 0 } });
    expect(await storedSecrets(id)).toEqual([fifth.secret]);
    await expectConnectError(
      admin().rotateWebhookSecret({ endpointId: id, overlap: { seconds: BigInt(8 * 24 * 3600), nanos: 0 } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(admin().rotateWebhookSecret({ endpointId: 'whep_nope' }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
    await admin().deleteWebhookEndpoint({ endpointId: id });
  });

  it('lists deliveries with status, attempts and paging, and redelivers finished ones', async () => {
    const api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: apiKeyProvider() });
    const e = (await admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/deliveries' } })).endpoint!;
    for (let i = 0; i < 3; i++) {
      await api.connections.createConnection({ workspaceId: `ws-d${i}`, provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL });
    }
    const all = await admin().listWebhookDeliveries({ endpointId: e.id });
    expect(all.deliveries).toHaveLength(3);
    expect(all.nextPageToken).toBe('');
    const [newest] = all.deliveries;
    expect(newest).toMatchObject({ endpointId: e.id, eventType: 'connection.created', status: WebhookDeliveryStatus.PENDING, attempts: 0, lastError: '' });
    expect(newest!.messageId).toMatch(new RegExp(`^msg_\\d+_${e.id}$`));
    expect(newest!.nextAttemptTime).toBeDefined();
    expect(Number(all.deliveries[0]!.id)).toBeGreaterThan(Number(all.deliveries[2]!.id));

    const paged: string[] = [];
    let pageToken = '';
    do {
      const page = await admin().listWebhookDeliveries({ endpointId: e.id, pageSize: 2, pageToken });
      paged.push(...page.deliveries.map((d) => d.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(paged).toEqual(all.deliveries.map((d) => d.id));
    const firstPage = await admin().listWebhookDeliveries({ endpointId: e.id, pageSize: 1 });
    await expectConnectError(
      admin().listWebhookDeliveries({ endpointId: e.id, status: WebhookDeliveryStatus.DEAD, pageToken: firstPage.nextPageToken }),
      Code.InvalidArgument,
      'PAGE_TOKEN_INVALID',
    );
    await expectConnectError(admin().listWebhookDeliveries({ endpointId: e.id, status: 99 as WebhookDeliveryStatus }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(admin().listWebhookDeliveries({ endpointId: 'whep_nope' }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');

    // Pending: not redeliverable yet.
    await expectConnectError(admin().redeliverWebhook({ deliveryId: newest!.id }), Code.FailedPrecondition, 'WEBHOOK_DELIVERY_UNFINISHED');
    // Dead-lettered (as the worker would leave it): shown with its last error, then redelivered.
    await nexus.app.database.dataSource.query(
      `UPDATE webhook_deliveries SET status = 'dead', attempts = 7, last_status_code = 503, last_error = 'receiver answered 503' WHERE id = $1`,
      [newest!.id],
    );
    const dead = await admin().listWebhookDeliveries({ endpointId: e.id, status: WebhookDeliveryStatus.DEAD });
    expect(dead.deliveries.map((d) => [d.id, d.attempts, d.lastStatusCode, d.lastError])).toEqual([[newest!.id, 7, 503, 'receiver answered 503']]);
    expect(dead.deliveries[0]!.nextAttemptTime).toBeUndefined();
    const again = (await admin().redeliverWebhook({ deliveryId: newest!.id })).delivery!;
    expect(again).toMatchObject({ messageId: newest!.messageId, status: WebhookDeliveryStatus.PENDING, attempts: 0, connectionId: newest!.connectionId });
    expect(Number(again.id)).toBeGreaterThan(Number(newest!.id));
    const rows = (await nexus.app.database.dataSource.query(`SELECT payload FROM webhook_deliveries WHERE id IN ($1, $2)`, [newest!.id, again.id])) as {
      payload: unknown;
    }[];
    expect(rows[0]!.payload).toEqual(rows[1]!.payload);
    expect((await admin().listWebhookDeliveries({ endpointId: e.id })).deliveries).toHaveLength(4);

    await expectConnectError(admin().redeliverWebhook({ deliveryId: '999999999' }), Code.NotFound, 'WEBHOOK_DELIVERY_NOT_FOUND');
    await expectConnectError(admin().redeliverWebhook({ deliveryId: 'abc' }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(admin().redeliverWebhook({ deliveryId: '1'.repeat(40) }), Code.InvalidArgument, 'INVALID_FIELD');
    await admin().deleteWebhookEndpoint({ endpointId: e.id });
  });

  it('a project sees only its own endpoints and deliveries; only admin keys may call', async () => {
    const mine = (await admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/mine' } })).endpoint!;
    await nexus.app.database.dataSource.query(
      `INSERT INTO webhook_deliveries (project_id, endpoint_id, message_id, connection_id, event_id, event_type, payload, status)
       VALUES ($1, $2, 'msg_iso', 'conn_x', 1, 'connection.active', '{}', 'succeeded')`,
      [DEFAULT_PROJECT_ID, mine.id],
    );
    const [delivery] = (await admin().listWebhookDeliveries({ endpointId: mine.id })).deliveries;

    const gov = governanceClients(nexus.baseUrl, ADMIN_KEY);
    const project = (await gov.projects.createProject({ project: { name: `webhooks-other-${backend}` } })).project!;
    const otherKey = (await gov.apiKeys.createApiKey({ projectId: project.id, name: 'admin', scopes: [ApiKeyScope.ADMIN] })).secret;
    const other = webhookClient(nexus.baseUrl, otherKey);
    expect((await other.listWebhookEndpoints({})).endpoints).toEqual([]);
    await expectConnectError(other.getWebhookEndpoint({ endpointId: mine.id }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
    await expectConnectError(other.updateWebhookEndpoint({ endpoint: { id: mine.id, description: 'x' } }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
    await expectConnectError(other.rotateWebhookSecret({ endpointId: mine.id }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
    await expectConnectError(other.listWebhookDeliveries({ endpointId: mine.id }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
    await expectConnectError(other.redeliverWebhook({ deliveryId: delivery!.id }), Code.NotFound, 'WEBHOOK_DELIVERY_NOT_FOUND');
    await expectConnectError(other.deleteWebhookEndpoint({ endpointId: mine.id }), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
    // Its own endpoint is its own.
    const theirs = (await other.createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/theirs' } })).endpoint!;
    expect(theirs.projectId).toBe(project.id);
    expect((await admin().listWebhookEndpoints({})).endpoints.map((e) => e.id)).not.toContain(theirs.id);
    // Still there after the other project's attempts.
    expect((await admin().getWebhookEndpoint({ endpointId: mine.id })).endpoint!.description).toBe('');

    // A connections/tokens key is refused; no key at all is unauthenticated.
    const weakKey = (await gov.apiKeys.createApiKey({ name: 'weak', scopes: [ApiKeyScope.CONNECTIONS, ApiKeyScope.TOKENS] })).secret;
    await expectConnectError(webhookClient(nexus.baseUrl, weakKey).listWebhookEndpoints({}), Code.PermissionDenied, 'SCOPE_MISSING');
    await expectConnectError(webhookClient(nexus.baseUrl).listWebhookEndpoints({}), Code.Unauthenticated, 'UNAUTHENTICATED');
    await admin().deleteWebhookEndpoint({ endpointId: mine.id });
  });

  it('key rotation re-seals the webhook secrets, which then open without the old key', async () => {
    const created = await admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/reseal' } });
    const id = created.endpoint!.id;
    const rotated = await admin().rotateWebhookSecret({ endpointId: id });
    const ring2 = nexus.config.keyRing.withNewPrimary('k2');
    const report = await resealAll(nexus.app.store, ring2);
    expect(report.webhookSecrets).toBeGreaterThanOrEqual(2); // this endpoint's two, and any other project's
    expect((await resealAll(nexus.app.store, ring2)).webhookSecrets).toBe(0);
    const row = (await nexus.app.store.webhooks.findById(DEFAULT_PROJECT_ID, id))!;
    expect(row.secrets.map((s) => keyIdOf(s.sealed))).toEqual(['k2', 'k2']);
    expect(liveWebhookSecrets(ring2.withoutKey(nexus.config.keyRing.primary.id), row, now)).toEqual([created.secret, rotated.secret]);
    // A sealed secret copied to another endpoint does not open there (the AAD names the endpoint).
    const other = await admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/copy' } });
    const copy = { ...(await nexus.app.store.webhooks.findById(DEFAULT_PROJECT_ID, other.endpoint!.id))!, secrets: row.secrets };
    expect(() => liveWebhookSecrets(ring2, copy, now)).toThrow(/no secret that opens/);
    await admin().deleteWebhookEndpoint({ endpointId: id });
    await admin().deleteWebhookEndpoint({ endpointId: other.endpoint!.id });
  });
});

import { Code } from '@connectrpc/connect';
import { beforeEach, describe, expect, it } from 'vitest';
import { WebhookService as WebhookServiceDesc } from '../../../gen/ts/nexus/v1/webhook_pb.js';
import { KeyRing } from '../../../src/crypto/index.js';
import { ApiKeys } from '../../../src/domain/access/api-keys.js';
import { OutboundPolicy, type Resolver } from '../../../src/domain/outbound/outbound-policy.js';
import { liveWebhookSecrets } from '../../../src/domain/webhooks/secrets.js';
import { WebhookService } from '../../../src/domain/webhooks/webhook-service.js';
import { WebhookHandler } from '../../../src/transport/handlers/webhook-handler.js';
import { bearer, routeClient } from '../../support/admin-router.js';
import { expectConnectError } from '../../support/errors.js';
import { fakePersistence, type FakePersistence } from '../../support/fake-persistence.js';

// WebhookService's routes over createRouterTransport with in-memory ports and
// a clock the tests move: validation, the secret shown once, the rotation's
// overlap by the clock, update masks, and the refusals of each RPC. (The
// outbox, deliveries and both databases: test/integration/webhooks-*.test.ts.)

const resolver: Resolver = async (hostname) => [{ address: hostname === 'inside.test' ? '10.0.0.7' : '93.184.216.34', family: 4 }];

describe('WebhookService routes over fake ports', () => {
  let store: FakePersistence;
  let now: number;
  let ring: KeyRing;
  let admin: string;
  let tokensOnly: string;
  let client: ReturnType<typeof routeClient<typeof WebhookServiceDesc>>;
  const secretsAt = async (id: string) => liveWebhookSecrets(ring, (await store.webhooks.findById('prj_acme', id))!, now);

  beforeEach(async () => {
    now = Date.parse('2026-12-01T00:00:00Z');
    store = fakePersistence(() => now);
    await store.projects.ensure('prj_acme', 'acme');
    const apiKeys = new ApiKeys(store, () => now);
    admin = (await apiKeys.create('prj_acme', 'admin', ['admin'])).key;
    tokensOnly = (await apiKeys.create('prj_acme', 'agent', ['tokens', 'connections'])).key;
    ring = KeyRing.generate('k1');
    const policy = new OutboundPolicy({ production: false, allowedHosts: [], resolver });
    client = routeClient(WebhookServiceDesc, new WebhookHandler(new WebhookService(store, ring, policy, { clock: () => now })), apiKeys);
  });

  it('creates with a secret shown once; the stored row holds it sealed', async () => {
    const { endpoint, secret } = await client.createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/a', disabled: true } }, bearer(admin));
    expect(endpoint).toMatchObject({ projectId: 'prj_acme', url: 'https://hooks.example.com/a', disabled: true, eventTypes: [] });
    expect(JSON.stringify(await store.webhooks.listAll())).not.toContain(secret.slice(6));
    expect(await secretsAt(endpoint!.id)).toEqual([secret]);
  });

  it('refuses bad input with the field and reason, before storing anything', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: '' }, 'INVALID_FIELD'],
      [{ url: 'https://inside.test/x' }, 'URL_NOT_ALLOWED'],
      [{ url: 'http://hooks.example.com/x' }, 'URL_NOT_ALLOWED'],
      [{ url: 'https://hooks.example.com/x', eventTypes: ['connection.nope'] }, 'INVALID_FIELD'],
      [{ url: 'https://hooks.example.com/x', eventTypes: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'INVALID_FIELD'],
      [{ url: 'https://hooks.example.com/x', description: 'd'.repeat(501) }, 'INVALID_FIELD'],
    ];
    for (const [endpoint, reason] of cases) await expectConnectError(client.createWebhookEndpoint({ endpoint }, bearer(admin)), Code.InvalidArgument, reason);
    expect(await store.webhooks.listAll()).toEqual([]);
    await expectConnectError(client.listWebhookEndpoints({}, bearer(tokensOnly)), Code.PermissionDenied, 'SCOPE_MISSING');
  });

  it('updates only what the mask (or, without one, the request) sets', async () => {
    const { endpoint } = await client.createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/a', description: 'one' } }, bearer(admin));
    const id = endpoint!.id;
    const implied = (await client.updateWebhookEndpoint({ endpoint: { id, eventTypes: ['connection.deleted'] } }, bearer(admin))).endpoint!;
    expect(implied).toMatchObject({ url: 'https://hooks.example.com/a', description: 'one', eventTypes: ['connection.deleted'], disabled: false });
    const masked = (
      await client.updateWebhookEndpoint(
        { endpoint: { id, description: '', eventTypes: [] }, updateMask: { paths: ['description', 'event_types'] } },
        bearer(admin),
      )
    ).endpoint!;
    expect(masked).toMatchObject({ description: '', eventTypes: [] });
    await expectConnectError(
      client.updateWebhookEndpoint({ endpoint: { id }, updateMask: { paths: ['project_id'] } }, bearer(admin)),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  it('keeps the previous secret signing for the overlap, by the clock', async () => {
    const { endpoint, secret: first } = await client.createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/a' } }, bearer(admin));
    const id = endpoint!.id;
    const { secret: second, endpoint: rotated } = await client.rotateWebhookSecret({ endpointId: id, overlap: { seconds: 600n } }, bearer(admin));
    expect(rotated!.secrets.map((s) => s.expireTime?.seconds)).toEqual([BigInt((now + 600_000) / 1000), undefined]);
    expect(await secretsAt(id)).toEqual([first, second]);
    now += 599_999;
    expect(await secretsAt(id)).toEqual([first, second]);
    now += 1;
    expect(await secretsAt(id)).toEqual([second]);
    expect((await client.getWebhookEndpoint({ endpointId: id }, bearer(admin))).endpoint!.secrets).toHaveLength(1);
    await expectConnectError(client.rotateWebhookSecret({ endpointId: id, overlap: { seconds: -1n } }, bearer(admin)), Code.InvalidArgument, 'INVALID_FIELD');
  });

  it("answers NOT_FOUND for an endpoint that is missing or another project's", async () => {
    await store.projects.ensure('prj_other', 'other');
    const foreign = await store.webhooks.insert({
      id: 'whep_foreign',
      projectId: 'prj_other',
      url: 'https://x.example',
      description: '',
      eventTypes: [],
      enabled: true,
      secrets: [],
    });
    for (const endpointId of ['whep_missing', foreign.id]) {
      await expectConnectError(client.getWebhookEndpoint({ endpointId }, bearer(admin)), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
      await expectConnectError(client.deleteWebhookEndpoint({ endpointId }, bearer(admin)), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
      await expectConnectError(client.rotateWebhookSecret({ endpointId }, bearer(admin)), Code.NotFound, 'WEBHOOK_ENDPOINT_NOT_FOUND');
      await expectConnectError(
        client.updateWebhookEndpoint({ endpoint: { id: endpointId, description: 'x' } }, bearer(admin)),
        Code.NotFound,
        'WEBHOOK_ENDPOINT_NOT_FOUND',
      );
    }
    expect((await store.webhooks.findById('prj_other', foreign.id))!.description).toBe('');
    await expectConnectError(client.redeliverWebhook({ deliveryId: '0' }, bearer(admin)), Code.InvalidArgument, 'INVALID_FIELD');
  });
});

// Attacks on webhook endpoints: a URL aimed inside the network is refused when
// written (INVALID_ARGUMENT, URL_NOT_ALLOWED, saying why) and nothing is
// stored; a signing secret appears once, in the create or rotate response,
// and never in a list, a get, a log line or the audit log; one project's
// admin key cannot see, change, rotate or redeliver another project's.
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../../gen/ts/nexus/v1/api_key_pb.js';
import type { Resolver } from '../../src/domain/outbound/outbound-policy.js';
import { DEFAULT_PROJECT_ID } from '../../src/domain/model/project.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, governanceClients, startTestApp, webhookClient, type TestApp } from '../support/test-app.js';

// Made-up names: one resolves inside the network, one outside.
const resolver: Resolver = async (hostname) => {
  if (hostname === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  if (hostname === 'inside.attacker.test') return [{ address: '10.1.2.3', family: 4 }];
  if (hostname === 'metadata.attacker.test') return [{ address: '169.254.169.254', family: 4 }];
  if (hostname === 'mixed.attacker.test')
    return [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
  if (hostname === 'hooks.example.com') return [{ address: '93.184.216.34', family: 4 }];
  throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

const text = (m: unknown) => JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));

describe.each(BACKENDS)('webhook endpoints under attack (%s)', (backend) => {
  let nexus: TestApp;
  const admin = () => webhookClient(nexus.baseUrl, ADMIN_KEY);

  beforeAll(async () => {
    nexus = await startTestApp({ backend, outboundResolver: resolver });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it.each([
    ['https://127.0.0.1/hook', /loopback/],
    ['https://127.1/hook', /loopback/],
    ['https://2130706433/hook', /loopback/], // decimal 127.0.0.1
    ['https://0x7f000001/hook', /loopback/], // hexadecimal
    ['https://017700000001/hook', /loopback/], // octal
    ['https://[::1]/hook', /loopback/],
    ['https://[::ffff:127.0.0.1]/hook', /IPv4-mapped/],
    ['https://169.254.169.254/latest/meta-data/', /metadata/],
    ['https://10.0.0.5/hook', /private/],
    ['https://192.168.1.1/hook', /private/],
    ['https://100.64.0.1/hook', /carrier-grade NAT/],
    ['https://0.0.0.0/hook', /unspecified/],
    ['https://[fd00::1]/hook', /unique-local/],
    ['https://localhost/hook', /loopback/],
    ['https://inside.attacker.test/hook', /private/],
    ['https://metadata.attacker.test/hook', /metadata/],
    ['https://mixed.attacker.test/hook', /loopback/],
    ['http://hooks.example.com/hook', /https/],
    ['https://user:secret@hooks.example.com/hook', /credentials/],
    ['file:///etc/passwd', /https/],
    ['gopher://hooks.example.com/', /https/],
  ])('refuses %s when written, saying why, and stores nothing', async (url, why) => {
    const err = await expectConnectError(admin().createWebhookEndpoint({ endpoint: { url } }), Code.InvalidArgument, 'URL_NOT_ALLOWED');
    expect(err.rawMessage).toMatch(why);
    expect(err.rawMessage).toContain('endpoint.url');
    expect((await admin().listWebhookEndpoints({})).endpoints).toEqual([]);
  });

  it('refuses the same targets on update, leaving the endpoint as it was', async () => {
    const e = (await admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/hook' } })).endpoint!;
    for (const url of ['https://169.254.169.254/', 'https://[::1]:8443/', 'https://2130706433/', 'https://inside.attacker.test/']) {
      await expectConnectError(
        admin().updateWebhookEndpoint({ endpoint: { id: e.id, url }, updateMask: { paths: ['url'] } }),
        Code.InvalidArgument,
        'URL_NOT_ALLOWED',
      );
    }
    expect((await admin().getWebhookEndpoint({ endpointId: e.id })).endpoint!.url).toBe('https://hooks.example.com/hook');
    await admin().deleteWebhookEndpoint({ endpointId: e.id });
  });

  it('shows a secret only in the create and rotate responses: never in get, list, logs or the audit log', async () => {
    const created = await admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/secret' } });
    const rotated = await admin().rotateWebhookSecret({ endpointId: created.endpoint!.id });
    const secrets = [created.secret, rotated.secret];
    for (const s of secrets) expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const shown = [
      text(await admin().getWebhookEndpoint({ endpointId: created.endpoint!.id })),
      text(await admin().listWebhookEndpoints({})),
      text(rotated.endpoint),
      text(created.endpoint),
    ].join('\n');
    // Flush the audit buffer, then read every row of the project's log.
    await nexus.app.audit.flush();
    const audit = text(await nexus.app.database.dataSource.query(`SELECT * FROM audit_events WHERE project_id = $1`, [DEFAULT_PROJECT_ID]));
    const stored = text(await nexus.app.database.dataSource.query(`SELECT * FROM webhook_endpoints`));
    const logs = nexus.logs.join('\n');
    for (const s of secrets) {
      const key = s.slice('whsec_'.length);
      for (const [where, haystack] of Object.entries({ shown, audit, logs, stored })) {
        expect(haystack.includes(key), `${where} holds a secret`).toBe(false);
        expect(haystack.includes(key.slice(0, 16)), `${where} holds part of a secret`).toBe(false);
      }
    }
    // Audited with the endpoint as target (create: from the response; rotate and update: from the request).
    await admin().updateWebhookEndpoint({ endpoint: { id: created.endpoint!.id, description: 'audited' } });
    await nexus.app.audit.flush();
    const targets = (await nexus.app.database.dataSource.query(
      `SELECT action, target_type, target_id FROM audit_events WHERE project_id = $1 AND action LIKE 'webhook.%' AND target_id = $2 ORDER BY seq`,
      [DEFAULT_PROJECT_ID, created.endpoint!.id],
    )) as { action: string; target_type: string }[];
    expect(targets.map((t) => `${t.action} ${t.target_type}`).sort()).toEqual([
      'webhook.create_endpoint webhook_endpoint',
      'webhook.read_endpoint webhook_endpoint',
      'webhook.rotate_secret webhook_endpoint',
      'webhook.update_endpoint webhook_endpoint',
    ]);
    await admin().deleteWebhookEndpoint({ endpointId: created.endpoint!.id });
  });

  it("another project's endpoints and deliveries are invisible and untouchable", async () => {
    const mine = (await admin().createWebhookEndpoint({ endpoint: { url: 'https://hooks.example.com/mine', description: 'mine' } })).endpoint!;
    const [delivery] = (await nexus.app.database.dataSource.query(
      `INSERT INTO webhook_deliveries (project_id, endpoint_id, message_id, connection_id, event_id, event_type, payload, status)
       VALUES ($1, $2, 'msg_attack', 'conn_x', 1, 'connection.active', '{}', 'dead') RETURNING id::text`,
      [DEFAULT_PROJECT_ID, mine.id],
    )) as { id: string }[];
    const gov = governanceClients(nexus.baseUrl, ADMIN_KEY);
    const project = (await gov.projects.createProject({ project: { name: `hooks-attacker-${backend}` } })).project!;
    const key = (await gov.apiKeys.createApiKey({ projectId: project.id, name: 'attacker', scopes: [ApiKeyScope.ADMIN] })).secret;
    const attacker = webhookClient(nexus.baseUrl, key);

    expect((await attacker.listWebhookEndpoints({})).endpoints).toEqual([]);
    const notFound = 'WEBHOOK_ENDPOINT_NOT_FOUND';
    await expectConnectError(attacker.getWebhookEndpoint({ endpointId: mine.id }), Code.NotFound, notFound);
    await expectConnectError(attacker.updateWebhookEndpoint({ endpoint: { id: mine.id, url: 'https://hooks.example.com/stolen' } }), Code.NotFound, notFound);
    await expectConnectError(attacker.rotateWebhookSecret({ endpointId: mine.id }), Code.NotFound, notFound);
    await expectConnectError(attacker.listWebhookDeliveries({ endpointId: mine.id }), Code.NotFound, notFound);
    await expectConnectError(attacker.deleteWebhookEndpoint({ endpointId: mine.id }), Code.NotFound, notFound);
    await expectConnectError(attacker.redeliverWebhook({ deliveryId: delivery!.id }), Code.NotFound, 'WEBHOOK_DELIVERY_NOT_FOUND');
    // A page token of this project's list does not open the other's.
    const page = await admin().listWebhookEndpoints({ pageSize: 1 });
    if (page.nextPageToken)
      await expectConnectError(attacker.listWebhookEndpoints({ pageToken: page.nextPageToken }), Code.InvalidArgument, 'PAGE_TOKEN_INVALID');

    // Nothing changed: same URL, one secret, one delivery.
    const after = (await admin().getWebhookEndpoint({ endpointId: mine.id })).endpoint!;
    expect(after).toMatchObject({ url: 'https://hooks.example.com/mine', description: 'mine' });
    expect(after.secrets).toHaveLength(1);
    expect((await admin().listWebhookDeliveries({ endpointId: mine.id })).deliveries.map((d) => d.id)).toEqual([delivery!.id]);
    await admin().deleteWebhookEndpoint({ endpointId: mine.id });
  });
});

// The webhook outbox: deliveries are written in the transaction that records
// the connection event (same commit, or none), one per enabled endpoint whose
// filter takes the event, on both databases.
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/crypto/index.js';
import { DEFAULT_PROJECT_ID } from '../../src/domain/model/project.js';
import { viewOf } from '../../src/domain/connections/connection-events.js';
import { connectViaConsent } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  message_id: string;
  connection_id: string;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  status: string;
  attempts: number;
  xmin: string;
}

describe.each(BACKENDS)('webhook outbox (%s)', (backend) => {
  let nexus: TestApp;
  let admin: Clients;
  let anon: Clients;
  let auth: TestAuthServer;
  const endpoint = (eventTypes: string[], enabled = true, projectId = DEFAULT_PROJECT_ID) =>
    nexus.app.store.webhooks.insert({ id: newId('whep'), projectId, url: 'https://hooks.example.com/in', description: '', eventTypes, enabled, secrets: [] });
  const deliveries = async (connectionId: string): Promise<DeliveryRow[]> =>
    (await nexus.app.database.dataSource.query(
      `SELECT id::text, endpoint_id, message_id, connection_id, event_id::text, event_type, payload, status, attempts, xmin::text
         FROM webhook_deliveries WHERE connection_id = $1 ORDER BY id`,
      [connectionId],
    )) as DeliveryRow[];

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    anon = clients(nexus.baseUrl);
    await admin.providers.createProvider({ provider: apiKeyProvider() });
    await admin.providers.createProvider({ provider: oauthProvider(auth) });
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
  });

  it('a connection becoming ACTIVE queues one delivery per matching endpoint, in the event commit', async () => {
    const wantsActive = await endpoint(['connection.active']);
    const wantsRevoked = await endpoint(['connection.revoked']); // filtered out
    const disabled = await endpoint([], false); // every event, but disabled

    const created = await admin.connections.createConnection({
      workspaceId: 'ws-outbox',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    const id = created.connection!.id;
    // CREATED matches no endpoint: nothing queued yet.
    expect(await deliveries(id)).toEqual([]);

    await anon.connections.submitCredentials({ state: created.state, credentials: { api_key: 'ak_outbox_secret_value_1234' } });
    const rows = await deliveries(id);
    expect(rows).toHaveLength(1);
    const [d] = rows as [DeliveryRow];
    expect(d).toMatchObject({ endpoint_id: wantsActive.id, connection_id: id, event_type: 'connection.active', status: 'pending', attempts: 0 });
    expect(d.message_id).toBe(`msg_${d.event_id}_${wantsActive.id}`);
    expect(d.payload).toMatchObject({
      type: 'connection.active',
      data: { id, project_id: DEFAULT_PROJECT_ID, workspace_id: 'ws-outbox', provider_name: 'acme-api', status: 'ACTIVE' },
    });
    expect(Number.isNaN(Date.parse(String(d.payload.timestamp)))).toBe(false);
    // No credential, no return URL, nothing beyond the documented snapshot.
    expect(JSON.stringify(d.payload)).not.toContain('ak_outbox_secret_value_1234');
    expect(Object.keys(d.payload.data as object).sort()).toEqual(
      ['created_at', 'id', 'project_id', 'provider_id', 'provider_name', 'scopes', 'status', 'status_reason', 'updated_at', 'workspace_id'].sort(),
    );

    // The same commit as the event: both rows carry the writing transaction's id.
    const events = (await nexus.app.database.dataSource.query(`SELECT id::text, type, xmin::text FROM connection_events WHERE id = $1`, [d.event_id])) as {
      id: string;
      type: string;
      xmin: string;
    }[];
    expect(events).toEqual([{ id: d.event_id, type: 'ACTIVE', xmin: d.xmin }]);
    expect([wantsRevoked.id, disabled.id]).not.toContain(d.endpoint_id);

    // An endpoint with an empty filter takes every event: deleting the connection reaches it and the 'revoked'-only one does not.
    const everything = await endpoint([]);
    await admin.connections.deleteConnection({ connectionId: id });
    const after = await deliveries(id);
    expect(after.slice(1).map((r) => [r.endpoint_id, r.event_type])).toEqual([[everything.id, 'connection.deleted']]);
    for (const e of [wantsActive, wantsRevoked, disabled, everything]) await nexus.app.store.webhooks.delete(DEFAULT_PROJECT_ID, e.id);
  });

  it('a rolled-back change queues nothing', async () => {
    const e = await endpoint([]);
    const created = await admin.connections.createConnection({
      workspaceId: 'ws-rollback',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    const id = created.connection!.id;
    const queued = await deliveries(id);
    expect(queued.map((r) => r.event_type)).toEqual(['connection.created']);

    const { store, events } = nexus.app;
    const [createdEvent] = await store.events.listAfter({ projectId: DEFAULT_PROJECT_ID, connectionId: id }, '0', 1);
    const view = viewOf(createdEvent!.connection);
    await expect(
      store.transaction(async (tx) => {
        await events.publish(tx, 'ACTIVE', { ...view, status: 'ACTIVE' });
        // Inside the transaction the delivery exists...
        const inside = (await tx.query(`SELECT 1 FROM webhook_deliveries WHERE connection_id = $1 AND event_type = 'connection.active'`, [id])) as unknown[];
        expect(inside).toHaveLength(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    // ...and after the rollback neither it nor the event does.
    expect((await deliveries(id)).map((r) => r.event_type)).toEqual(['connection.created']);
    const activeEvents = (await nexus.app.database.dataSource.query(`SELECT 1 FROM connection_events WHERE connection_id = $1 AND type = 'ACTIVE'`, [
      id,
    ])) as unknown[];
    expect(activeEvents).toEqual([]);
    await store.webhooks.delete(DEFAULT_PROJECT_ID, e.id);
  });

  it("another project's endpoints get nothing of this project's events", async () => {
    const project = (await nexus.app.store.projects.insert({ id: newId('prj'), name: `outbox-other-${backend}` }))!;
    const foreign = await endpoint([], true, project.id);
    const created = await admin.connections.createConnection({
      workspaceId: 'ws-iso',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    await anon.connections.submitCredentials({ state: created.state, credentials: { api_key: 'ak_outbox_secret_value_5678' } });
    const rows = (await nexus.app.database.dataSource.query(`SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1`, [foreign.id])) as unknown[];
    expect(rows).toEqual([]);
  });

  it('deleting an endpoint deletes its deliveries', async () => {
    const e = await endpoint([]);
    const created = await admin.connections.createConnection({
      workspaceId: 'ws-cascade',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    expect(await deliveries(created.connection!.id)).toHaveLength(1);
    expect(await nexus.app.store.webhooks.delete(DEFAULT_PROJECT_ID, e.id)).toBe(true);
    expect(await deliveries(created.connection!.id)).toEqual([]);
  });

  it('a refresh that fails without changing the status queues connection.refresh_failed, once per attempt', async () => {
    const e = await endpoint(['connection.refresh_failed']);
    const { result } = await connectViaConsent(auth, admin, 'ws-refresh-failed');
    const id = new URL(result.location!).searchParams.get('connection_id')!;
    expect(await deliveries(id)).toEqual([]);
    auth.refreshMode = 'server_error';
    try {
      await expectConnectError(admin.tokens.refreshToken({ connectionId: id }), Code.Unavailable, 'PROVIDER_UNAVAILABLE');
      await expectConnectError(admin.tokens.refreshToken({ connectionId: id }), Code.Unavailable, 'PROVIDER_UNAVAILABLE');
    } finally {
      auth.refreshMode = 'ok';
    }
    const rows = await deliveries(id);
    expect(rows.map((r) => [r.endpoint_id, r.event_type, r.event_id, r.status])).toEqual([
      [e.id, 'connection.refresh_failed', '0', 'pending'],
      [e.id, 'connection.refresh_failed', '0', 'pending'],
    ]);
    expect(rows[0]!.message_id).toMatch(new RegExp(`^msg_rf_[0-9a-f-]{36}_${e.id}$`));
    expect(rows[0]!.message_id).not.toBe(rows[1]!.message_id);
    expect(rows[0]!.payload).toMatchObject({ type: 'connection.refresh_failed', data: { id, status: 'ACTIVE' } });
    // A refresh that works queues nothing more.
    await admin.tokens.refreshToken({ connectionId: id });
    expect(await deliveries(id)).toHaveLength(2);
    await nexus.app.store.webhooks.delete(DEFAULT_PROJECT_ID, e.id);
  });
});

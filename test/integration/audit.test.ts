import { Code, createClient, type Client } from '@connectrpc/connect';
import { AuditOutcome, AuditService } from '../../gen/ts/nexus/v1/audit_pb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../../gen/ts/nexus/v1/api_key_pb.js';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { verifyAudit } from '../../src/cli/audit.js';
import { registerClient, signInUser } from '../support/auth-flows.js';
import { connectViaConsent } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { oauthProvider } from '../support/fixtures.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, authClients, clients, governanceClients, startTestApp, transport, type Clients, type TestApp } from '../support/test-app.js';

interface Row {
  project_id: string;
  seq: string;
  actor_kind: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  outcome: string;
  reason: string;
  client_ip: string;
  request_id: string;
}

describe.each(BACKENDS)('audit log (%s)', (backend) => {
  let nexus: TestApp;
  let admin: Clients;
  let anon: Clients;
  let audit: Client<typeof AuditService>;
  const rows = async (): Promise<Row[]> => {
    await nexus.app.audit.flush();
    return nexus.app.database.dataSource.query('SELECT * FROM audit_events ORDER BY project_id, seq');
  };

  let oauth: TestAuthServer;

  beforeAll(async () => {
    // Started first: the app allows its loopback address as an outbound host.
    oauth = await TestAuthServer.start();
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    anon = clients(nexus.baseUrl);
    audit = createClient(AuditService, transport(nexus.baseUrl, 'connect', ADMIN_KEY));
  });
  afterAll(async () => {
    await nexus?.close();
    await oauth?.stop();
  });

  it('records an admin change before the call returns, and a credential read with IP and request id', async () => {
    await admin.providers.createProvider({ provider: apiKeyProvider() });
    // Written synchronously: visible without a flush.
    const direct: Row[] = await nexus.app.database.dataSource.query(`SELECT * FROM audit_events WHERE action = 'provider.create'`);
    expect(direct).toHaveLength(1);
    // NEXUS_ADMIN_API_KEY is the installation operator (the `operator` scope).
    expect(direct[0]).toMatchObject({ actor_kind: 'operator', outcome: 'success', target_type: 'provider' });

    const created = await admin.connections.createConnection({
      workspaceId: 'ws-audit',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    await anon.connections.submitCredentials({ state: created.state, credentials: { api_key: 'audit-secret-value-1' } });
    const id = created.connection!.id;
    await admin.tokens.getToken({ connectionId: id });
    const read = (await rows()).filter((r) => r.action === 'token.read');
    expect(read).toHaveLength(1);
    expect(read[0]).toMatchObject({ target_type: 'connection', target_id: id, outcome: 'success', client_ip: '127.0.0.1' });
    // A UUID: unique across replicas and restarts (fastify's default req-N is not).
    expect(read[0]!.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const all = await rows();
    expect(all.find((r) => r.action === 'connection.create')).toMatchObject({ target_type: 'connection', target_id: id });
    // The capture page's submit (no API key: the state is the authority) is recorded by its handler.
    expect(all.find((r) => r.action === 'connection.submit_credentials')).toMatchObject({
      target_id: id,
      actor_kind: 'system',
      client_ip: '127.0.0.1',
      outcome: 'success',
    });
    // Never a secret.
    expect(JSON.stringify(all)).not.toContain('audit-secret-value-1');
  });

  it('records a refusal with its reason, and verifies', async () => {
    await expectConnectError(admin.tokens.getToken({ connectionId: 'conn_doesnotexist' }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    const failed = (await rows()).filter((r) => r.action === 'token.read' && r.outcome !== 'success');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ outcome: 'failed', reason: 'CONNECTION_NOT_FOUND', target_id: 'conn_doesnotexist' });
    const results = await nexus.app.auditReader.verify();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: true });
  });

  it('lists with filters and pages', async () => {
    for (let i = 0; i < 5; i++)
      nexus.app.audit.record({
        projectId: 'prj_default',
        actor: { kind: 'system' },
        action: 'connection.refresh_failed',
        target: { type: 'connection', id: `conn_p${i}` },
        outcome: 'failed',
        reason: 'PROVIDER_UNAVAILABLE',
      });
    await nexus.app.audit.flush();
    const first = await audit.listAuditEvents({ action: 'connection.refresh_failed', pageSize: 2 });
    expect(first.events.map((e) => e.targetId)).toEqual(['conn_p0', 'conn_p1']);
    const second = await audit.listAuditEvents({ action: 'connection.refresh_failed', pageSize: 2, pageToken: first.nextPageToken });
    expect(second.events.map((e) => e.targetId)).toEqual(['conn_p2', 'conn_p3']);
    await expectConnectError(
      audit.listAuditEvents({ action: 'token.read', pageSize: 2, pageToken: first.nextPageToken }),
      Code.InvalidArgument,
      'PAGE_TOKEN_INVALID',
    );
    const byPrefix = await audit.listAuditEvents({ action: 'token.', outcome: AuditOutcome.FAILED });
    expect(byPrefix.events.map((e) => e.reason)).toEqual(['CONNECTION_NOT_FOUND']);
    const byTarget = await audit.listAuditEvents({ targetId: 'conn_p4' });
    expect(byTarget.events).toHaveLength(1);
    expect(byTarget.events[0]!.actor?.kind).toBe('system');
    const future = await audit.listAuditEvents({ startTime: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 } });
    expect(future.events).toHaveLength(0);
  });

  it('streams the backlog then live events, and resumes after a seq without gaps or duplicates', async () => {
    await nexus.app.audit.flush();
    const [head] = await nexus.app.store.audit.heads('prj_default');
    const ctrl = new AbortController();
    const seen: { seq: bigint; action: string }[] = [];
    const stream = audit.watchAuditEvents({ afterSeq: BigInt(head!.seq - 2) }, { signal: ctrl.signal });
    const reading = (async () => {
      try {
        for await (const res of stream) {
          if (res.kind.case === 'event') seen.push({ seq: res.kind.value.seq, action: res.kind.value.action });
          if (seen.filter((e) => e.action === 'test.live').length === 2) ctrl.abort();
        }
      } catch {
        // aborted
      }
    })();
    // Two of the backlog, then live ones (the stream's own audit.watch event among them).
    await new Promise((r) => setTimeout(r, 300));
    nexus.app.audit.record({ projectId: 'prj_default', actor: { kind: 'system' }, action: 'test.live', outcome: 'success' });
    nexus.app.audit.record({ projectId: 'prj_default', actor: { kind: 'system' }, action: 'test.live', outcome: 'success' });
    await nexus.app.audit.flush();
    await reading;
    const from = BigInt(head!.seq - 1);
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => from + BigInt(i)));
    expect(seen.length).toBeGreaterThanOrEqual(4);
    // Resume after the second: the rest again, once each, in order.
    const resumed: bigint[] = [];
    const ctrl2 = new AbortController();
    try {
      for await (const res of audit.watchAuditEvents({ afterSeq: from + 1n }, { signal: ctrl2.signal })) {
        if (res.kind.case === 'event') resumed.push(res.kind.value.seq);
        if (resumed.length === seen.length - 2) ctrl2.abort();
      }
    } catch {
      // aborted
    }
    expect(resumed).toEqual(seen.slice(2).map((e) => e.seq));
    const [now] = await nexus.app.store.audit.heads('prj_default');
    await expectConnectError(
      (async () => {
        for await (const _ of audit.watchAuditEvents({ afterSeq: BigInt(now!.seq + 100) })) void _;
      })(),
      Code.InvalidArgument,
      'AUDIT_CURSOR_AHEAD',
    );
  });

  it('records end-user events: sign-in, token exchange, refresh-token reuse (from the domain), revoke', async () => {
    const client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
    const user = await signInUser(nexus.baseUrl, client);
    const headers = { authorization: client.basic };
    const anonAuth = authClients(nexus.baseUrl).auth;
    await anonAuth.exchangeToken({ grantType: 'refresh_token', refreshToken: user.refreshToken }, { headers });
    await expectConnectError(
      anonAuth.exchangeToken({ grantType: 'refresh_token', refreshToken: user.refreshToken }, { headers }),
      Code.InvalidArgument,
      'REFRESH_TOKEN_INVALID',
    );
    const all = await rows();
    const mine = all.filter((r) => r.actor_kind === 'end_user' && r.target_id === user.sessionId);
    expect(mine.map((r) => [r.action, r.outcome, r.reason])).toEqual([
      ['auth.sign_in', 'success', ''],
      ['auth.exchange_token', 'success', ''],
      ['auth.refresh_token_reuse', 'denied', 'REFRESH_TOKEN_INVALID'],
    ]);
    expect(mine[0]!.client_ip).toBe('127.0.0.1');
    expect(mine[0]!.actor_id).toBe(user.account!.id);
    // The admin change that registered the client is there too.
    expect(all.some((r) => r.action === 'client.create' && r.target_id === client.id)).toBe(true);
    // No token of the flow was recorded.
    const text = JSON.stringify(all);
    for (const secret of [user.refreshToken, user.accessToken, client.secret]) expect(text).not.toContain(secret);
  });

  it('records the OAuth callback (connection active) and the consent page', async () => {
    await admin.providers.createProvider({ provider: oauthProvider(oauth) });
    const { created } = await connectViaConsent(oauth, admin, 'ws-oauth-audit');
    const id = created.connection!.id;
    const events = (await rows()).filter((r) => r.target_id === id).map((r) => [r.action, r.outcome, r.actor_kind]);
    expect(events).toEqual([
      ['connection.create', 'success', 'operator'],
      ['connection.consent', 'success', 'system'],
      ['connection.callback', 'success', 'system'],
    ]);
  });

  it('a project admin reads its own project only; the operator reads any, and is recorded as the operator', async () => {
    const { projects, apiKeys } = governanceClients(nexus.baseUrl, ADMIN_KEY);
    const project = (await projects.createProject({ project: { name: 'audited' } })).project!;
    const created = await apiKeys.createApiKey({ projectId: project.id, name: 'admin', scopes: [ApiKeyScope.ADMIN] });
    const tenant = createClient(AuditService, transport(nexus.baseUrl, 'connect', created.secret));
    await clients(nexus.baseUrl, created.secret).providers.createProvider({ provider: apiKeyProvider({ name: 'tenant-api' }) });
    const own = await tenant.listAuditEvents({});
    expect(own.events.map((e) => [e.projectId, e.action])).toEqual([[project.id, 'provider.create']]);
    await expectConnectError(tenant.listAuditEvents({ projectId: 'prj_default' }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    const seen = await audit.listAuditEvents({ projectId: project.id });
    expect(seen.events.map((e) => e.action)).toEqual(['provider.create']);
    // The operator's own calls are recorded in the installation project, as the operator, with the target project.
    const rowsNow = await rows();
    expect(rowsNow.find((r) => r.action === 'project.create' && r.target_id === project.id)).toMatchObject({
      project_id: 'prj_default',
      actor_kind: 'operator',
    });
    expect(rowsNow.find((r) => r.action === 'api_key.create')).toMatchObject({ project_id: 'prj_default', target_type: 'api_key' });
  });

  it('records refusals of expired and revoked keys in their project, and unknown keys by their public prefix only', async () => {
    const { apiKeys } = governanceClients(nexus.baseUrl, ADMIN_KEY);
    const created = await apiKeys.createApiKey({ name: 'short-lived', scopes: [ApiKeyScope.TOKENS], ttl: { seconds: 3600n, nanos: 0 } });
    const id = created.apiKey!.id;
    await nexus.app.database.dataSource.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
    await expectConnectError(clients(nexus.baseUrl, created.secret).tokens.getToken({ connectionId: 'conn_x' }), Code.Unauthenticated, 'API_KEY_EXPIRED');
    const revoked = await apiKeys.createApiKey({ name: 'to-revoke', scopes: [ApiKeyScope.TOKENS] });
    await apiKeys.revokeApiKey({ keyId: revoked.apiKey!.id });
    // The caller learns nothing more than for an unknown key.
    await expectConnectError(clients(nexus.baseUrl, revoked.secret).tokens.getToken({ connectionId: 'conn_r' }), Code.Unauthenticated, 'UNAUTHENTICATED');
    const guessed = `nxs_Zq9X${'a'.repeat(39)}`;
    await expectConnectError(clients(nexus.baseUrl, guessed).tokens.getToken({ connectionId: 'conn_y' }), Code.Unauthenticated, 'UNAUTHENTICATED');
    const pasted = 'ghp_not_a_nexus_key_but_someones_secret';
    await expectConnectError(clients(nexus.baseUrl, pasted).tokens.getToken({ connectionId: 'conn_z' }), Code.Unauthenticated, 'UNAUTHENTICATED');
    const all = await rows();
    const pick = (r: Row) => [r.project_id, r.actor_kind, r.actor_id, r.action, r.outcome, r.reason, r.target_id];
    expect(all.filter((r) => r.actor_id === id).map(pick)).toEqual([['prj_default', 'api_key', id, 'token.read', 'denied', 'API_KEY_EXPIRED', 'conn_x']]);
    expect(all.filter((r) => r.target_id === 'conn_r').map(pick)).toEqual([
      ['prj_default', 'api_key', revoked.apiKey!.id, 'token.read', 'denied', 'UNAUTHENTICATED', 'conn_r'],
    ]);
    expect(all.filter((r) => r.target_id === 'conn_y').map(pick)).toEqual([
      ['prj_default', 'anonymous', 'nxs_Zq9X', 'token.read', 'denied', 'UNAUTHENTICATED', 'conn_y'],
    ]);
    expect(all.filter((r) => r.target_id === 'conn_z').map(pick)).toEqual([
      ['prj_default', 'anonymous', '', 'token.read', 'denied', 'UNAUTHENTICATED', 'conn_z'],
    ]);
    const states = await nexus.app.database.dataSource.query(
      `SELECT target_id, detail->>'key_state' AS state FROM audit_events WHERE target_id IN ('conn_x', 'conn_r', 'conn_y') ORDER BY target_id`,
    );
    expect(states).toEqual([
      { target_id: 'conn_r', state: 'revoked' },
      { target_id: 'conn_x', state: 'expired' },
      { target_id: 'conn_y', state: 'unknown' },
    ]);
    const text = JSON.stringify(all);
    for (const secret of [created.secret, revoked.secret, guessed, pasted, guessed.slice(0, 12)]) expect(text).not.toContain(secret);
  });

  it("records a client-authenticated AuthService refusal: in the client's project when it exists, never its secret", async () => {
    const { projects, apiKeys } = governanceClients(nexus.baseUrl, ADMIN_KEY);
    const tenant = (await projects.createProject({ project: { name: 'refusals-tenant' } })).project!;
    const tenantAdmin = (await apiKeys.createApiKey({ projectId: tenant.id, name: 'admin', scopes: [ApiKeyScope.ADMIN] })).secret;
    const client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL, { adminKey: tenantAdmin });
    const anonAuth = authClients(nexus.baseUrl).auth;
    const wrongSecret = 'definitely-not-the-client-secret';
    const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
    await expectConnectError(
      anonAuth.exchangeToken({ grantType: 'refresh_token', refreshToken: 'x' }, { headers: basic(client.id, wrongSecret) }),
      Code.Unauthenticated,
      'CLIENT_AUTHENTICATION_FAILED',
    );
    await expectConnectError(
      anonAuth.revoke({ token: 'x' }, { headers: basic('cli_NOSUCHCLIENT0000000000000', wrongSecret) }),
      Code.Unauthenticated,
      'CLIENT_AUTHENTICATION_FAILED',
    );
    const all = await rows();
    const pick = (r: Row) => [r.project_id, r.actor_kind, r.actor_id, r.action, r.outcome, r.reason, r.target_type, r.target_id];
    expect(all.filter((r) => r.project_id === tenant.id && r.action === 'auth.exchange_token').map(pick)).toEqual([
      [tenant.id, 'anonymous', client.id, 'auth.exchange_token', 'denied', 'CLIENT_AUTHENTICATION_FAILED', 'client', client.id],
    ]);
    expect(all.filter((r) => r.actor_id === 'cli_NOSUCHCLIENT0000000000000').map(pick)).toEqual([
      ['prj_default', 'anonymous', 'cli_NOSUCHCLIENT0000000000000', 'auth.revoke', 'denied', 'CLIENT_AUTHENTICATION_FAILED', '', ''],
    ]);
    expect(JSON.stringify(all)).not.toContain(wrongSecret);
    expect(JSON.stringify(all)).not.toContain(client.secret);
    expect(await verifyAudit(nexus.app, tenant.id)).toMatch(/^OK /);
  });
});

import { Code, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { ConnectionService, ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { ProviderService } from '../../gen/ts/nexus/v1/provider_pb.js';
import { TokenService } from '../../gen/ts/nexus/v1/token_pb.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { SERVICES } from '../../src/transport/access.js';
import { ApiKeyScope } from '../../gen/ts/nexus/v1/api_key_pb.js';
import { ADMIN_KEY, RETURN_URL, clients, governanceClients, startTestApp, type Clients, type TestApp, type TransportKind } from '../support/test-app.js';
import { user } from '../support/consent.js';

const FIELDS_SCHEMA = {
  type: 'object',
  required: ['subdomain'],
  additionalProperties: false,
  properties: { subdomain: { type: 'string', pattern: '^[a-z0-9-]+$' } },
};
const CAPTURED_KEY = 'ak_isolation_9b1e5f7d3c2a';
const OTHER_CAPTURED_KEY = 'ak_other_project_4d8c2b6e';

/** Clients that send the key with custom headers instead of `Authorization: Bearer`. */
function clientsWithHeaders(baseUrl: string, headers: Record<string, string>): Clients {
  const interceptor: Interceptor = (next) => (req) => {
    for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
    return next(req);
  };
  const t = createConnectTransport({ baseUrl, httpVersion: '1.1', interceptors: [interceptor] });
  return { providers: createClient(ProviderService, t), connections: createClient(ConnectionService, t), tokens: createClient(TokenService, t) };
}

describe.each(BACKENDS)('authorization and project isolation (%s)', (backend) => {
  let auth: TestAuthServer;
  let nexus: TestApp;
  let admin: Clients;
  let keys: { tokens: string; connections: string; other: string };
  /** Rows of the default project the other project must not see or touch. */
  let main: { staticId: string; pendingId: string; apiProviderId: string; oauthProviderId: string };
  let other: Clients;

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    const apiProvider = (await admin.providers.createProvider({ provider: apiKeyProvider() })).provider!;
    const oauth = (
      await admin.providers.createProvider({
        provider: oauthProvider(auth, { name: 'fields-oauth', postOauthFieldsSchema: FIELDS_SCHEMA }),
      })
    ).provider!;

    // An ACTIVE static connection...
    const captured = await admin.connections.createConnection({
      workspaceId: 'ws-main',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    await admin.connections.submitCredentials({ state: captured.state, credentials: { api_key: CAPTURED_KEY } });
    // ...and an OAuth connection waiting for its post-OAuth fields.
    const pending = await admin.connections.createConnection({
      workspaceId: 'ws-main',
      provider: { case: 'providerName', value: 'fields-oauth' },
      returnUrl: RETURN_URL,
    });
    const back = await user.fetch(await auth.consent(pending.authUrl));
    expect(new URL(back.headers.get('location')!).searchParams.get('status')).toBe('pending');
    main = { staticId: captured.connection!.id, pendingId: pending.connection!.id, apiProviderId: apiProvider.id, oauthProviderId: oauth.id };

    keys = {
      tokens: (await nexus.app.apiKeys.create('prj_default', 'agent', ['tokens'])).key,
      connections: (await nexus.app.apiKeys.create('prj_default', 'backend', ['connections'])).key,
      other: '',
    };
    await nexus.app.store.projects.ensure('prj_other', 'other');
    keys.other = (await nexus.app.apiKeys.create('prj_other', 'k', ['admin'])).key;
    other = clients(nexus.baseUrl, keys.other);
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
  });

  it('answers UNAUTHENTICATED without a key', async () => {
    const anon = clients(nexus.baseUrl);
    const { staticId, pendingId } = main;
    const calls: (() => Promise<unknown>)[] = [
      () => anon.connections.createConnection({ workspaceId: 'w', provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL }),
      () => anon.connections.getConnection({ connectionId: staticId }),
      () => anon.connections.listConnections({}),
      () => anon.connections.deleteConnection({ connectionId: staticId }),
      () => anon.connections.getPendingFields({ connectionId: pendingId }),
      () => anon.connections.finalizeConnection({ connectionId: pendingId, fields: { subdomain: 'anon' } }),
      () => anon.tokens.getToken({ connectionId: staticId }),
      () => anon.tokens.refreshToken({ connectionId: staticId }),
      () => anon.providers.createProvider({ provider: apiKeyProvider({ name: 'anon-made' }) }),
      () => anon.providers.updateProvider({ provider: { name: 'acme-api', displayName: 'anon' }, updateMask: { paths: ['display_name'] } }),
      () => anon.providers.deleteProvider({ provider: 'acme-api', force: true }),
    ];
    for (const call of calls) await expectConnectError(call(), Code.Unauthenticated, 'UNAUTHENTICATED');
    expect((await admin.connections.getConnection({ connectionId: staticId })).connection?.status).toBe(ConnectionStatus.ACTIVE);
    expect((await admin.connections.getConnection({ connectionId: pendingId })).connection?.status).toBe(ConnectionStatus.PENDING);
    expect((await admin.providers.getProvider({ provider: 'acme-api' })).provider?.displayName).toBe('Acme API');
  });

  it('answers UNAUTHENTICATED for a wrong key, however it is sent', async () => {
    const wrong = [
      clients(nexus.baseUrl, 'nxs_this_key_was_never_issued_123456'),
      clients(nexus.baseUrl, `${ADMIN_KEY}x`),
      clients(nexus.baseUrl, ADMIN_KEY.slice(0, -1)),
      clientsWithHeaders(nexus.baseUrl, { 'x-api-key': 'nxs_this_key_was_never_issued_123456' }),
      clientsWithHeaders(nexus.baseUrl, { authorization: `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}` }),
      clientsWithHeaders(nexus.baseUrl, { authorization: 'Bearer ' }),
      clientsWithHeaders(nexus.baseUrl, { 'x-api-key': 'x'.repeat(600) }),
    ];
    for (const c of wrong) {
      await expectConnectError(c.tokens.getToken({ connectionId: main.staticId }), Code.Unauthenticated, 'UNAUTHENTICATED');
      await expectConnectError(c.connections.getConnection({ connectionId: main.staticId }), Code.Unauthenticated, 'UNAUTHENTICATED');
      await expectConnectError(c.providers.createProvider({ provider: apiKeyProvider({ name: 'wrong-made' }) }), Code.Unauthenticated, 'UNAUTHENTICATED');
    }
    await expectConnectError(admin.providers.getProvider({ provider: 'wrong-made' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
  });

  it('accepts the key as X-API-Key as well as Authorization: Bearer', async () => {
    const variants: Record<string, string>[] = [{ 'x-api-key': ADMIN_KEY }, { authorization: `Bearer ${ADMIN_KEY}` }, { authorization: `bearer ${ADMIN_KEY}` }];
    for (const headers of variants) {
      const c = clientsWithHeaders(nexus.baseUrl, headers);
      expect((await c.connections.getConnection({ connectionId: main.staticId })).connection?.workspaceId).toBe('ws-main');
      expect((await c.tokens.getToken({ connectionId: main.staticId })).credential!.credentials.value).toMatchObject({ apiKey: CAPTURED_KEY });
    }
    const agent = clientsWithHeaders(nexus.baseUrl, { 'x-api-key': keys.tokens });
    expect((await agent.tokens.getToken({ connectionId: main.staticId })).credential!.credentials.case).toBe('apiKey');
  });

  it('enforces scopes', async () => {
    const tokensOnly = clients(nexus.baseUrl, keys.tokens);
    const connectionsOnly = clients(nexus.baseUrl, keys.connections);
    const create = (c: Clients) =>
      c.connections.createConnection({ workspaceId: 'ws-scope', provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL });

    let err = await expectConnectError(create(tokensOnly), Code.PermissionDenied, 'SCOPE_MISSING');
    expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.scope).toBe('connections');
    await expectConnectError(tokensOnly.connections.getConnection({ connectionId: main.staticId }), Code.PermissionDenied, 'SCOPE_MISSING');
    await expectConnectError(tokensOnly.connections.listConnections({}), Code.PermissionDenied, 'SCOPE_MISSING');
    await expectConnectError(tokensOnly.connections.deleteConnection({ connectionId: main.staticId }), Code.PermissionDenied, 'SCOPE_MISSING');
    expect((await tokensOnly.tokens.getToken({ connectionId: main.staticId })).credential!.credentials.value).toMatchObject({ apiKey: CAPTURED_KEY });

    err = await expectConnectError(connectionsOnly.tokens.getToken({ connectionId: main.staticId }), Code.PermissionDenied, 'SCOPE_MISSING');
    expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.scope).toBe('tokens');
    await expectConnectError(connectionsOnly.tokens.refreshToken({ connectionId: main.staticId }), Code.PermissionDenied, 'SCOPE_MISSING');
    const made = await create(connectionsOnly);
    expect(made.connection?.status).toBe(ConnectionStatus.PENDING);
    expect((await connectionsOnly.connections.getConnection({ connectionId: made.connection!.id })).connection?.workspaceId).toBe('ws-scope');

    for (const c of [tokensOnly, connectionsOnly]) {
      err = await expectConnectError(c.providers.createProvider({ provider: apiKeyProvider({ name: 'not-admin' }) }), Code.PermissionDenied, 'SCOPE_MISSING');
      expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.scope).toBe('admin');
      await expectConnectError(
        c.providers.updateProvider({ provider: { name: 'acme-api', displayName: 'nope' }, updateMask: { paths: ['display_name'] } }),
        Code.PermissionDenied,
        'SCOPE_MISSING',
      );
      await expectConnectError(c.providers.deleteProvider({ provider: 'acme-api', force: true }), Code.PermissionDenied, 'SCOPE_MISSING');
    }
    await expectConnectError(admin.providers.getProvider({ provider: 'not-admin' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    expect((await admin.providers.getProvider({ provider: 'acme-api' })).provider?.displayName).toBe('Acme API');
  });

  async function snapshot(): Promise<string[]> {
    const q = (sql: string) => nexus.app.database.dataSource.query(sql, ['prj_default']) as Promise<{ j: string }[]>;
    const rows = [
      ...(await q(`SELECT row_to_json(p)::text AS j FROM providers p WHERE project_id = $1 ORDER BY id`)),
      ...(await q(`SELECT row_to_json(c)::text AS j FROM connections c WHERE project_id = $1 ORDER BY id`)),
      ...(await q(`SELECT row_to_json(s)::text AS j FROM auth_states s WHERE project_id = $1 ORDER BY id`)),
    ];
    return rows.map((r) => r.j);
  }

  it("answers NOT_FOUND to another project for every RPC on this project's rows, and changes nothing", async () => {
    const before = await snapshot();
    expect(before.length).toBeGreaterThanOrEqual(6);
    const { staticId, pendingId, apiProviderId, oauthProviderId } = main;

    const connectionCalls: (() => Promise<unknown>)[] = [
      () => other.connections.getConnection({ connectionId: staticId }),
      () => other.connections.getConnection({ connectionId: pendingId }),
      () => other.connections.deleteConnection({ connectionId: staticId }),
      () => other.connections.deleteConnection({ connectionId: pendingId }),
      () => other.tokens.getToken({ connectionId: staticId }),
      () => other.tokens.refreshToken({ connectionId: staticId }),
      () => other.tokens.getToken({ connectionId: pendingId }),
      () => other.connections.getPendingFields({ connectionId: pendingId }),
      () => other.connections.finalizeConnection({ connectionId: pendingId, fields: { subdomain: 'hijacked' } }),
    ];
    for (const call of connectionCalls) await expectConnectError(call(), Code.NotFound, 'CONNECTION_NOT_FOUND');

    const providerCalls: (() => Promise<unknown>)[] = [
      () => other.connections.createConnection({ workspaceId: 'ws-x', provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL }),
      () => other.connections.createConnection({ workspaceId: 'ws-x', provider: { case: 'providerId', value: apiProviderId }, returnUrl: RETURN_URL }),
      () => other.connections.createConnection({ workspaceId: 'ws-x', provider: { case: 'providerId', value: oauthProviderId }, returnUrl: RETURN_URL }),
      () => other.providers.getProvider({ provider: 'acme-api' }),
      () => other.providers.getProvider({ provider: apiProviderId }),
      () => other.providers.getProvider({ provider: oauthProviderId }),
      () =>
        other.providers.updateProvider({
          provider: { name: 'acme-api', displayName: 'Hijacked', enabled: false },
          updateMask: { paths: ['display_name', 'enabled'] },
        }),
      () =>
        other.providers.updateProvider({
          provider: { id: oauthProviderId, oauth2: { clientSecret: 'attacker' } },
          updateMask: { paths: ['oauth2.client_secret'] },
        }),
      () => other.providers.deleteProvider({ provider: 'acme-api', force: true }),
      () => other.providers.deleteProvider({ provider: oauthProviderId, force: true }),
    ];
    for (const call of providerCalls) await expectConnectError(call(), Code.NotFound, 'PROVIDER_NOT_FOUND');

    // Lists: the other project's own rows only.
    const mainIds = new Set([staticId, pendingId, apiProviderId, oauthProviderId]);
    const theirProvider = (await other.providers.createProvider({ provider: apiKeyProvider({ name: 'other-api' }) })).provider!;
    const theirConn = await other.connections.createConnection({
      workspaceId: 'ws-main',
      provider: { case: 'providerName', value: 'other-api' },
      returnUrl: RETURN_URL,
    });
    await other.connections.submitCredentials({ state: theirConn.state, credentials: { api_key: OTHER_CAPTURED_KEY } });
    const theirConnections = (await other.connections.listConnections({ pageSize: 500 })).connections;
    expect(theirConnections.map((c) => c.id)).toEqual([theirConn.connection!.id]);
    expect(theirConnections.every((c) => c.projectId === 'prj_other')).toBe(true);
    expect((await other.connections.listConnections({ workspaceId: 'ws-main', pageSize: 500 })).connections.map((c) => c.id)).toEqual([
      theirConn.connection!.id,
    ]);
    expect((await other.connections.listConnections({ provider: 'acme-api' })).connections).toEqual([]);
    expect((await other.connections.listConnections({ provider: apiProviderId })).connections).toEqual([]);
    const theirProviders = (await other.providers.listProviders({ pageSize: 500 })).providers;
    expect(theirProviders.map((p) => p.id)).toEqual([theirProvider.id]);
    for (const id of [...theirConnections.map((c) => c.id), ...theirProviders.map((p) => p.id)]) expect(mainIds.has(id)).toBe(false);

    // This project's rows are exactly as they were.
    expect(await snapshot()).toEqual(before);
    expect((await admin.tokens.getToken({ connectionId: staticId })).credential!.credentials.value).toMatchObject({ apiKey: CAPTURED_KEY });
    expect((await admin.connections.getPendingFields({ connectionId: pendingId })).schema).toEqual(FIELDS_SCHEMA);
    const stored = await nexus.app.store.providers.findById('prj_default', oauthProviderId);
    expect(nexus.app.providers.clientSecret(stored!)).toBe(auth.clientSecret);

    // And the reverse: this project does not see the other's rows either.
    await expectConnectError(admin.connections.getConnection({ connectionId: theirConn.connection!.id }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    await expectConnectError(admin.tokens.getToken({ connectionId: theirConn.connection!.id }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    await expectConnectError(admin.providers.getProvider({ provider: 'other-api' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    const ours = (await admin.connections.listConnections({ pageSize: 500 })).connections;
    expect(ours.map((c) => c.id)).not.toContain(theirConn.connection!.id);
    expect(ours.every((c) => c.projectId === 'prj_default')).toBe(true);
    expect((await admin.providers.listProviders({ pageSize: 500 })).providers.map((p) => p.id)).not.toContain(theirProvider.id);
  });

  it("refuses another project's admin every ProjectService and ApiKeyService RPC on this project, and changes nothing", async () => {
    const gov = governanceClients(nexus.baseUrl, keys.other);
    const ourKeys = await nexus.app.apiKeys.list('prj_default');
    const tokensKey = ourKeys.find((k) => k.name === 'agent')!;
    const called = new Set<string>();
    const refusals: [string, () => Promise<unknown>, Code, string][] = [
      ['CreateProject', () => gov.projects.createProject({ project: { name: 'mine' } }), Code.PermissionDenied, 'OPERATOR_REQUIRED'],
      ['GetProject', () => gov.projects.getProject({ projectId: 'prj_default' }), Code.PermissionDenied, 'OPERATOR_REQUIRED'],
      ['ListProjects', () => gov.projects.listProjects({}), Code.PermissionDenied, 'OPERATOR_REQUIRED'],
      [
        'UpdateProject',
        () => gov.projects.updateProject({ project: { id: 'prj_default', corsOrigins: ['https://evil.example'] } }),
        Code.PermissionDenied,
        'OPERATOR_REQUIRED',
      ],
      ['DeleteProject', () => gov.projects.deleteProject({ projectId: 'prj_default', force: true }), Code.PermissionDenied, 'OPERATOR_REQUIRED'],
      [
        'CreateApiKey',
        () => gov.apiKeys.createApiKey({ projectId: 'prj_default', name: 'x', scopes: [ApiKeyScope.ADMIN] }),
        Code.PermissionDenied,
        'OPERATOR_REQUIRED',
      ],
      ['ListApiKeys', () => gov.apiKeys.listApiKeys({ projectId: 'prj_default' }), Code.PermissionDenied, 'OPERATOR_REQUIRED'],
      ['RevokeApiKey', () => gov.apiKeys.revokeApiKey({ projectId: 'prj_default', keyId: tokensKey.id }), Code.PermissionDenied, 'OPERATOR_REQUIRED'],
      ['RotateApiKey', () => gov.apiKeys.rotateApiKey({ projectId: 'prj_default', keyId: tokensKey.id }), Code.PermissionDenied, 'OPERATOR_REQUIRED'],
      // By key id alone the lookup is in the caller's own project: not found, nothing revealed.
      ['RevokeApiKey', () => gov.apiKeys.revokeApiKey({ keyId: tokensKey.id }), Code.NotFound, 'API_KEY_NOT_FOUND'],
      ['RotateApiKey', () => gov.apiKeys.rotateApiKey({ keyId: tokensKey.id }), Code.NotFound, 'API_KEY_NOT_FOUND'],
    ];
    for (const [method, call, code, reason] of refusals) {
      called.add(method);
      await expectConnectError(call(), code, reason);
    }
    // Every method of both services is covered: a new RPC fails here until it is added above.
    expect([...called].sort()).toEqual([...SERVICES.projects.methods, ...SERVICES.apiKeys.methods].map((m) => m.name).sort());
    // Its own listing holds its own keys only.
    const theirs = (await gov.apiKeys.listApiKeys({})).apiKeys;
    expect(theirs.every((k) => k.projectId === 'prj_other')).toBe(true);
    expect(await nexus.app.apiKeys.list('prj_default')).toEqual(ourKeys);
    await clients(nexus.baseUrl, keys.tokens).tokens.getToken({ connectionId: main.staticId });
  });

  it('lets each project use the same provider name for its own provider', async () => {
    const theirs = (await other.providers.createProvider({ provider: apiKeyProvider({ displayName: 'Their Acme' }) })).provider!;
    expect(theirs.name).toBe('acme-api');
    expect(theirs.id).not.toBe(main.apiProviderId);
    const conn = await other.connections.createConnection({
      workspaceId: 'ws-same-name',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    expect(conn.connection?.providerId).toBe(theirs.id);
    expect(conn.connection?.projectId).toBe('prj_other');
    expect((await admin.providers.getProvider({ provider: 'acme-api' })).provider?.id).toBe(main.apiProviderId);
    expect((await admin.providers.getProvider({ provider: 'acme-api' })).provider?.displayName).toBe('Acme API');
    // Its capture state does not open this project's connection.
    const schema = await clients(nexus.baseUrl).connections.getCredentialSchema({ state: conn.state });
    expect(schema.connectionId).toBe(conn.connection!.id);
    expect(schema.providerDisplayName).toBe('Their Acme');
  });

  it.each(['grpc', 'grpc-web'] as TransportKind[])('carries the same codes and reasons over %s', async (kind) => {
    const anon = clients(nexus.baseUrl, undefined, kind);
    const a = clients(nexus.baseUrl, ADMIN_KEY, kind);
    const tokensOnly = clients(nexus.baseUrl, keys.tokens, kind);
    const foreign = clients(nexus.baseUrl, keys.other, kind);

    await expectConnectError(anon.tokens.getToken({ connectionId: main.staticId }), Code.Unauthenticated, 'UNAUTHENTICATED');
    await expectConnectError(
      clients(nexus.baseUrl, 'nxs_wrong_key_over_grpc_0000', kind).connections.listConnections({}),
      Code.Unauthenticated,
      'UNAUTHENTICATED',
    );
    const scope = await expectConnectError(
      tokensOnly.connections.createConnection({ workspaceId: 'w', provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL }),
      Code.PermissionDenied,
      'SCOPE_MISSING',
    );
    expect(scope.findDetails(ErrorInfoSchema)[0]?.metadata.scope).toBe('connections');
    await expectConnectError(foreign.tokens.getToken({ connectionId: main.staticId }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    await expectConnectError(foreign.providers.getProvider({ provider: main.oauthProviderId }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await expectConnectError(a.tokens.refreshToken({ connectionId: main.staticId }), Code.FailedPrecondition, 'STATIC_CREDENTIAL');
    await expectConnectError(anon.connections.getCredentialSchema({ state: 'garbage' }), Code.InvalidArgument, 'STATE_INVALID');
    const invalid = await expectConnectError(
      a.tokens.getToken({ connectionId: main.staticId, minRemaining: { seconds: 7200n, nanos: 0 } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    expect(invalid.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe('min_remaining');
    // And success, with the same payload as over Connect.
    expect((await a.tokens.getToken({ connectionId: main.staticId })).credential!.credentials.value).toMatchObject({ apiKey: CAPTURED_KEY });
    expect((await anon.providers.listProviders({})).providers.map((p) => p.name)).toContain('acme-api');
  });

  it('wrote no API key, client secret or captured key to the log', () => {
    const all = nexus.logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const value of [ADMIN_KEY, keys.tokens, keys.connections, keys.other, auth.clientSecret, CAPTURED_KEY, OTHER_CAPTURED_KEY]) {
      expect(value.length).toBeGreaterThan(10);
      expect(all).not.toContain(value);
    }
  });
});

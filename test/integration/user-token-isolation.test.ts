import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { registerClient, signInUser, type TestClient } from '../support/auth-flows.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, authClients, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';
import { callback } from '../support/consent.js';

const FIELDS_SCHEMA = {
  type: 'object',
  required: ['subdomain'],
  properties: { subdomain: { type: 'string' } },
};

/** The first item of a server stream (errors surface here). */
async function firstOf<T>(stream: AsyncIterable<T>): Promise<T> {
  for await (const item of stream) return item;
  throw new Error('stream ended without an item');
}

describe.each(BACKENDS)('user tokens reach only their own workspace and project (%s)', (backend) => {
  let auth: TestAuthServer;
  let nexus: TestApp;
  let admin: Clients;
  let client: TestClient;
  /** User A (connections + tokens) and the rows A must not reach. */
  let a: Clients;
  let aWorkspace: string;
  let aConn: string;
  let aToken: string;
  let bWorkspace: string;
  let bConn: string;
  let bPending: string;
  let otherConn: string;
  let otherProviderId: string;
  let apiProviderId: string;

  async function activeStatic(api: Clients, workspaceId: string, key: string): Promise<string> {
    const made = await api.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL });
    await api.connections.submitCredentials({ state: made.state, credentials: { api_key: key } });
    return made.connection!.id;
  }

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    apiProviderId = (await admin.providers.createProvider({ provider: apiKeyProvider() })).provider!.id;
    await admin.providers.createProvider({ provider: oauthProvider(auth, { name: 'fields-oauth', postOauthFieldsSchema: FIELDS_SCHEMA }) });
    client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);

    const userA = await signInUser(nexus.baseUrl, client, ['connections', 'tokens']);
    aToken = userA.accessToken;
    aWorkspace = userA.account!.workspaceId;
    a = clients(nexus.baseUrl, aToken);
    const userB = await signInUser(nexus.baseUrl, client, ['connections']);
    bWorkspace = userB.account!.workspaceId;

    // A's own ACTIVE connection, created with A's token (workspace defaulted).
    const mine = await a.connections.createConnection({ provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL });
    await a.connections.submitCredentials({ state: mine.state, credentials: { api_key: 'ak_user_a_1234' } });
    aConn = mine.connection!.id;
    // B's ACTIVE connection and B's OAuth connection waiting for post-OAuth fields.
    bConn = await activeStatic(clients(nexus.baseUrl, userB.accessToken), bWorkspace, 'ak_user_b_5678');
    const pending = await admin.connections.createConnection({
      workspaceId: bWorkspace,
      provider: { case: 'providerName', value: 'fields-oauth' },
      returnUrl: RETURN_URL,
    });
    await callback(await auth.consent(pending.authUrl));
    bPending = pending.connection!.id;

    // Another project with a connection in a workspace of the SAME name as A's.
    await nexus.app.store.projects.ensure('prj_other', 'other');
    const otherKey = (await nexus.app.apiKeys.create('prj_other', 'k', ['admin'])).key;
    const other = clients(nexus.baseUrl, otherKey);
    otherProviderId = (await other.providers.createProvider({ provider: apiKeyProvider() })).provider!.id;
    otherConn = await activeStatic(other, aWorkspace, 'ak_other_project_9999');
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
  });

  it('works on its own workspace: list, get, watch, token, providers', async () => {
    const listed = await a.connections.listConnections({});
    expect(listed.connections.map((c) => c.id)).toEqual([aConn]);
    expect((await a.connections.getConnection({ connectionId: aConn })).connection?.workspaceId).toBe(aWorkspace);
    const snapshot = await firstOf(a.connections.watchConnections({}));
    expect(snapshot.item.case === 'event' && snapshot.item.value.connection?.workspaceId).toBe(aWorkspace);
    const one = await firstOf(a.connections.watchConnection({ connectionId: aConn }));
    expect(one.item.case === 'event' && one.item.value.connection?.id).toBe(aConn);
    const token = (await a.tokens.getToken({ connectionId: aConn })).credential!;
    expect(JSON.stringify(token)).toContain('ak_user_a_1234');
    const providers = await a.providers.listProviders({});
    expect(providers.providers.map((p) => p.id)).toContain(apiProviderId);
    expect((await a.providers.getProvider({ provider: 'acme-api' })).provider?.id).toBe(apiProviderId);
  });

  it('refuses another workspace of its project on every connection and token RPC, and changes nothing', async () => {
    const denied = (p: Promise<unknown>) => expectConnectError(p, Code.PermissionDenied, 'WORKSPACE_FORBIDDEN');
    await denied(a.connections.createConnection({ workspaceId: bWorkspace, provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL }));
    await denied(a.connections.getConnection({ connectionId: bConn }));
    await denied(a.connections.listConnections({ workspaceId: bWorkspace }));
    await denied(a.connections.deleteConnection({ connectionId: bConn }));
    await denied(a.connections.getPendingFields({ connectionId: bPending }));
    await denied(a.connections.finalizeConnection({ connectionId: bPending, fields: { subdomain: 'x' } }));
    await denied(firstOf(a.connections.watchConnection({ connectionId: bConn })));
    await denied(firstOf(a.connections.watchConnections({ workspaceId: bWorkspace })));
    await denied(a.tokens.getToken({ connectionId: bConn }));
    await denied(a.tokens.refreshToken({ connectionId: bConn }));
    // A connection id that does not exist gets the same answer: no existence oracle.
    await denied(a.connections.getConnection({ connectionId: 'conn_01JZZZZZZZZZZZZZZZZZZZZZZZ' }));
    expect((await admin.connections.getConnection({ connectionId: bConn })).connection?.status).toBe(ConnectionStatus.ACTIVE);
    expect((await admin.connections.getConnection({ connectionId: bPending })).connection?.status).toBe(ConnectionStatus.PENDING);
  });

  it('refuses another project on every RPC, even for a workspace of the same name', async () => {
    const denied = (p: Promise<unknown>) => expectConnectError(p, Code.PermissionDenied, 'WORKSPACE_FORBIDDEN');
    await denied(a.providers.listProviders({ projectId: 'prj_other' }));
    await denied(a.providers.getProvider({ projectId: 'prj_other', provider: otherProviderId }));
    await denied(a.connections.getConnection({ connectionId: otherConn }));
    await denied(a.connections.deleteConnection({ connectionId: otherConn }));
    await denied(a.connections.getPendingFields({ connectionId: otherConn }));
    await denied(a.connections.finalizeConnection({ connectionId: otherConn, fields: {} }));
    await denied(firstOf(a.connections.watchConnection({ connectionId: otherConn })));
    await denied(a.tokens.getToken({ connectionId: otherConn }));
    await denied(a.tokens.refreshToken({ connectionId: otherConn }));
    // Listing and watching its own workspace never shows the other project's row.
    expect((await a.connections.listConnections({ workspaceId: aWorkspace })).connections.map((c) => c.id)).not.toContain(otherConn);
    await expectConnectError(a.providers.getProvider({ provider: otherProviderId }), Code.NotFound, 'PROVIDER_NOT_FOUND');
  });

  it('refuses every admin-only RPC with PERMISSION_DENIED', async () => {
    const denied = (p: Promise<unknown>) => expectConnectError(p, Code.PermissionDenied, 'SCOPE_MISSING');
    await denied(a.providers.createProvider({ provider: apiKeyProvider({ name: 'sneaky' }) }));
    await denied(a.providers.updateProvider({ provider: { id: apiProviderId, displayName: 'x' }, updateMask: { paths: ['display_name'] } }));
    await denied(a.providers.deleteProvider({ provider: 'acme-api' }));
    await denied(a.providers.enableCatalogProvider({ name: 'github', clientId: 'x', clientSecret: 'y' } as never));
    const admin2 = authClients(nexus.baseUrl, aToken).clients;
    await denied(admin2.createClient({ client: { type: ClientType.PUBLIC, displayName: 'x' } }));
    await denied(admin2.getClient({ clientId: client.id }));
    await denied(admin2.listClients({}));
    await denied(admin2.updateClient({ client: { id: client.id, displayName: 'x' } }));
    await denied(admin2.deleteClient({ clientId: client.id }));
  });

  it('a token without the tokens scope cannot fetch credentials, even of its own connections', async () => {
    const user = await signInUser(nexus.baseUrl, client, ['connections']);
    const api = clients(nexus.baseUrl, user.accessToken);
    const own = await api.connections.createConnection({ provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL });
    await expectConnectError(api.tokens.getToken({ connectionId: own.connection!.id }), Code.PermissionDenied, 'SCOPE_MISSING');
    const deleted = await api.connections.deleteConnection({ connectionId: own.connection!.id });
    expect(deleted.connection?.status).toBe(ConnectionStatus.REVOKED);
  });

  it('refuses a token whose claims were altered (another workspace) as UNAUTHENTICATED', async () => {
    const [h, p] = aToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), wid: bWorkspace })).toString('base64url');
    await expectConnectError(
      clients(nexus.baseUrl, `${h}.${forgedPayload}.${aToken.split('.')[2]}`).connections.listConnections({}),
      Code.Unauthenticated,
      'UNAUTHENTICATED',
    );
  });
});

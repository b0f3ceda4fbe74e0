import { Code } from '@connectrpc/connect';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { registerClient, signInUser, type TestClient } from '../support/auth-flows.js';
import { callback } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, authClients, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';

/*
 * RFC 8693 token exchange over the RPC (AuthService.ExchangeToken): a
 * confidential client trades its user's access token for the federated
 * token of a connection of that user's workspace, and every refusal.
 * Then the same over POST /oauth/token, driven by oauth4webapi (discovery,
 * genericTokenEndpointRequest), with RFC 6749 5.2 / RFC 8693 error codes.
 */
describe.each(BACKENDS)('token exchange over the RPC (%s)', (backend) => {
  let auth: TestAuthServer;
  let flaky: TestAuthServer;
  let nexus: TestApp;
  let admin: Clients;
  let client: TestClient;
  let now = Date.now();
  let aToken: string;
  let aConn: string;
  let aStatic: string;
  let aFlaky: string;
  let bConn: string;

  async function connectOAuth(workspaceId: string, providerName: string, server: TestAuthServer): Promise<string> {
    const made = await admin.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: providerName }, returnUrl: RETURN_URL });
    await callback(await server.consent(made.authUrl));
    return made.connection!.id;
  }

  function exchange(over: Record<string, string> = {}, basic = client.basic) {
    return authClients(nexus.baseUrl).auth.exchangeToken(
      { grantType: GRANT, subjectToken: aToken, subjectTokenType: ACCESS, ...over },
      { headers: { authorization: basic } },
    );
  }

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    flaky = await TestAuthServer.start();
    nexus = await startTestApp({ backend, clock: () => now });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    await admin.providers.createProvider({ provider: oauthProvider(auth) });
    await admin.providers.createProvider({ provider: oauthProvider(flaky, { name: 'flaky-oauth' }) });
    await admin.providers.createProvider({ provider: apiKeyProvider() });
    client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
    const a = await signInUser(nexus.baseUrl, client, ['connections', 'tokens']);
    aToken = a.accessToken;
    const b = await signInUser(nexus.baseUrl, client, ['connections', 'tokens']);
    // Tokens that expire within GetToken's one-minute margin: every exchange refreshes first.
    auth.expiresIn = 30;
    flaky.expiresIn = 30;
    aConn = await connectOAuth(a.account!.workspaceId, 'local-oauth', auth);
    bConn = await connectOAuth(b.account!.workspaceId, 'local-oauth', auth);
    aFlaky = await connectOAuth(a.account!.workspaceId, 'flaky-oauth', flaky);
    const made = await admin.connections.createConnection({
      workspaceId: a.account!.workspaceId,
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    await admin.connections.submitCredentials({ state: made.state, credentials: { api_key: 'ak_static_secret_1234' } });
    aStatic = made.connection!.id;
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
    await flaky?.stop();
  });

  it("hands out the connection's federated access token by resource, refreshing it first", async () => {
    const before = auth.refreshRequests;
    const res = await exchange({ resource: aConn });
    expect(auth.refreshRequests).toBe(before + 1);
    expect(res.issuedTokenType).toBe(ACCESS);
    expect(res.tokenType).toBe('Bearer');
    expect(res.expiresIn).toBeGreaterThan(0);
    expect(res.expiresIn).toBeLessThanOrEqual(30);
    expect(res.refreshToken).toBe('');
    expect(res.sessionId).toBe('');
    // The same token GetToken hands the user (the connection's current one).
    const viaGetToken = await clients(nexus.baseUrl, aToken).tokens.getToken({ connectionId: aConn, minRemaining: { seconds: 0n, nanos: 0 } });
    const oauth2 = viaGetToken.credential?.credentials;
    expect(oauth2?.case === 'oauth2' && oauth2.value.accessToken).toBe(res.accessToken);
  });

  it('finds the connection by audience (provider name) and by the connection URN', async () => {
    const byAudience = await exchange({ audience: 'local-oauth' });
    const byUrn = await exchange({ resource: `urn:nexus:connection:${aConn}` });
    expect(byAudience.accessToken).toBeTruthy();
    expect(byUrn.accessToken).toBeTruthy();
  });

  it('refuses a connection of another workspace, and an unknown one alike', async () => {
    await expectConnectError(exchange({ resource: bConn }), Code.PermissionDenied, 'WORKSPACE_FORBIDDEN');
    await expectConnectError(exchange({ resource: 'conn_01JZZZZZZZZZZZZZZZZZZZZZZZ' }), Code.PermissionDenied, 'WORKSPACE_FORBIDDEN');
    await expectConnectError(exchange({ audience: 'no-such-provider' }), Code.NotFound, 'EXCHANGE_TARGET_NOT_FOUND');
  });

  it('refuses a subject token without the tokens scope', async () => {
    const narrow = await signInUser(nexus.baseUrl, client, ['connections']);
    await expectConnectError(exchange({ subjectToken: narrow.accessToken, resource: aConn }), Code.PermissionDenied, 'SCOPE_MISSING');
  });

  it('refuses a static credential (API key): it is not an OAuth access token', async () => {
    const err = await expectConnectError(exchange({ resource: aStatic }), Code.FailedPrecondition, 'EXCHANGE_STATIC_CREDENTIAL');
    expect(err.message).not.toContain('ak_static_secret_1234');
  });

  it('refuses a connection that needs attention', async () => {
    flaky.refreshMode = 'invalid_grant';
    // The refresh is refused by the provider: the connection needs attention from then on.
    await expect(exchange({ resource: aFlaky })).rejects.toThrow();
    expect((await admin.connections.getConnection({ connectionId: aFlaky })).connection?.status).toBe(ConnectionStatus.ATTENTION_REQUIRED);
    await expectConnectError(exchange({ resource: aFlaky }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
  });

  it("refuses bad client authentication, a public client, and another client's subject token", async () => {
    const wrong = `Basic ${Buffer.from(`${client.id}:nxcs_wrong`).toString('base64')}`;
    await expectConnectError(exchange({ resource: aConn }, wrong), Code.Unauthenticated, 'CLIENT_AUTHENTICATION_FAILED');
    const pub = await registerClient(nexus.baseUrl, ClientType.PUBLIC);
    await expectConnectError(
      authClients(nexus.baseUrl).auth.exchangeToken({ grantType: GRANT, clientId: pub.id, subjectToken: aToken, subjectTokenType: ACCESS, resource: aConn }),
      Code.PermissionDenied,
      'EXCHANGE_CLIENT_NOT_ALLOWED',
    );
    const other = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
    await expectConnectError(exchange({ resource: aConn }, other.basic), Code.InvalidArgument, 'SUBJECT_TOKEN_INVALID');
  });

  it('refuses a malformed request: token type, both targets, none', async () => {
    await expectConnectError(
      exchange({ resource: aConn, subjectTokenType: 'urn:ietf:params:oauth:token-type:id_token' }),
      Code.InvalidArgument,
      'SUBJECT_TOKEN_TYPE_UNSUPPORTED',
    );
    await expectConnectError(
      exchange({ resource: aConn, requestedTokenType: 'urn:ietf:params:oauth:token-type:refresh_token' }),
      Code.InvalidArgument,
      'SUBJECT_TOKEN_TYPE_UNSUPPORTED',
    );
    await expectConnectError(exchange({ resource: aConn, audience: 'local-oauth' }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(exchange({}), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(exchange({ resource: aConn, subjectToken: 'not-a-jwt' }), Code.InvalidArgument, 'SUBJECT_TOKEN_INVALID');
  });

  it('refuses an audience matching several live connections', async () => {
    // Activation supersedes older connections, so only a race leaves two live: make one by hand.
    const user = await signInUser(nexus.baseUrl, client, ['connections', 'tokens']);
    const first = await connectOAuth(user.account!.workspaceId, 'local-oauth', auth);
    await connectOAuth(user.account!.workspaceId, 'local-oauth', auth);
    await nexus.app.store.connections.update('prj_default', first, { status: 'ACTIVE' });
    await expectConnectError(exchange({ subjectToken: user.accessToken, audience: 'local-oauth' }), Code.FailedPrecondition, 'EXCHANGE_TARGET_AMBIGUOUS');
  });

  it('refuses a revoked and an expired subject token', async () => {
    const user = await signInUser(nexus.baseUrl, client, ['connections', 'tokens']);
    await authClients(nexus.baseUrl).auth.revoke({ token: user.accessToken, tokenTypeHint: 'access_token' }, { headers: { authorization: client.basic } });
    await expectConnectError(exchange({ subjectToken: user.accessToken, resource: aConn }), Code.InvalidArgument, 'SUBJECT_TOKEN_INVALID');
    const later = await signInUser(nexus.baseUrl, client, ['connections', 'tokens']);
    now += 3_600_000;
    try {
      await expectConnectError(exchange({ subjectToken: later.accessToken, resource: aConn }), Code.InvalidArgument, 'SUBJECT_TOKEN_INVALID');
    } finally {
      now -= 3_600_000;
    }
  });
  it('records every exchange in the audit log (success and refusals), never a token', async () => {
    await exchange({ resource: aConn });
    await expectConnectError(exchange({ resource: aStatic }), Code.FailedPrecondition, 'EXCHANGE_STATIC_CREDENTIAL');
    await nexus.app.audit.flush();
    const rows: { action: string; outcome: string; reason: string; actor_kind: string; target_id: string; detail: unknown }[] =
      await nexus.app.database.dataSource.query("SELECT * FROM audit_events WHERE action = 'token.exchange' ORDER BY seq");
    const last = rows.slice(-2).map((r) => [r.outcome, r.reason, r.actor_kind, r.target_id]);
    expect(last).toEqual([
      ['success', '', 'end_user', aConn],
      ['denied', 'EXCHANGE_STATIC_CREDENTIAL', 'end_user', aStatic],
    ]);
    expect(JSON.stringify(rows)).not.toContain(aToken);
  });

  describe('over POST /oauth/token with a standard OAuth client (oauth4webapi)', () => {
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    let as: oauth.AuthorizationServer;

    async function httpExchange(params: Record<string, string>, auth: oauth.ClientAuth = oauth.ClientSecretBasic(client.secret), clientId = client.id) {
      const response = await oauth.genericTokenEndpointRequest(
        as,
        { client_id: clientId },
        auth,
        GRANT,
        { subject_token: aToken, subject_token_type: ACCESS, ...params },
        insecure,
      );
      return { response, body: () => oauth.processGenericTokenEndpointResponse(as, { client_id: clientId }, response) };
    }
    async function refused(params: Record<string, string>, error: string, status = 400, auth?: oauth.ClientAuth, clientId?: string) {
      const { response, body } = await httpExchange(params, auth, clientId);
      expect(response.status).toBe(status);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const err = await body().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (status === 401) {
        // oauth4webapi surfaces a 401 by its WWW-Authenticate challenge.
        expect(err).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
        expect((err as oauth.WWWAuthenticateChallengeError).cause[0]?.parameters.error).toBe(error);
        return;
      }
      expect(err).toBeInstanceOf(oauth.ResponseBodyError);
      expect((err as oauth.ResponseBodyError).error).toBe(error);
    }

    beforeAll(async () => {
      const issuer = new URL(nexus.baseUrl);
      as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    });

    it('publishes RFC 8414 metadata naming the token endpoint and the grant', () => {
      expect(as.token_endpoint).toBe(`${nexus.baseUrl}/oauth/token`);
      expect(as.grant_types_supported).toContain(GRANT);
      expect(as.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    });

    it('exchanges with client_secret_basic (resource) and client_secret_post (audience)', async () => {
      const before = auth.refreshRequests;
      const basic = await httpExchange({ resource: aConn });
      expect(basic.response.headers.get('cache-control')).toBe('no-store');
      const token = await basic.body();
      expect(auth.refreshRequests).toBe(before + 1);
      expect(token.issued_token_type).toBe(ACCESS);
      expect(token.token_type).toBe('bearer');
      expect(token.expires_in).toBeGreaterThan(0);
      expect(token.refresh_token).toBeUndefined();
      const viaGetToken = await clients(nexus.baseUrl, aToken).tokens.getToken({ connectionId: aConn, minRemaining: { seconds: 0n, nanos: 0 } });
      const oauth2 = viaGetToken.credential?.credentials;
      expect(oauth2?.case === 'oauth2' && oauth2.value.accessToken).toBe(token.access_token);
      const post = await (await httpExchange({ audience: 'local-oauth' }, oauth.ClientSecretPost(client.secret))).body();
      expect(post.access_token).toBeTruthy();
    });

    it('serves the refresh_token grant through the same endpoint', async () => {
      const user = await signInUser(nexus.baseUrl, client, ['connections', 'tokens']);
      const response = await oauth.refreshTokenGrantRequest(as, { client_id: client.id }, oauth.ClientSecretBasic(client.secret), user.refreshToken, insecure);
      const tokens = await oauth.processRefreshTokenResponse(as, { client_id: client.id }, response);
      expect(tokens.refresh_token).toMatch(/^nxrt_/);
      expect(tokens.refresh_token).not.toBe(user.refreshToken);
      expect(tokens.scope).toBe('connections tokens');
    });

    it('answers every refusal with its OAuth error code', async () => {
      const narrow = await signInUser(nexus.baseUrl, client, ['connections']);
      const b = await signInUser(nexus.baseUrl, client, ['connections', 'tokens']);
      await refused({ resource: aConn }, 'invalid_client', 401, oauth.ClientSecretBasic('nxcs_wrong'));
      const pub = await registerClient(nexus.baseUrl, ClientType.PUBLIC);
      await refused({ resource: aConn }, 'unauthorized_client', 400, oauth.None(), pub.id);
      await refused({ resource: aConn, subject_token: narrow.accessToken }, 'invalid_grant');
      await refused({ resource: aConn, subject_token: b.accessToken.slice(0, -4) + 'AAAA' }, 'invalid_grant');
      await refused({ resource: bConn }, 'invalid_target');
      await refused({ resource: 'conn_01JZZZZZZZZZZZZZZZZZZZZZZZ' }, 'invalid_target');
      await refused({ audience: 'no-such-provider' }, 'invalid_target');
      await refused({ resource: aStatic }, 'invalid_target');
      await refused({ resource: aFlaky }, 'invalid_target');
      await refused({ resource: aConn, audience: 'local-oauth' }, 'invalid_request');
      await refused({ resource: aConn, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }, 'invalid_request');
    });

    it('refuses an unknown grant, a repeated parameter and a body that is not a form', async () => {
      const password = await oauth.genericTokenEndpointRequest(
        as,
        { client_id: client.id },
        oauth.ClientSecretBasic(client.secret),
        'password',
        { username: 'u', password: 'p' },
        insecure,
      );
      expect(password.status).toBe(400);
      expect(await password.json()).toMatchObject({ error: 'unsupported_grant_type' });
      const form = `grant_type=${encodeURIComponent(GRANT)}&subject_token=${aToken}&subject_token_type=${encodeURIComponent(ACCESS)}&resource=${aConn}&resource=${bConn}`;
      const twice = await fetch(`${nexus.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { authorization: client.basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      });
      expect(twice.status).toBe(400);
      expect(await twice.json()).toMatchObject({ error: 'invalid_request' });
      const json = await fetch(`${nexus.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { authorization: client.basic, 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: GRANT }),
      });
      expect(json.status).toBe(400);
      expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    });
  });
});

import { createServer, type AddressInfo, type Socket } from 'node:net';
import { toJsonString } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { CredentialSchema, StrategyType } from '../../gen/ts/nexus/v1/token_pb.js';
import { callback, connectViaConsent, throughNexus } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { allowOutbound } from '../support/outbound-hosts.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

describe.each(BACKENDS)('OAuth2 connection end to end (%s)', (backend) => {
  let auth: TestAuthServer;
  let nexus: TestApp;
  let api: Clients;
  // A token endpoint that accepts connections and never answers (allow-listed like the AS).
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    allowOutbound(`127.0.0.1:${(silent.address() as AddressInfo).port}`);
    nexus = await startTestApp({ backend });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: oauthProvider(auth) });
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
    silent.close();
  });

  const connect = (workspaceId: string) => connectViaConsent(auth, api, workspaceId);

  it('takes a user from consent to an active connection and a token, then refreshes and revokes', async () => {
    auth.expiresIn = 3600;
    const { created, providerUrl, result } = await connect('user-1');
    // auth_url is Nexus's consent page; the provider URL comes only after the confirmation there.
    expect(created.authUrl).toMatch(new RegExp(`^${nexus.baseUrl}/connect/[A-Za-z0-9_-]{43}$`));
    const authUrl = new URL(providerUrl);
    expect(authUrl.origin + authUrl.pathname).toBe(auth.authorizationUrl);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authUrl.searchParams.get('redirect_uri')).toBe(`${nexus.baseUrl}/oauth/callback`);
    expect(authUrl.searchParams.get('scope')).toBe('openid email');
    expect(created.connection?.status).toBe(ConnectionStatus.PENDING);

    expect(result.status).toBe(302);
    const back = new URL(result.location!);
    expect(back.origin + back.pathname).toBe(RETURN_URL);
    expect(back.searchParams.get('status')).toBe('success');
    const id = back.searchParams.get('connection_id')!;
    expect(id).toBe(created.connection!.id);

    const got = await api.connections.getConnection({ connectionId: id });
    expect(got.connection?.status).toBe(ConnectionStatus.ACTIVE);

    const token = (await api.tokens.getToken({ connectionId: id })).credential!;
    expect(token.strategy?.type).toBe(StrategyType.OAUTH2);
    expect(token.credentials.case).toBe('oauth2');
    const first = token.credentials.value as { accessToken: string };
    expect(first.accessToken.split('.')).toHaveLength(3); // the server's JWT, passed through
    expect(toJsonString(CredentialSchema, token)).not.toMatch(/refresh/i);
    expect(auth.refreshRequests).toBe(0);

    // Ask for more lifetime than the token has left: Nexus refreshes on demand.
    const before = auth.refreshRequests;
    const refreshed = (await api.tokens.getToken({ connectionId: id, minRemaining: { seconds: 3600n, nanos: 0 } })).credential!;
    expect(auth.refreshRequests).toBe(before + 1);
    expect((refreshed.credentials.value as { accessToken: string }).accessToken).not.toBe(first.accessToken);

    // A fresh token is served from storage without calling the provider.
    await api.tokens.getToken({ connectionId: id });
    expect(auth.refreshRequests).toBe(before + 1);

    // Forced refresh.
    const forced = (await api.tokens.refreshToken({ connectionId: id })).credential!;
    expect(auth.refreshRequests).toBe(before + 2);
    expect(forced.credentials.case).toBe('oauth2');

    // Delete revokes at the provider (RFC 7009) and erases the credentials.
    const deleted = await api.connections.deleteConnection({ connectionId: id });
    expect(deleted.revokedAtProvider).toBe(true);
    expect(deleted.connection?.status).toBe(ConnectionStatus.REVOKED);
    expect(auth.revoked.at(-1)?.hint).toBe('refresh_token');
    const row = await nexus.app.store.connections.findById(deleted.connection!.projectId, id);
    expect(row?.credentialsSealed).toBeNull();
    await expectConnectError(api.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'CONNECTION_NOT_ACTIVE');
  });

  it('keeps the old refresh token when the provider returns none', async () => {
    const { result } = await connect('user-keep');
    const id = new URL(result.location!).searchParams.get('connection_id')!;
    auth.rotateRefreshTokens = false;
    try {
      await api.tokens.refreshToken({ connectionId: id });
      await api.tokens.refreshToken({ connectionId: id });
      const token = (await api.tokens.refreshToken({ connectionId: id })).credential!;
      expect(token.credentials.case).toBe('oauth2');
      const conn = await api.connections.getConnection({ connectionId: id });
      expect(conn.connection?.status).toBe(ConnectionStatus.ACTIVE);
    } finally {
      auth.rotateRefreshTokens = true;
    }
  });

  it('marks the connection ATTENTION_REQUIRED when the provider rejects the refresh, and never retries', async () => {
    const { result } = await connect('user-rejected');
    const id = new URL(result.location!).searchParams.get('connection_id')!;
    auth.forgetRefreshTokens(); // the user revoked the app at the provider
    const before = auth.refreshRequests;
    await expectConnectError(api.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    expect(auth.refreshRequests).toBe(before + 1);
    const conn = await api.connections.getConnection({ connectionId: id });
    expect(conn.connection?.status).toBe(ConnectionStatus.ATTENTION_REQUIRED);
    expect(conn.connection?.statusReason).toBe('invalid_grant');
    await expectConnectError(api.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    expect(auth.refreshRequests).toBe(before + 1);
  });

  it('answers UNAVAILABLE and leaves the connection ACTIVE when the provider fails with 5xx', async () => {
    const { result } = await connect('user-5xx');
    const id = new URL(result.location!).searchParams.get('connection_id')!;
    auth.refreshMode = 'server_error';
    try {
      await expectConnectError(api.tokens.refreshToken({ connectionId: id }), Code.Unavailable, 'PROVIDER_UNAVAILABLE');
    } finally {
      auth.refreshMode = 'ok';
    }
    expect((await api.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.ACTIVE);
    // The old refresh token was not consumed: the next refresh succeeds.
    const token = (await api.tokens.refreshToken({ connectionId: id })).credential!;
    expect(token.credentials.case).toBe('oauth2');
  });

  it('answers UNAVAILABLE when the token endpoint times out, at exchange and at refresh, changing nothing it should not', async () => {
    const hangingTokenUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/token`;
    try {
      // Refresh: the connection was made while the endpoint answered; then it stops answering.
      const { result } = await connect('user-timeout');
      const id = new URL(result.location!).searchParams.get('connection_id')!;
      const provider = oauthProvider(auth, { name: 'local-oauth' });
      provider.oauth2!.tokenUrl = hangingTokenUrl;
      await api.providers.updateProvider({ provider, updateMask: { paths: ['oauth2.token_url'] } });
      const started = Date.now();
      await expectConnectError(api.tokens.refreshToken({ connectionId: id }), Code.Unavailable, 'PROVIDER_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(nexus.config.providerTimeoutMs + 3_000);
      expect((await api.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.ACTIVE);

      // Exchange: the code cannot be redeemed, so the connection fails with a retryable reason.
      const attempt = await connect('user-timeout-exchange');
      expect(new URL(attempt.result.location!).searchParams.get('error')).toBe('temporarily_unavailable');
      expect((await api.connections.getConnection({ connectionId: attempt.created.connection!.id })).connection?.status).toBe(ConnectionStatus.FAILED);
    } finally {
      const restored = oauthProvider(auth, { name: 'local-oauth' });
      await api.providers.updateProvider({ provider: restored, updateMask: { paths: ['oauth2.token_url'] } });
      for (const s of sockets) s.destroy();
    }
  });

  it('sends the user back with status=error when consent is denied, and marks the connection FAILED', async () => {
    auth.denyConsent = true;
    let outcome;
    try {
      outcome = await connect('user-denied');
    } finally {
      auth.denyConsent = false;
    }
    const back = new URL(outcome.result.location!);
    expect(back.searchParams.get('status')).toBe('error');
    expect(back.searchParams.get('error')).toBe('access_denied');
    const conn = await api.connections.getConnection({ connectionId: outcome.created.connection!.id });
    expect(conn.connection?.status).toBe(ConnectionStatus.FAILED);
    expect(conn.connection?.statusReason).toBe('access_denied');
  });

  it('refuses a replayed callback and changes nothing', async () => {
    const { created, callbackUrl, result } = await connect('user-replay');
    expect(result.status).toBe(302);
    const exchanges = auth.codeExchanges;
    const replay = await callback(callbackUrl);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('ERROR_REASON_STATE_ALREADY_USED');
    expect(auth.codeExchanges).toBe(exchanges); // the code was not sent again
    const conn = await api.connections.getConnection({ connectionId: created.connection!.id });
    expect(conn.connection?.status).toBe(ConnectionStatus.ACTIVE);
  });

  it('refuses a tampered state', async () => {
    const created = await api.connections.createConnection({
      workspaceId: 'user-tamper',
      provider: { case: 'providerName', value: 'local-oauth' },
      returnUrl: RETURN_URL,
    });
    const callbackUrl = new URL(await auth.consent(created.authUrl));
    const state = callbackUrl.searchParams.get('state')!;
    const [h, p, s] = state.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.sub = 'conn_someone_else';
    callbackUrl.searchParams.set('state', `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`);
    const res = await callback(callbackUrl.href);
    expect(res.status).toBe(400);
    expect(res.body).toContain('ERROR_REASON_STATE_INVALID');
    const garbage = await callback(`${nexus.baseUrl}/oauth/callback?state=not-a-token&code=x`);
    expect(garbage.body).toContain('ERROR_REASON_STATE_INVALID');
    const conn = await api.connections.getConnection({ connectionId: created.connection!.id });
    expect(conn.connection?.status).toBe(ConnectionStatus.PENDING);
  });

  it('refuses an expired state', async () => {
    const created = await api.connections.createConnection({
      workspaceId: 'user-expired',
      provider: { case: 'providerName', value: 'local-oauth' },
      returnUrl: RETURN_URL,
    });
    const callbackUrl = await auth.consent(created.authUrl);
    // Age the server-side state row past its lifetime.
    await nexus.app.database.dataSource.query(`UPDATE auth_states SET expires_at = now() - interval '1 second' WHERE connection_id = $1`, [
      created.connection!.id,
    ]);
    const res = await callback(callbackUrl);
    expect(res.status).toBe(400);
    expect(res.body).toContain('ERROR_REASON_STATE_EXPIRED');
    expect((await api.connections.getConnection({ connectionId: created.connection!.id })).connection?.status).toBe(ConnectionStatus.PENDING);
  });

  it('refuses a return_url off the allow-list', async () => {
    for (const returnUrl of [
      'https://evil.example.com/connections/return',
      'https://app.example.com.evil.io/connections/',
      'https://app.example.com/other/path',
      'https://user@app.example.com/connections/return',
    ]) {
      await expectConnectError(
        api.connections.createConnection({ workspaceId: 'w', provider: { case: 'providerName', value: 'local-oauth' }, returnUrl }),
        Code.InvalidArgument,
        'RETURN_URL_NOT_ALLOWED',
      );
    }
    await expectConnectError(
      api.connections.createConnection({ workspaceId: 'w', provider: { case: 'providerName', value: 'local-oauth' }, returnUrl: 'javascript:alert(1)' }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  it('discovers the endpoints of a provider configured by its OIDC issuer', async () => {
    const provider = oauthProvider(auth, { name: 'local-oidc' });
    provider.oauth2 = { ...provider.oauth2!, authorizationUrl: '', tokenUrl: '', revocationUrl: '', issuer: auth.issuer };
    await api.providers.createProvider({ provider });
    const created = await api.connections.createConnection({
      workspaceId: 'user-oidc',
      provider: { case: 'providerName', value: 'local-oidc' },
      returnUrl: RETURN_URL,
    });
    const providerUrl = await throughNexus(created.authUrl);
    const authUrl = new URL(providerUrl);
    expect(authUrl.origin + authUrl.pathname).toBe(`${auth.issuer}/authorize`);
    const result = await callback(await auth.consent(providerUrl));
    expect(new URL(result.location!).searchParams.get('status')).toBe('success');
    const token = (await api.tokens.getToken({ connectionId: created.connection!.id })).credential!;
    expect(token.credentials.case).toBe('oauth2');
    // Revocation uses the discovered revocation endpoint.
    const deleted = await api.connections.deleteConnection({ connectionId: created.connection!.id });
    expect(deleted.revokedAtProvider).toBe(true);
  });

  it('supersedes the older connection of the same workspace and provider', async () => {
    const first = await connect('user-twice');
    const second = await connect('user-twice');
    const firstId = first.created.connection!.id;
    const old = await api.connections.getConnection({ connectionId: firstId });
    expect(old.connection?.status).toBe(ConnectionStatus.REVOKED);
    expect(old.connection?.statusReason).toBe('superseded');
    expect(old.connection?.supersededBy).toBe(second.created.connection!.id);
    expect((await api.connections.getConnection({ connectionId: second.created.connection!.id })).connection?.status).toBe(ConnectionStatus.ACTIVE);
  });
});

import { create } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import type { JsonObject } from '@bufbuild/protobuf';
import {
  AuthType,
  ClientAuthMethod,
  Pkce,
  ProviderSchema,
  TokenResponseFormat,
  type OAuth2Settings,
  type Provider,
  type TokenResponsePaths,
} from '../../gen/ts/nexus/v1/provider_pb.js';
import { callback, throughNexus } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { QuirkyAuthServer, quirkyPorts, quirkyResolver, resolveQuirkyHostsToLoopback, type QuirkyOptions } from '../support/quirky-auth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

type OAuth2Init = Partial<Omit<OAuth2Settings, '$typeName' | 'tokenResponsePaths' | 'userinfoPaths'>> & {
  tokenResponsePaths?: Partial<Omit<TokenResponsePaths, '$typeName'>>;
  userinfoPaths?: { subject?: string; email?: string };
};

/** A provider pointing at a quirky server, with the settings under test. */
function quirkyProvider(
  name: string,
  as: QuirkyAuthServer,
  oauth2: OAuth2Init = {},
  extra: { connectionFieldsSchema?: JsonObject } = {},
  origin = as.origin,
): Provider {
  return create(ProviderSchema, {
    name,
    authType: AuthType.OAUTH2,
    oauth2: {
      clientId: as.clientId,
      clientSecret: as.clientSecret,
      authorizationUrl: `${origin}/oauth/authorize`,
      tokenUrl: `${origin}/oauth/token`,
      revocationUrl: `${origin}/oauth/revoke`,
      defaultScopes: ['read'],
      clientAuthMethod: as.options.clientAuth === 'basic' ? ClientAuthMethod.CLIENT_SECRET_BASIC : ClientAuthMethod.CLIENT_SECRET_POST,
      ...oauth2,
    },
    ...extra,
  });
}

describe.each(BACKENDS)('provider quirks against strict local authorization servers (%s)', (backend) => {
  let nexus: TestApp;
  let api: Clients;
  const servers: QuirkyAuthServer[] = [];
  // Servers start per test, after Nexus: their ports are reserved and allow-listed up front.
  let ports: number[] = [];
  const start = async (options: QuirkyOptions) => {
    const port = ports.shift();
    if (port === undefined) throw new Error('reserve more quirky ports');
    const as = await QuirkyAuthServer.start(options, port);
    servers.push(as);
    return as;
  };

  beforeAll(async () => {
    resolveQuirkyHostsToLoopback();
    const reserved = await quirkyPorts(16, ['acme.quirky.test', 'globex.quirky.test']);
    ports = reserved.ports;
    nexus = await startTestApp({ backend, config: { outboundAllowedHosts: reserved.allowedHosts }, outboundResolver: quirkyResolver });
    api = clients(nexus.baseUrl, ADMIN_KEY);
  });
  afterAll(async () => {
    await nexus?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  /** CreateConnection, consent at the quirky server, Nexus's callback; returns the connection id and where the user lands. */
  async function connect(as: QuirkyAuthServer, provider: string, workspaceId: string, fields?: Record<string, string>) {
    const created = await api.connections.createConnection({
      workspaceId,
      provider: { case: 'providerName', value: provider },
      returnUrl: RETURN_URL,
      ...(fields ? { fields } : {}),
    });
    const providerUrl = await throughNexus(created.authUrl);
    const landed = await callback(await as.consent(providerUrl));
    const back = new URL(landed.location!);
    return { id: created.connection!.id, authUrl: new URL(providerUrl), status: back.searchParams.get('status'), error: back.searchParams.get('error') };
  }
  const accessToken = async (id: string, minRemainingSeconds = 0) => {
    const res = (
      await api.tokens.getToken({ connectionId: id, ...(minRemainingSeconds ? { minRemaining: { seconds: BigInt(minRemainingSeconds), nanos: 0 } } : {}) })
    ).credential!;
    return (res.credentials.value as { accessToken: string }).accessToken;
  };

  it('form-encoded token responses: read with token_response_format FORM, refused without it; a 200 carrying an error is a rejection', async () => {
    const as = await start({ clientAuth: 'post', tokenFormat: 'form' });
    await api.providers.createProvider({ provider: quirkyProvider('form-quirk', as, { tokenResponseFormat: TokenResponseFormat.FORM }) });
    await api.providers.createProvider({ provider: quirkyProvider('form-plain', as) });

    const ok = await connect(as, 'form-quirk', 'ws-form');
    expect(ok.status).toBe('success');
    expect(await accessToken(ok.id)).toBe(as.accessTokens.at(-1));
    // Refresh (more lifetime than the token has): the form-encoded answer is read again, expires_in included.
    const before = as.accessTokens.length;
    const refreshed = await accessToken(ok.id, 3600);
    expect(as.accessTokens.length).toBe(before + 1);
    expect(refreshed).toBe(as.accessTokens.at(-1));
    const conn = (await api.connections.getConnection({ connectionId: ok.id })).connection!;
    expect(Number(conn.tokenExpireTime!.seconds) * 1000).toBeGreaterThan(Date.now() + 3000_000);

    // The server forgets the refresh token and answers `error=invalid_grant` with HTTP 200: the user must reconnect.
    as.forgetRefreshTokens();
    await expectConnectError(api.tokens.refreshToken({ connectionId: ok.id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    expect((await api.connections.getConnection({ connectionId: ok.id })).connection?.status).toBe(ConnectionStatus.ATTENTION_REQUIRED);

    // Without the setting the same answer is not a token response: the connection fails, nothing is stored.
    const plain = await connect(as, 'form-plain', 'ws-form');
    expect(plain.status).toBe('error');
    expect((await api.connections.getConnection({ connectionId: plain.id })).connection?.status).toBe(ConnectionStatus.FAILED);
  });

  it('GitHub-style servers answer JSON because Nexus always sends Accept: application/json', async () => {
    const as = await start({ clientAuth: 'post', tokenFormat: 'form-unless-accept-json' });
    await api.providers.createProvider({ provider: quirkyProvider('accept-json', as) });
    const { id, status } = await connect(as, 'accept-json', 'ws-accept');
    expect(status).toBe('success');
    expect(await accessToken(id)).toBe(as.accessTokens.at(-1));
    expect(as.tokenRequests.map((r) => r.accept)).toEqual([expect.stringContaining('application/json')]);
  });

  it('nested tokens: token_response_paths lift authed_user.* (never the top-level decoy); a flat refresh answer still works', async () => {
    const as = await start({ clientAuth: 'post', tokenFormat: 'nested' });
    await api.providers.createProvider({
      provider: quirkyProvider('nested-quirk', as, {
        tokenResponsePaths: {
          accessToken: 'authed_user.access_token',
          refreshToken: 'authed_user.refresh_token',
          expiresIn: 'authed_user.expires_in',
          scope: 'authed_user.scope',
        },
      }),
    });
    const { id, status } = await connect(as, 'nested-quirk', 'ws-nested');
    expect(status).toBe('success');
    const first = await accessToken(id);
    expect(first).toBe(as.accessTokens.at(-1));
    expect(as.decoyTokens).not.toContain(first);
    // The nested refresh token was kept: a refresh succeeds (the server only knows the nested one), and its flat
    // answer typed "user" is read too.
    const second = await accessToken(id, 3600);
    expect(second).toBe(as.accessTokens.at(-1));
    expect(second).not.toBe(first);
    const refreshes = as.tokenRequests.filter((r) => r.grant === 'refresh_token');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.refused).toBeUndefined();
  });

  it('Basic-only client authentication is used for the exchange, refresh and revocation; body credentials are refused', async () => {
    const as = await start({ clientAuth: 'basic', tokenFormat: 'json' });
    await api.providers.createProvider({ provider: quirkyProvider('basic-only', as) });
    await api.providers.createProvider({
      provider: quirkyProvider('basic-as-post', as, { clientAuthMethod: ClientAuthMethod.CLIENT_SECRET_POST }),
    });

    const { id, status } = await connect(as, 'basic-only', 'ws-basic');
    expect(status).toBe('success');
    await accessToken(id, 3600); // refresh
    await api.connections.deleteConnection({ connectionId: id }); // revocation
    expect(as.tokenRequests.map((r) => [r.grant, r.auth, r.refused])).toEqual([
      ['authorization_code', 'basic', undefined],
      ['refresh_token', 'basic', undefined],
    ]);
    expect(as.revoked).toHaveLength(1);

    const refused = await connect(as, 'basic-as-post', 'ws-basic');
    expect(refused).toMatchObject({ status: 'error', error: 'invalid_client' });
    expect(as.tokenRequests.at(-1)).toMatchObject({ auth: 'post', refused: 'invalid_client' });
  });

  it('extra authorize and token parameters the server requires', async () => {
    const as = await start({
      clientAuth: 'post',
      tokenFormat: 'json',
      requiredAuthorizeParams: { access_type: 'offline', prompt: 'consent', audience: 'api.quirky.example' },
      requiredTokenParams: { resource: 'https://api.quirky.example/' },
    });
    await api.providers.createProvider({
      provider: quirkyProvider('extra-params', as, {
        authorizeParams: { access_type: 'offline', prompt: 'consent', audience: 'api.quirky.example' },
        tokenParams: { resource: 'https://api.quirky.example/' },
      }),
    });
    await api.providers.createProvider({ provider: quirkyProvider('no-extra-params', as) });

    const { id, status, authUrl } = await connect(as, 'extra-params', 'ws-extra');
    expect(status).toBe('success');
    expect(authUrl.searchParams.get('audience')).toBe('api.quirky.example');
    await accessToken(id, 3600); // the refresh carries the token parameter too
    expect(as.tokenRequests.map((r) => r.refused)).toEqual([undefined, undefined]);

    const bare = await api.connections.createConnection({
      workspaceId: 'ws-extra',
      provider: { case: 'providerName', value: 'no-extra-params' },
      returnUrl: RETURN_URL,
    });
    await expect(as.consent(bare.authUrl)).rejects.toThrow(/access_type=offline is required/);

    // Protocol parameters cannot be overridden through the extra ones.
    await expectConnectError(
      api.providers.createProvider({ provider: quirkyProvider('bad-token-params', as, { tokenParams: { grant_type: 'password' } }) }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  it.each([
    [',', 'read,write'],
    ['+', 'read+write'],
    [' ', 'read write'],
  ])('scope separator %j reaches the server as exactly %j', async (separator, expected) => {
    const as = await start({ clientAuth: 'post', tokenFormat: 'json', expectedScope: expected });
    const name = `sep-${['comma', 'plus', 'space'][[',', '+', ' '].indexOf(separator)]}`;
    await api.providers.createProvider({ provider: quirkyProvider(name, as, { scopeSeparator: separator, defaultScopes: ['read', 'write'] }) });
    const { id, status } = await connect(as, name, 'ws-sep');
    expect(status).toBe('success');
    expect(await accessToken(id)).toBe(as.accessTokens.at(-1));
    // A provider joining the same scopes differently is refused by the server.
    const other = separator === ',' ? ' ' : ',';
    await api.providers.createProvider({ provider: quirkyProvider(`${name}-wrong`, as, { scopeSeparator: other, defaultScopes: ['read', 'write'] }) });
    const wrong = await api.connections.createConnection({
      workspaceId: 'ws-sep',
      provider: { case: 'providerName', value: `${name}-wrong` },
      returnUrl: RETURN_URL,
    });
    await expect(as.consent(wrong.authUrl)).rejects.toThrow(/scope must be exactly/);
  });

  it('subdomain URL templates are filled from connection fields collected before the redirect', async () => {
    const as = await start({ clientAuth: 'post', tokenFormat: 'json', host: 'acme.quirky.test' });
    const template = `http://{subdomain}.quirky.test:${as.portNumber}`;
    const fieldsSchema = {
      type: 'object',
      required: ['subdomain'],
      additionalProperties: false,
      properties: { subdomain: { type: 'string', pattern: '^[a-z0-9-]{1,63}$' } },
    };
    const provider = quirkyProvider('tenant-quirk', as, {}, { connectionFieldsSchema: fieldsSchema }, template);
    const stored = (await api.providers.createProvider({ provider })).provider!;
    expect(stored.oauth2?.tokenUrl).toBe(`${template}/oauth/token`);
    expect(stored.connectionFieldsSchema).toEqual(fieldsSchema);

    const { id, status, authUrl } = await connect(as, 'tenant-quirk', 'ws-tenant', { subdomain: 'acme' });
    expect(authUrl.host).toBe(`acme.quirky.test:${as.portNumber}`);
    expect(status).toBe('success');
    expect((await api.connections.getConnection({ connectionId: id })).connection?.fields).toEqual({ subdomain: 'acme' });
    expect(await accessToken(id, 3600)).toBe(as.accessTokens.at(-1)); // refresh at the tenant's token URL
    expect((await api.connections.deleteConnection({ connectionId: id })).revokedAtProvider).toBe(true);
    expect(as.tokenRequests.map((r) => r.refused)).toEqual([undefined, undefined]);
    // Another tenant's subdomain reaches another host (this server refuses it).
    const other = await api.connections.createConnection({
      workspaceId: 'ws-tenant',
      provider: { case: 'providerName', value: 'tenant-quirk' },
      returnUrl: RETURN_URL,
      fields: { subdomain: 'globex' },
    });
    expect(new URL(await throughNexus(other.authUrl)).hostname).toBe('globex.quirky.test');

    // Bad input: missing, malformed, or fields for a provider that takes none.
    const createWith = (fields: Record<string, string> | undefined, providerName = 'tenant-quirk') =>
      api.connections.createConnection({
        workspaceId: 'ws-tenant',
        provider: { case: 'providerName', value: providerName },
        returnUrl: RETURN_URL,
        ...(fields ? { fields } : {}),
      });
    await expectConnectError(createWith(undefined), Code.InvalidArgument, 'CREDENTIALS_INVALID');
    await expectConnectError(createWith({ subdomain: 'evil.example/x#' }), Code.InvalidArgument, 'CREDENTIALS_INVALID');
    await api.providers.createProvider({ provider: quirkyProvider('plain-for-fields', as) });
    await expectConnectError(createWith({ subdomain: 'acme' }, 'plain-for-fields'), Code.InvalidArgument, 'INVALID_FIELD');
  });

  it('a schema without a pattern still cannot steer a templated host elsewhere', async () => {
    const as = await start({ clientAuth: 'post', tokenFormat: 'json', host: 'acme.quirky.test' });
    const loose = { type: 'object', required: ['subdomain'], properties: { subdomain: { type: 'string' } } };
    await api.providers.createProvider({
      provider: quirkyProvider('tenant-loose', as, {}, { connectionFieldsSchema: loose }, `http://{subdomain}.quirky.test:${as.portNumber}`),
    });
    const err = await expectConnectError(
      api.connections.createConnection({
        workspaceId: 'w',
        provider: { case: 'providerName', value: 'tenant-loose' },
        returnUrl: RETURN_URL,
        fields: { subdomain: 'evil.example:80/@' },
      }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    expect(err.rawMessage).not.toContain('evil');
  });

  it('pkce UNSUPPORTED: no code_challenge on the authorize request and no code_verifier at the token endpoint; S256 is the default', async () => {
    const as = await start({ clientAuth: 'post', tokenFormat: 'json', pkce: 'refused' });
    await api.providers.createProvider({ provider: quirkyProvider('no-pkce', as, { pkce: Pkce.UNSUPPORTED }) });
    await api.providers.createProvider({ provider: quirkyProvider('pkce-default', as) });
    expect((await api.providers.getProvider({ provider: 'no-pkce' })).provider?.oauth2?.pkce).toBe(Pkce.UNSUPPORTED);
    expect((await api.providers.getProvider({ provider: 'pkce-default' })).provider?.oauth2?.pkce).toBe(Pkce.S256);

    const { id, status, authUrl } = await connect(as, 'no-pkce', 'ws-pkce');
    expect(status).toBe('success');
    expect(authUrl.searchParams.has('code_challenge')).toBe(false);
    expect(authUrl.searchParams.has('code_challenge_method')).toBe(false);
    expect(await accessToken(id)).toBe(as.accessTokens.at(-1));
    expect(as.tokenRequests.map((r) => r.refused)).toEqual([undefined]);

    // The default sends S256, which this server refuses: the setting is what makes the connection work.
    const created = await api.connections.createConnection({
      workspaceId: 'ws-pkce',
      provider: { case: 'providerName', value: 'pkce-default' },
      returnUrl: RETURN_URL,
    });
    const defaultUrl = new URL(await throughNexus(created.authUrl));
    expect(defaultUrl.searchParams.get('code_challenge_method')).toBe('S256');
    await expect(as.consent(created.authUrl)).rejects.toThrow(/code_challenge is not supported/);

    // A public client keeps PKCE: it is all that binds its code.
    await expectConnectError(
      api.providers.createProvider({ provider: quirkyProvider('public-no-pkce', as, { pkce: Pkce.UNSUPPORTED, clientAuthMethod: ClientAuthMethod.NONE }) }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  it('userinfo_url: who consented is read from a non-OpenID user endpoint (GitHub-like numeric id) with the new access token', async () => {
    const as = await start({
      clientAuth: 'post',
      tokenFormat: 'json',
      userinfo: { login: 'octo', id: 583231, email: 'octo@example.com', profile: { uid: 'u-7' } },
    });
    await api.providers.createProvider({
      provider: quirkyProvider('userinfo-quirk', as, { userinfoUrl: `${as.origin}/user`, userinfoPaths: { subject: 'id', email: 'email' } }),
    });
    await api.providers.createProvider({
      provider: quirkyProvider('userinfo-nested', as, { userinfoUrl: `${as.origin}/user`, userinfoPaths: { subject: 'profile.uid' } }),
    });
    await api.providers.createProvider({ provider: quirkyProvider('userinfo-missing', as, { userinfoUrl: `${as.origin}/user` }) });
    await api.providers.createProvider({ provider: quirkyProvider('userinfo-none', as) });
    const stored = (await api.providers.getProvider({ provider: 'userinfo-quirk' })).provider!.oauth2!;
    expect([stored.userinfoUrl, stored.userinfoPaths?.subject, stored.userinfoPaths?.email]).toEqual([`${as.origin}/user`, 'id', 'email']);

    const ok = await connect(as, 'userinfo-quirk', 'ws-userinfo');
    expect(ok.status).toBe('success');
    const conn = (await api.connections.getConnection({ connectionId: ok.id })).connection!;
    expect([conn.providerSubject, conn.providerEmail]).toEqual(['583231', 'octo@example.com']);
    // Read with the access token just issued for this connection.
    expect(as.userinfoRequests.at(-1)).toBe(`Bearer ${await accessToken(ok.id)}`);

    const nested = await connect(as, 'userinfo-nested', 'ws-userinfo');
    const nestedConn = (await api.connections.getConnection({ connectionId: nested.id })).connection!;
    expect([nested.status, nestedConn.providerSubject, nestedConn.providerEmail]).toEqual(['success', 'u-7', 'octo@example.com']);

    // No subject at the (default) path `sub`: the identity cannot be recorded, so the connection fails rather than bind to nothing.
    const missing = await connect(as, 'userinfo-missing', 'ws-userinfo');
    expect(missing).toMatchObject({ status: 'error', error: 'invalid_userinfo' });
    expect((await api.connections.getConnection({ connectionId: missing.id })).connection?.status).toBe(ConnectionStatus.FAILED);

    // Without the setting nothing is read and nothing recorded.
    const requests = as.userinfoRequests.length;
    const none = await connect(as, 'userinfo-none', 'ws-userinfo');
    expect(none.status).toBe('success');
    expect(as.userinfoRequests.length).toBe(requests);
    expect((await api.connections.getConnection({ connectionId: none.id })).connection?.providerSubject).toBe('');

    // Paths without a URL, or that are not member names, are refused.
    await expectConnectError(
      api.providers.createProvider({
        provider: quirkyProvider('userinfo-bad-path', as, { userinfoUrl: `${as.origin}/user`, userinfoPaths: { subject: 'a..b' } }),
      }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(
      api.providers.createProvider({ provider: quirkyProvider('userinfo-no-url', as, { userinfoPaths: { subject: 'id' } }) }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  it('refuses URL templates that reference undeclared fields or put a placeholder where a host belongs', async () => {
    const as = servers[0]!;
    const schema = { type: 'object', required: ['subdomain'], properties: { subdomain: { type: 'string' }, region: { type: 'string' } } };
    const bad = async (origin: string, connectionFieldsSchema: JsonObject | undefined) => {
      await expectConnectError(
        api.providers.createProvider({ provider: quirkyProvider('bad-template', as, {}, connectionFieldsSchema ? { connectionFieldsSchema } : {}, origin) }),
        Code.InvalidArgument,
        'URL_TEMPLATE_INVALID',
      );
    };
    await bad('https://{tenant}.zendesk.com', schema); // not declared
    await bad('https://{region}.zendesk.com', schema); // declared but not required
    await bad('https://{subdomain}.zendesk.com', undefined); // no schema at all
    await bad('https://{subdomain}', schema); // the user would pick the whole host
    await bad('https://login.{subdomain}.com', schema); // not leading labels
    await bad('https://{Subdomain}.zendesk.com', schema); // malformed placeholder
    await expect(api.providers.getProvider({ provider: 'bad-template' })).rejects.toThrow(/not found/);
  });
});

import { create } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { AuthType, ProviderSchema, type Provider } from '../../gen/ts/nexus/v1/provider_pb.js';
import { StrategyType } from '../../gen/ts/nexus/v1/token_pb.js';
import { callback, isConsentLink, throughNexus } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { loadRefreshConfig } from '../../src/config/config.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { TestMcpServer } from '../support/mcp-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

function mcpProvider(name: string, serverUrl: string): Provider {
  return create(ProviderSchema, {
    name,
    displayName: 'Test MCP server',
    description: 'A local MCP server behind its own authorization server',
    categories: ['mcp'],
    authType: AuthType.MCP,
    enabled: true,
    mcp: { serverUrl, defaultScopes: ['tools'] },
  });
}

/** The agent: an MCP SDK client calling a tool with the token Nexus handed out. */
async function callWhoami(serverUrl: string, token: string): Promise<{ clientId: string; resource: string }> {
  const client = new Client({ name: 'nexus-test-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const content = result.content as { type: string; text: string }[];
    return JSON.parse(content[0]!.text) as { clientId: string; resource: string };
  } finally {
    await client.close();
  }
}

describe.each(BACKENDS)('MCP server connections end to end (%s)', (backend) => {
  let mcp: TestMcpServer;
  let nexus: TestApp;
  let api: Clients;

  beforeAll(async () => {
    mcp = await TestMcpServer.start();
    nexus = await startTestApp({ backend, config: { outboundAllowedHosts: mcp.allowedHosts } });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: mcpProvider('test-mcp', mcp.serverUrl) });
  }, 180_000); // an embedded database on a busy machine starts slowly
  afterAll(async () => {
    await nexus?.close();
    await mcp?.stop();
  });

  async function connectWithOAuth(workspaceId: string) {
    const created = await api.connections.createConnection({
      workspaceId,
      provider: { case: 'providerName', value: 'test-mcp' },
      returnUrl: RETURN_URL,
    });
    const providerUrl = await throughNexus(created.authUrl);
    const result = await callback(await mcp.consent(providerUrl));
    return { created, providerUrl, result, id: created.connection!.id };
  }

  it('discovers, registers a client, takes the user through consent, and an agent calls a tool; refresh keeps the resource', async () => {
    // The catalog entry is public like any provider, without secrets.
    const listed = await clients(nexus.baseUrl).providers.listProviders({ category: 'mcp' });
    expect(listed.providers.map((p) => p.name)).toEqual(['test-mcp']);
    expect(listed.providers[0]!.authType).toBe(AuthType.MCP);
    expect(listed.providers[0]!.mcp?.serverUrl).toBe(mcp.serverUrl);

    const { created, providerUrl, result, id } = await connectWithOAuth('mcp-user-1');
    expect(mcp.provider.registrations).toBe(1);
    expect(isConsentLink(created.authUrl)).toBe(true);
    const authUrl = new URL(providerUrl);
    expect(authUrl.origin + authUrl.pathname).toBe(new URL('authorize', mcp.asUrl).href);
    expect(authUrl.searchParams.get('resource')).toBe(mcp.serverUrl);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('scope')).toBe('tools');
    const clientId = authUrl.searchParams.get('client_id')!;
    expect(mcp.provider.clients.has(clientId)).toBe(true);

    expect(result.status).toBe(302);
    expect(new URL(result.location!).searchParams.get('status')).toBe('success');
    expect((await api.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.ACTIVE);
    expect(mcp.provider.tokenRequests.at(-1)).toEqual({ grant: 'authorization_code', resource: mcp.serverUrl, clientId });

    const token = (await api.tokens.getToken({ connectionId: id })).credential!;
    expect(token.strategy?.type).toBe(StrategyType.OAUTH2);
    const accessToken = (token.credentials.value as { accessToken: string }).accessToken;
    expect(await callWhoami(mcp.serverUrl, accessToken)).toEqual({ clientId, resource: mcp.serverUrl });

    // Refresh sends the resource again; the new token works, the old refresh token is spent.
    const refreshed = (await api.tokens.refreshToken({ connectionId: id })).credential!;
    expect(mcp.provider.tokenRequests.at(-1)).toEqual({ grant: 'refresh_token', resource: mcp.serverUrl, clientId });
    const newToken = (refreshed.credentials.value as { accessToken: string }).accessToken;
    expect(newToken).not.toBe(accessToken);
    expect((await callWhoami(mcp.serverUrl, newToken)).clientId).toBe(clientId);

    // The registered client is stored with its secret sealed, and shown (id only) to admins.
    const provider = (await api.providers.getProvider({ provider: 'test-mcp' })).provider!;
    expect(provider.mcp?.registeredClientId).toBe(clientId);
    const row = (await nexus.app.store.clientRegistrations.listWithSecrets()).find((r) => r.providerId === provider.id)!;
    expect(row.clientId).toBe(clientId);
    const secret = mcp.provider.clients.get(clientId)!.client_secret!;
    expect(secret.length).toBeGreaterThan(16);
    expect(row.clientSecretSealed).toBeTruthy();
    expect(row.clientSecretSealed).not.toContain(secret);
    expect(row.tokenEndpointAuthMethod).toBe('client_secret_post'); // what this AS supports

    // Delete revokes at the discovered revocation endpoint.
    const deleted = await api.connections.deleteConnection({ connectionId: id });
    expect(deleted.revokedAtProvider).toBe(true);
  });

  it('reuses the registered client for later connections', async () => {
    const before = mcp.provider.registrations;
    const a = await connectWithOAuth('mcp-user-2');
    const b = await connectWithOAuth('mcp-user-3');
    expect(mcp.provider.registrations).toBe(before);
    expect(new URL(a.providerUrl).searchParams.get('client_id')).toBe(new URL(b.providerUrl).searchParams.get('client_id'));
    for (const { id } of [a, b]) {
      const token = (await api.tokens.getToken({ connectionId: id })).credential!;
      expect((await callWhoami(mcp.serverUrl, (token.credentials.value as { accessToken: string }).accessToken)).resource).toBe(mcp.serverUrl);
    }
  });

  it('registers again when the authorization server no longer knows the client', async () => {
    const before = mcp.provider.registrations;
    const created = await api.connections.createConnection({
      workspaceId: 'mcp-user-forgotten',
      provider: { case: 'providerName', value: 'test-mcp' },
      returnUrl: RETURN_URL,
    });
    const callbackUrl = await mcp.consent(created.authUrl);
    mcp.forgetClients(); // the code is now held by a client the AS does not know
    const result = await callback(callbackUrl);
    expect(new URL(result.location!).searchParams.get('error')).toBe('invalid_client');
    expect((await api.connections.getConnection({ connectionId: created.connection!.id })).connection?.status).toBe(ConnectionStatus.FAILED);

    const again = await connectWithOAuth('mcp-user-forgotten');
    expect(mcp.provider.registrations).toBe(before + 1);
    expect(new URL(again.result.location!).searchParams.get('status')).toBe('success');
  });

  it('the MCP server rejects a token minted for another resource (the resource indicator matters)', async () => {
    const foreign = mcp.provider.mint('https://other.example/mcp');
    await expect(callWhoami(mcp.serverUrl, foreign)).rejects.toThrow();
    await expect(callWhoami(mcp.serverUrl, mcp.provider.mint(mcp.serverUrl))).resolves.toMatchObject({ resource: mcp.serverUrl });
  });

  it('connects with a bearer token the user already has', async () => {
    const userToken = mcp.provider.mint(mcp.serverUrl, 'users-own-client');
    const before = mcp.provider.registrations;
    const created = await api.connections.createConnection({
      workspaceId: 'mcp-bearer-user',
      provider: { case: 'providerName', value: 'test-mcp' },
      mcpBearerToken: userToken,
    });
    expect(created.authUrl).toBe('');
    expect(created.connection?.status).toBe(ConnectionStatus.ACTIVE);
    expect(mcp.provider.registrations).toBe(before);

    const token = (await api.tokens.getToken({ connectionId: created.connection!.id })).credential!;
    expect(token.strategy?.type).toBe(StrategyType.BEARER);
    const bearer = (token.credentials.value as { token: string }).token;
    expect(bearer).toBe(userToken);
    expect(await callWhoami(mcp.serverUrl, bearer)).toEqual({ clientId: 'users-own-client', resource: mcp.serverUrl });

    await expectConnectError(api.tokens.refreshToken({ connectionId: created.connection!.id }), Code.FailedPrecondition, 'STATIC_CREDENTIAL');
    const row = await nexus.app.store.connections.findById(created.connection!.projectId, created.connection!.id);
    expect(row?.credentialsSealed).toBeTruthy();
    expect(row?.credentialsSealed).not.toContain(userToken);
    expect(nexus.logs.join('\n')).not.toContain(userToken);

    // Deleting does not call the AS's revocation endpoint for a token Nexus was never issued.
    const deleted = await api.connections.deleteConnection({ connectionId: created.connection!.id });
    expect(deleted.revokedAtProvider).toBe(false);
    expect((await callWhoami(mcp.serverUrl, userToken)).clientId).toBe('users-own-client');
  });

  it('refuses bad bearer tokens and bearer tokens for other provider types', async () => {
    const base = { workspaceId: 'w', provider: { case: 'providerName' as const, value: 'test-mcp' } };
    const spaced = await expectConnectError(
      api.connections.createConnection({ ...base, mcpBearerToken: 'Bearer abc.def' }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    expect(spaced.rawMessage).not.toContain('abc.def');
    await expectConnectError(api.connections.createConnection({ ...base, mcpBearerToken: 'x'.repeat(9000) }), Code.InvalidArgument, 'INVALID_FIELD');
    await api.providers.createProvider({ provider: apiKeyProvider({ name: 'not-mcp' }) });
    await expectConnectError(
      api.connections.createConnection({ workspaceId: 'w', provider: { case: 'providerName', value: 'not-mcp' }, mcpBearerToken: 'tok' }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    // Without a bearer token an OAuth connection still needs its return_url.
    await expectConnectError(api.connections.createConnection(base), Code.InvalidArgument, 'INVALID_FIELD');
  });
});

describe.each(BACKENDS)('MCP connections refreshed by the background worker (%s)', (backend) => {
  let mcp: TestMcpServer;
  let nexus: TestApp;

  beforeAll(async () => {
    mcp = await TestMcpServer.start();
    nexus = await startTestApp({
      backend,
      config: { outboundAllowedHosts: mcp.allowedHosts, refresh: { ...loadRefreshConfig({}, 2_000), worker: true, pollMs: 100 } },
    });
  }, 180_000);
  afterAll(async () => {
    await nexus?.close();
    await mcp?.stop();
  });

  it('refreshes an MCP token at half its life, with the resource indicator, and the new token works', async () => {
    const api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: mcpProvider('worker-mcp', mcp.serverUrl) });
    // Tokens that live 8 s, far shorter than the worker's lead time (5 min): without the
    // half-life rule the worker would refresh each one the moment it landed, over and over.
    mcp.provider.expiresIn = 8;
    const created = await api.connections.createConnection({
      workspaceId: 'mcp-bg',
      provider: { case: 'providerName', value: 'worker-mcp' },
      returnUrl: RETURN_URL,
    });
    const providerUrl = await throughNexus(created.authUrl);
    await callback(await mcp.consent(providerUrl));
    const connectedAt = Date.now();
    const id = created.connection!.id;
    const clientId = new URL(providerUrl).searchParams.get('client_id')!;
    const first = ((await api.tokens.getToken({ connectionId: id, minRemaining: { seconds: 0n } })).credential!.credentials.value as { accessToken: string })
      .accessToken;
    const exchanges = mcp.provider.tokenRequests.length;

    await new Promise((r) => setTimeout(r, 6_500));
    const refreshes = mcp.provider.tokenRequests.slice(exchanges);
    // One refresh at ~4 s (half of 8 s); none before, and no loop after.
    expect(refreshes.length).toBe(1);
    expect(refreshes[0]).toEqual({ grant: 'refresh_token', resource: mcp.serverUrl, clientId });
    const row = (await nexus.app.store.connections.findById(created.connection!.projectId, id))!;
    expect(row.status).toBe('ACTIVE');
    expect(row.updatedAt.getTime() - connectedAt).toBeGreaterThanOrEqual(3_000);

    const next = ((await api.tokens.getToken({ connectionId: id, minRemaining: { seconds: 0n } })).credential!.credentials.value as { accessToken: string })
      .accessToken;
    expect(next).not.toBe(first);
    expect(await callWhoami(mcp.serverUrl, next)).toEqual({ clientId, resource: mcp.serverUrl });
  });
});

describe('MCP catalog entries that would reach internal hosts are refused', () => {
  let mcp: TestMcpServer;
  let nexus: TestApp;
  let api: Clients;

  beforeAll(async () => {
    mcp = await TestMcpServer.start();
    nexus = await startTestApp({ backend: 'embedded', config: { outboundAllowedHosts: mcp.allowedHosts } });
    api = clients(nexus.baseUrl, ADMIN_KEY);
  }, 180_000); // an embedded database on a busy machine starts slowly
  afterAll(async () => {
    await nexus?.close();
    await mcp?.stop();
  });

  it.each([
    ['a private address', 'https://10.0.0.5/mcp'],
    ['the metadata address', 'https://169.254.169.254/latest'],
    ['a name resolving to loopback', 'https://localhost/mcp'],
    ['loopback on a port not on the allow-list', 'http://127.0.0.1:1/mcp'],
    ['an IPv4-mapped IPv6 address', 'https://[::ffff:a00:5]/mcp'],
    ['plain http to a public host', 'http://mcp.example.com/mcp'],
  ])('at create: %s', async (_what, serverUrl) => {
    const err = await expectConnectError(
      api.providers.createProvider({ provider: mcpProvider('bad-entry', serverUrl) }),
      Code.InvalidArgument,
      'URL_NOT_ALLOWED',
    );
    expect(err.rawMessage).toContain('provider.mcp.server_url');
    await expectConnectError(api.providers.getProvider({ provider: 'bad-entry' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
  });

  it('at update: a server_url changed to a private address', async () => {
    await api.providers.createProvider({ provider: mcpProvider('moving-entry', mcp.serverUrl) });
    const changed = mcpProvider('moving-entry', 'https://192.168.1.10/mcp');
    await expectConnectError(
      api.providers.updateProvider({ provider: changed, updateMask: { paths: ['mcp.server_url'] } }),
      Code.InvalidArgument,
      'URL_NOT_ALLOWED',
    );
    expect((await api.providers.getProvider({ provider: 'moving-entry' })).provider?.mcp?.serverUrl).toBe(mcp.serverUrl);
  });

  async function expectConnectRefused(name: string, bad: Parameters<TestMcpServer['bad']['set']>[1], code: Code, reason: string) {
    mcp.bad.set(name, bad);
    await api.providers.createProvider({ provider: mcpProvider(name, `${mcp.mcpOrigin}/${name}/mcp`) });
    const before = (await api.connections.listConnections({})).connections.length;
    const registrations = mcp.provider.registrations;
    const err = await expectConnectError(
      api.connections.createConnection({ workspaceId: 'w', provider: { case: 'providerName', value: name }, returnUrl: RETURN_URL }),
      code,
      reason,
    );
    // Nothing stored, nothing registered.
    expect((await api.connections.listConnections({})).connections.length).toBe(before);
    expect(mcp.provider.registrations).toBe(registrations);
    return err;
  }

  it('at fetch time: metadata redirecting to a private address', async () => {
    const err = await expectConnectRefused(
      'redirects',
      { redirect: 'https://10.0.0.9/.well-known/oauth-protected-resource' },
      Code.FailedPrecondition,
      'URL_NOT_ALLOWED',
    );
    expect(err.rawMessage).toMatch(/private address/);
  });

  it('at fetch time: metadata naming an authorization server on the metadata address', async () => {
    const name = 'meta-as';
    await expectConnectRefused(
      name,
      { json: { resource: `${mcp.mcpOrigin}/${name}/mcp`, authorization_servers: ['http://169.254.169.254/'] } },
      Code.FailedPrecondition,
      'URL_NOT_ALLOWED',
    );
  });

  it.each([
    ['not JSON', { text: '<html>nope' }, /JSON/i],
    ['about another resource', { json: { resource: 'https://elsewhere.example/mcp', authorization_servers: ['https://as.example/'] } }, /resource/],
    ['without authorization servers', { json: { resource: '__SELF__' } }, /authorization_servers/],
    ['with an authorization server lacking PKCE S256', { json: { resource: '__SELF__', authorization_servers: ['__NOPKCE__'] } }, /S256/],
  ])('malformed metadata (%s) is MCP_DISCOVERY_FAILED, never INTERNAL', async (what, bad, message) => {
    const name = `bad-${what.split(' ')[0]!.toLowerCase()}-${Math.random().toString(36).slice(2, 7)}`;
    const self = `${mcp.mcpOrigin}/${name}/mcp`;
    const resolved = JSON.parse(JSON.stringify(bad).replaceAll('__SELF__', self).replaceAll('__NOPKCE__', `${mcp.mcpOrigin}/no-pkce-as`)) as Parameters<
      TestMcpServer['bad']['set']
    >[1];
    const err = await expectConnectRefused(name, resolved, Code.FailedPrecondition, 'MCP_DISCOVERY_FAILED');
    expect(err.rawMessage).toMatch(message);
  });
});

describe('MCP catalog entries in production mode', () => {
  let mcp: TestMcpServer;
  let nexus: TestApp;

  beforeAll(async () => {
    mcp = await TestMcpServer.start();
    // Even an allow-listed host must be https in production.
    nexus = await startTestApp({ backend: 'embedded', config: { production: true, outboundAllowedHosts: mcp.allowedHosts } });
  }, 180_000); // an embedded database on a busy machine starts slowly
  afterAll(async () => {
    await nexus?.close();
    await mcp?.stop();
  });

  it('refuses a non-https server URL', async () => {
    const err = await expectConnectError(
      clients(nexus.baseUrl, ADMIN_KEY).providers.createProvider({ provider: mcpProvider('plain-http', mcp.serverUrl) }),
      Code.InvalidArgument,
      'URL_NOT_ALLOWED',
    );
    expect(err.rawMessage).toContain('NODE_ENV=production');
  });
});

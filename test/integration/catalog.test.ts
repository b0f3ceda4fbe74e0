import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthType, ClientAuthMethod, TokenResponseFormat } from '../../gen/ts/nexus/v1/provider_pb.js';
import { ProviderCatalog } from '../../src/domain/catalog/provider-catalog.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';
import { throughNexus } from '../support/consent.js';

describe.each(BACKENDS)('provider catalog over the API (%s)', (backend) => {
  let nexus: TestApp;
  let admin: Clients;
  let anon: Clients;
  let agent: Clients;
  const secret = 'github-secret-never-returned-4711';

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    anon = clients(nexus.baseUrl);
    const key = await nexus.app.apiKeys.create('prj_default', 'agent', ['connections', 'tokens']);
    agent = clients(nexus.baseUrl, key.key);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('lists the whole catalog publicly, in name order, page by page', async () => {
    const names: string[] = [];
    let pageToken = '';
    do {
      const page = await anon.providers.listCatalogProviders({ pageSize: 7, pageToken });
      expect(page.providers.length).toBeLessThanOrEqual(7);
      names.push(...page.providers.map((p) => p.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(names.length).toBe(ProviderCatalog.builtin().size);
    expect(names.length).toBeGreaterThanOrEqual(150);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);

    const ai = await anon.providers.listCatalogProviders({ category: 'ai', pageSize: 100 });
    expect(ai.providers.map((p) => p.name)).toEqual(expect.arrayContaining(['anthropic', 'openai']));
    expect(ai.providers.every((p) => p.provider?.categories.includes('ai'))).toBe(true);

    await expectConnectError(anon.providers.listCatalogProviders({ pageSize: 501 }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(anon.providers.listCatalogProviders({ pageToken: 'garbage' }), Code.InvalidArgument, 'PAGE_TOKEN_INVALID');
    // A token from one category's listing is not valid for another's.
    const first = await anon.providers.listCatalogProviders({ category: 'ai', pageSize: 1 });
    await expectConnectError(
      anon.providers.listCatalogProviders({ category: 'crm', pageSize: 1, pageToken: first.nextPageToken }),
      Code.InvalidArgument,
      'PAGE_TOKEN_INVALID',
    );
  });

  it('gets one entry with its endpoints, quirks and docs, and no client credentials', async () => {
    const { provider: entry } = await anon.providers.getCatalogProvider({ name: 'slack-user' });
    expect(entry?.docsUrl).toMatch(/^https:\/\//);
    expect(entry?.provider?.authType).toBe(AuthType.OAUTH2);
    expect(entry?.provider?.oauth2?.tokenUrl).toBe('https://slack.com/api/oauth.v2.access');
    expect(entry?.provider?.oauth2?.scopeSeparator).toBe(',');
    expect(entry?.provider?.oauth2?.tokenResponsePaths?.accessToken).toBe('authed_user.access_token');
    expect(entry?.provider?.oauth2?.clientId).toBe('');
    expect(entry?.provider?.oauth2?.clientSecretSet).toBe(false);
    expect(entry?.provider?.id).toBe('');

    const github = (await anon.providers.getCatalogProvider({ name: 'github' })).provider!.provider!;
    expect(github.oauth2?.tokenResponseFormat).toBe(TokenResponseFormat.FORM);
    const anthropic = (await anon.providers.getCatalogProvider({ name: 'anthropic' })).provider!.provider!;
    expect(anthropic.apiKey?.name).toBe('x-api-key');
    // The proxy's upstream, and a logo that is Nexus's own (no third-party URL).
    const slack = (await anon.providers.getCatalogProvider({ name: 'slack' })).provider!.provider!;
    expect(slack.apiBaseUrl).toBe('https://slack.com/api');
    expect(slack.logoUrl).toMatch(/^data:image\/svg\+xml,/);
    const mcp = (await anon.providers.getCatalogProvider({ name: 'neon-mcp' })).provider!.provider!;
    expect(mcp.authType).toBe(AuthType.MCP);
    expect(mcp.mcp?.serverUrl).toBe('https://mcp.neon.tech/mcp');

    await expectConnectError(anon.providers.getCatalogProvider({ name: 'no-such-service' }), Code.NotFound, 'CATALOG_ENTRY_NOT_FOUND');
    await expectConnectError(anon.providers.getCatalogProvider({ name: '' }), Code.InvalidArgument, 'INVALID_FIELD');
  });

  it('enables an OAuth2 entry from a client id and secret only; the provider records its origin and never returns the secret', async () => {
    const { provider } = await admin.providers.enableCatalogProvider({ catalogName: 'github', clientId: 'gh-client-id', clientSecret: secret });
    expect(provider?.name).toBe('github');
    expect(provider?.catalogName).toBe('github');
    expect(provider?.id).toMatch(/^prv_/);
    expect(provider?.oauth2).toMatchObject({
      clientId: 'gh-client-id',
      clientSecretSet: true,
      clientSecret: '',
      authorizationUrl: 'https://github.com/login/oauth/authorize',
      tokenUrl: 'https://github.com/login/oauth/access_token',
      clientAuthMethod: ClientAuthMethod.CLIENT_SECRET_POST,
      tokenResponseFormat: TokenResponseFormat.FORM,
    });
    // The secret is sealed at rest, not stored as given.
    const row = (await nexus.app.store.providers.findByName('prj_default', 'github'))!;
    expect(row.clientSecretSealed).not.toContain(secret);
    expect(nexus.app.providers.clientSecret(row)).toBe(secret);
    // Publicly listed like any provider, and usable: CreateConnection builds GitHub's authorize URL.
    expect((await anon.providers.getProvider({ provider: 'github' })).provider?.catalogName).toBe('github');
    const created = await agent.connections.createConnection({ workspaceId: 'w1', provider: { case: 'providerName', value: 'github' }, returnUrl: RETURN_URL });
    const url = new URL(await throughNexus(created.authUrl));
    expect(url.origin + url.pathname).toBe('https://github.com/login/oauth/authorize');
    expect(url.searchParams.get('client_id')).toBe('gh-client-id');
    expect(url.searchParams.get('scope')).toBe('repo read:user');
    expect(nexus.logs.join('\n')).not.toContain(secret);

    // Same entry again under another name, with other default scopes.
    const second = await admin.providers.enableCatalogProvider({
      catalogName: 'github',
      name: 'github-readonly',
      clientId: 'gh2',
      clientSecret: 's2',
      defaultScopes: ['read:user'],
    });
    expect(second.provider?.oauth2?.defaultScopes).toEqual(['read:user']);
    await expectConnectError(
      admin.providers.enableCatalogProvider({ catalogName: 'github', clientId: 'again', clientSecret: 'x' }),
      Code.AlreadyExists,
      'PROVIDER_ALREADY_EXISTS',
    );
  });

  it('enables a templated entry whose URLs come from connection fields (Zendesk subdomain)', async () => {
    await admin.providers.enableCatalogProvider({ catalogName: 'zendesk', clientId: 'zd', clientSecret: 'zd-secret' });
    const created = await agent.connections.createConnection({
      workspaceId: 'w1',
      provider: { case: 'providerName', value: 'zendesk' },
      returnUrl: RETURN_URL,
      fields: { subdomain: 'acme' },
    });
    const zendesk = new URL(await throughNexus(created.authUrl));
    expect(zendesk.origin + zendesk.pathname).toBe('https://acme.zendesk.com/oauth/authorizations/new');
    expect(created.connection?.fields).toEqual({ subdomain: 'acme' });
    await expectConnectError(
      agent.connections.createConnection({
        workspaceId: 'w1',
        provider: { case: 'providerName', value: 'zendesk' },
        returnUrl: RETURN_URL,
        fields: { subdomain: 'Not A Host' },
      }),
      Code.InvalidArgument,
      'CREDENTIALS_INVALID',
    );
  });

  it('enables a static entry with nothing, and refuses bad requests', async () => {
    const { provider } = await admin.providers.enableCatalogProvider({ catalogName: 'anthropic', enabled: false });
    expect(provider).toMatchObject({ name: 'anthropic', catalogName: 'anthropic', authType: AuthType.API_KEY, enabled: false });
    await expectConnectError(anon.providers.getProvider({ provider: 'anthropic' }), Code.NotFound, 'PROVIDER_NOT_FOUND');

    await expectConnectError(admin.providers.enableCatalogProvider({ catalogName: 'openai', clientId: 'x' }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(
      admin.providers.enableCatalogProvider({ catalogName: 'notion', clientSecret: 'only-a-secret' }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(admin.providers.enableCatalogProvider({ catalogName: 'nope', clientId: 'x' }), Code.NotFound, 'CATALOG_ENTRY_NOT_FOUND');
    await expectConnectError(admin.providers.enableCatalogProvider({ catalogName: 'openai', name: 'Bad Name' }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(anon.providers.enableCatalogProvider({ catalogName: 'openai' }), Code.Unauthenticated, 'UNAUTHENTICATED');
    await expectConnectError(agent.providers.enableCatalogProvider({ catalogName: 'openai' }), Code.PermissionDenied, 'SCOPE_MISSING');
    expect((await admin.providers.listProviders({ pageSize: 500 })).providers.map((p) => p.name)).not.toContain('openai');
  });
});

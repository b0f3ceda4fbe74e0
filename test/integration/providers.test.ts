import { randomBytes } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { ApiKeyLocation, AuthType, ClientAuthMethod, type Provider } from '../../gen/ts/nexus/v1/provider_pb.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, basicAuthProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

/** Unique per run, so a match in a response, a column or a log can only come from this suite. */
const CLIENT_SECRET = `cs_${randomBytes(16).toString('hex')}`;
const ROTATED_SECRET = `cs_rot_${randomBytes(16).toString('hex')}`;

/** An OAUTH2 provider with explicit endpoints; nothing here talks to them. */
function oauthInit(name: string, secret = CLIENT_SECRET) {
  return {
    name,
    displayName: `OAuth ${name}`,
    description: 'An OAuth provider used by the provider suite',
    logoUrl: 'https://oauth.example.com/logo.png',
    categories: ['productivity'],
    authType: AuthType.OAUTH2,
    enabled: true,
    oauth2: {
      clientId: `client-${name}`,
      clientSecret: secret,
      authorizationUrl: 'https://oauth.example.com/authorize',
      tokenUrl: 'https://oauth.example.com/token',
      revocationUrl: 'https://oauth.example.com/revoke',
      defaultScopes: ['read', 'write'],
      scopeSeparator: ',',
      authorizeParams: { access_type: 'offline', prompt: 'consent' },
      clientAuthMethod: ClientAuthMethod.CLIENT_SECRET_POST,
    },
  };
}

async function sealedSecretOf(nexus: TestApp, providerId: string): Promise<string | null> {
  const rows = (await nexus.app.database.dataSource.query(`SELECT client_secret_sealed FROM providers WHERE id = $1`, [providerId])) as {
    client_secret_sealed: string | null;
  }[];
  expect(rows).toHaveLength(1);
  return rows[0]!.client_secret_sealed;
}

/** Every encoding of `secret` that could leak it in a text column. */
function encodings(secret: string): string[] {
  const b = Buffer.from(secret);
  return [secret, b.toString('base64'), b.toString('base64url'), b.toString('hex')];
}

describe.each(BACKENDS)('ProviderService (%s)', (backend) => {
  let nexus: TestApp;
  let admin: Clients;
  let anon: Clients;
  /** Keys minted in the suite, for the log check. */
  const mintedKeys: string[] = [];

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    anon = clients(nexus.baseUrl);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('creates a provider of each auth type and reads it back as stored', async () => {
    const created: Provider[] = [];
    created.push(
      (await admin.providers.createProvider({ provider: oauthInit('types-oauth') })).provider!,
      (
        await admin.providers.createProvider({
          provider: apiKeyProvider({ name: 'types-apikey', apiKey: { location: ApiKeyLocation.QUERY, name: 'key', prefix: 'Token ' } }),
        })
      ).provider!,
      (await admin.providers.createProvider({ provider: basicAuthProvider({ name: 'types-basic' }) })).provider!,
      (
        await admin.providers.createProvider({
          provider: { name: 'types-aws', authType: AuthType.AWS_SIGV4, enabled: true, awsSigv4: { service: 's3', defaultRegion: 'eu-west-1' } },
        })
      ).provider!,
      (await admin.providers.createProvider({ provider: { name: 'types-bearer', authType: AuthType.BEARER, enabled: true } })).provider!,
    );
    expect(created.map((p) => p.authType)).toEqual([AuthType.OAUTH2, AuthType.API_KEY, AuthType.BASIC_AUTH, AuthType.AWS_SIGV4, AuthType.BEARER]);
    const ids = new Set(created.map((p) => p.id));
    expect(ids.size).toBe(5);
    for (const p of created) {
      expect(p.id).toMatch(/^prv_/);
      expect(p.enabled).toBe(true);
      expect(p.createTime).toBeDefined();
      const got = (await admin.providers.getProvider({ provider: p.id })).provider!;
      expect(got.name).toBe(p.name);
      expect(got.authType).toBe(p.authType);
    }
    const [oauth, apiKey, basic, aws, bearer] = created as [Provider, Provider, Provider, Provider, Provider];
    expect(oauth.oauth2).toMatchObject({
      clientId: 'client-types-oauth',
      authorizationUrl: 'https://oauth.example.com/authorize',
      tokenUrl: 'https://oauth.example.com/token',
      revocationUrl: 'https://oauth.example.com/revoke',
      defaultScopes: ['read', 'write'],
      scopeSeparator: ',',
      authorizeParams: { access_type: 'offline', prompt: 'consent' },
      clientAuthMethod: ClientAuthMethod.CLIENT_SECRET_POST,
    });
    expect(oauth.displayName).toBe('OAuth types-oauth');
    expect(oauth.logoUrl).toBe('https://oauth.example.com/logo.png');
    expect(apiKey.apiKey).toMatchObject({ location: ApiKeyLocation.QUERY, name: 'key', prefix: 'Token ', field: 'api_key' });
    expect(apiKey.oauth2).toBeUndefined();
    expect(basic.categories).toEqual(['crm']);
    expect(aws.awsSigv4).toMatchObject({ service: 's3', defaultRegion: 'eu-west-1' });
    expect(bearer.authType).toBe(AuthType.BEARER);
    // A display name defaults to the slug.
    expect(bearer.displayName).toBe('types-bearer');
  });

  it('enables a provider when enabled is unset, and keeps an explicit false', async () => {
    const unset = (await admin.providers.createProvider({ provider: { name: 'default-enabled', authType: AuthType.BEARER } })).provider!;
    expect(unset.enabled).toBe(true);
    expect((await anon.providers.getProvider({ provider: 'default-enabled' })).provider?.enabled).toBe(true);
    const off = (await admin.providers.createProvider({ provider: { name: 'explicit-off', authType: AuthType.BEARER, enabled: false } })).provider!;
    expect(off.enabled).toBe(false);
    await expectConnectError(anon.providers.getProvider({ provider: 'explicit-off' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await expectConnectError(
      admin.connections.createConnection({ workspaceId: 'ws', provider: { case: 'providerName', value: 'explicit-off' }, returnUrl: RETURN_URL }),
      Code.FailedPrecondition,
      'PROVIDER_DISABLED',
    );
    // Enabling it through update_mask makes it public.
    await admin.providers.updateProvider({ provider: { name: 'explicit-off', enabled: true }, updateMask: { paths: ['enabled'] } });
    expect((await anon.providers.getProvider({ provider: 'explicit-off' })).provider?.enabled).toBe(true);
  });

  it('never returns the client secret, and stores it only sealed', async () => {
    const created = (await admin.providers.createProvider({ provider: oauthInit('secret-oauth') })).provider!;
    expect(created.oauth2?.clientSecret).toBe('');
    expect(created.oauth2?.clientSecretSet).toBe(true);

    for (const caller of [admin, anon]) {
      const got = (await caller.providers.getProvider({ provider: 'secret-oauth' })).provider!;
      expect(got.oauth2?.clientSecret).toBe('');
      expect(got.oauth2?.clientSecretSet).toBe(true);
      const listed = (await caller.providers.listProviders({ pageSize: 500 })).providers.find((p) => p.name === 'secret-oauth');
      expect(listed?.oauth2?.clientSecret).toBe('');
      expect(listed?.oauth2?.clientSecretSet).toBe(true);
    }

    // The raw Connect JSON, as curl would see it, with and without a key.
    const variants: Record<string, string>[] = [{}, { authorization: `Bearer ${ADMIN_KEY}` }];
    for (const headers of variants) {
      for (const method of ['GetProvider', 'ListProviders']) {
        const res = await fetch(`${nexus.baseUrl}/nexus.v1.ProviderService/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'connect-protocol-version': '1', ...headers },
          body: JSON.stringify(method === 'GetProvider' ? { provider: 'secret-oauth' } : { pageSize: 500 }),
        });
        const raw = await res.text();
        expect(res.status, raw).toBe(200);
        expect(raw).toContain('"clientSecretSet":true');
        expect(raw).toContain('secret-oauth');
        for (const enc of encodings(CLIENT_SECRET)) expect(raw).not.toContain(enc);
      }
    }

    const sealed = await sealedSecretOf(nexus, created.id);
    expect(sealed).toBeTruthy();
    expect(sealed).not.toBe(CLIENT_SECRET);
    for (const enc of encodings(CLIENT_SECRET)) expect(sealed).not.toContain(enc);
    // Nor anywhere else in the row.
    const [row] = (await nexus.app.database.dataSource.query(`SELECT row_to_json(p)::text AS j FROM providers p WHERE id = $1`, [created.id])) as {
      j: string;
    }[];
    for (const enc of encodings(CLIENT_SECRET)) expect(row!.j).not.toContain(enc);
    // And it is really the secret, sealed: the server opens it back.
    const stored = await nexus.app.store.providers.findById('prj_default', created.id);
    expect(nexus.app.providers.clientSecret(stored!)).toBe(CLIENT_SECRET);
  });

  it('serves ListProviders and GetProvider without a key: enabled providers of the default project only', async () => {
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'public-on', categories: ['public-test'] }) });
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'public-off', categories: ['public-test'], enabled: false }) });
    // Another project's provider must not show up in the default project's public list.
    await nexus.app.store.projects.ensure('prj_pub_other', 'pub-other');
    const other = await nexus.app.apiKeys.create('prj_pub_other', 'other admin', ['admin']);
    mintedKeys.push(other.key);
    await clients(nexus.baseUrl, other.key).providers.createProvider({
      provider: apiKeyProvider({ name: 'public-elsewhere', categories: ['public-test'] }),
    });

    const publicList = await anon.providers.listProviders({ category: 'public-test' });
    expect(publicList.providers.map((p) => p.name)).toEqual(['public-on']);
    const everything = await anon.providers.listProviders({ pageSize: 500 });
    expect(everything.providers.length).toBeGreaterThan(0);
    expect(everything.providers.every((p) => p.enabled)).toBe(true);
    expect(everything.providers.map((p) => p.name)).not.toContain('public-off');
    expect(everything.providers.map((p) => p.name)).not.toContain('public-elsewhere');

    expect((await anon.providers.getProvider({ provider: 'public-on' })).provider?.name).toBe('public-on');
    await expectConnectError(anon.providers.getProvider({ provider: 'public-off' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await expectConnectError(anon.providers.getProvider({ provider: 'public-elsewhere' }), Code.NotFound, 'PROVIDER_NOT_FOUND');

    // An explicit project_id lists that project's enabled providers.
    const elsewhere = await anon.providers.listProviders({ projectId: 'prj_pub_other', category: 'public-test' });
    expect(elsewhere.providers.map((p) => p.name)).toEqual(['public-elsewhere']);

    // The admin of the default project sees its disabled provider too.
    const adminList = await admin.providers.listProviders({ category: 'public-test' });
    expect(adminList.providers.map((p) => [p.name, p.enabled])).toEqual([
      ['public-off', false],
      ['public-on', true],
    ]);
    const off = (await admin.providers.getProvider({ provider: 'public-off' })).provider!;
    expect(off.enabled).toBe(false);
  });

  it('filters by category', async () => {
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'cat-a1', categories: ['cat-alpha'] }) });
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'cat-a2', categories: ['cat-beta', 'cat-alpha'] }) });
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'cat-b1', categories: ['cat-beta'] }) });
    expect((await admin.providers.listProviders({ category: 'cat-alpha' })).providers.map((p) => p.name)).toEqual(['cat-a1', 'cat-a2']);
    expect((await anon.providers.listProviders({ category: 'cat-beta' })).providers.map((p) => p.name)).toEqual(['cat-a2', 'cat-b1']);
    expect((await admin.providers.listProviders({ category: 'cat-none' })).providers).toEqual([]);
  });

  it('pages in name order, each provider exactly once, and refuses a token reused with other filters', async () => {
    const names = ['page-e', 'page-b', 'page-d', 'page-a', 'page-c'];
    for (const name of names) {
      await admin.providers.createProvider({ provider: apiKeyProvider({ name, categories: ['paging'] }) });
    }
    const seen: string[] = [];
    const tokens: string[] = [];
    let pageToken = '';
    for (let pages = 0; pages < 10; pages++) {
      const page = await anon.providers.listProviders({ category: 'paging', pageSize: 2, pageToken });
      expect(page.providers.length).toBeLessThanOrEqual(2);
      seen.push(...page.providers.map((p) => p.name));
      pageToken = page.nextPageToken;
      if (!pageToken) break;
      tokens.push(pageToken);
    }
    expect(seen).toEqual([...names].sort());
    expect(tokens).toHaveLength(2); // 2 + 2 + 1
    await expectConnectError(
      anon.providers.listProviders({ category: 'cat-alpha', pageSize: 2, pageToken: tokens[0]! }),
      Code.InvalidArgument,
      'PAGE_TOKEN_INVALID',
    );
    await expectConnectError(anon.providers.listProviders({ pageSize: 2, pageToken: tokens[0]! }), Code.InvalidArgument, 'PAGE_TOKEN_INVALID');
    await expectConnectError(
      anon.providers.listProviders({ category: 'paging', pageSize: 2, pageToken: 'bm90LWEtdG9rZW4' }),
      Code.InvalidArgument,
      'PAGE_TOKEN_INVALID',
    );
    // The same token with the same filters still works.
    const again = await anon.providers.listProviders({ category: 'paging', pageSize: 2, pageToken: tokens[0]! });
    expect(again.providers.map((p) => p.name)).toEqual(['page-c', 'page-d']);
  });

  it('refuses a page size out of range', async () => {
    const err = await expectConnectError(anon.providers.listProviders({ pageSize: 501 }), Code.InvalidArgument, 'INVALID_FIELD');
    expect(err.rawMessage).toContain('page_size');
    await expectConnectError(admin.providers.listProviders({ pageSize: -1 }), Code.InvalidArgument, 'INVALID_FIELD');
    expect((await anon.providers.listProviders({ pageSize: 500 })).providers.length).toBeGreaterThan(0);
  });

  it('updates only the fields named in update_mask', async () => {
    const before = (await admin.providers.createProvider({ provider: oauthInit('upd-oauth') })).provider!;
    const sealedBefore = await sealedSecretOf(nexus, before.id);
    const updated = (
      await admin.providers.updateProvider({
        provider: { name: 'upd-oauth', displayName: 'Renamed', description: 'ignored', categories: ['ignored'], oauth2: { clientId: 'ignored' } },
        updateMask: { paths: ['display_name'] },
      })
    ).provider!;
    expect(updated.displayName).toBe('Renamed');
    expect(updated.id).toBe(before.id);
    expect(updated.description).toBe(before.description);
    expect(updated.categories).toEqual(before.categories);
    expect(updated.logoUrl).toBe(before.logoUrl);
    expect(updated.enabled).toBe(true);
    expect(updated.oauth2).toEqual(before.oauth2);
    expect(await sealedSecretOf(nexus, before.id)).toBe(sealedBefore);
    const reread = (await admin.providers.getProvider({ provider: before.id })).provider!;
    expect(reread.displayName).toBe('Renamed');
    expect(reread.oauth2?.clientId).toBe('client-upd-oauth');
  });

  it('rotates the client secret through update_mask oauth2.client_secret', async () => {
    const before = (await admin.providers.createProvider({ provider: oauthInit('rot-oauth') })).provider!;
    const sealedBefore = await sealedSecretOf(nexus, before.id);
    const updated = (
      await admin.providers.updateProvider({
        provider: { id: before.id, oauth2: { clientSecret: ROTATED_SECRET } },
        updateMask: { paths: ['oauth2.client_secret'] },
      })
    ).provider!;
    expect(updated.oauth2?.clientSecret).toBe('');
    expect(updated.oauth2?.clientSecretSet).toBe(true);
    expect(updated.oauth2?.clientId).toBe('client-rot-oauth');
    expect(updated.oauth2?.tokenUrl).toBe('https://oauth.example.com/token');
    const sealedAfter = await sealedSecretOf(nexus, before.id);
    expect(sealedAfter).toBeTruthy();
    expect(sealedAfter).not.toBe(sealedBefore);
    for (const enc of [...encodings(ROTATED_SECRET), ...encodings(CLIENT_SECRET)]) expect(sealedAfter).not.toContain(enc);
    const stored = await nexus.app.store.providers.findById('prj_default', before.id);
    expect(nexus.app.providers.clientSecret(stored!)).toBe(ROTATED_SECRET);
  });

  it('refuses an update mask naming a fixed or unknown field', async () => {
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'fixed-name' }) });
    for (const path of ['name', 'auth_type', 'id', 'no_such_field']) {
      const err = await expectConnectError(
        admin.providers.updateProvider({ provider: { name: 'fixed-name', displayName: 'x' }, updateMask: { paths: [path] } }),
        Code.InvalidArgument,
        'INVALID_FIELD',
      );
      expect(err.rawMessage).toContain(path);
    }
    const got = (await admin.providers.getProvider({ provider: 'fixed-name' })).provider!;
    expect(got.name).toBe('fixed-name');
    expect(got.displayName).toBe('Acme API');
    expect(got.authType).toBe(AuthType.API_KEY);
    await expectConnectError(
      admin.providers.updateProvider({ provider: { name: 'no-such-provider', displayName: 'x' }, updateMask: { paths: ['display_name'] } }),
      Code.NotFound,
      'PROVIDER_NOT_FOUND',
    );
  });

  it('refuses to delete a provider in use unless forced', async () => {
    const provider = (await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'del-in-use' }) })).provider!;
    const conn = await admin.connections.createConnection({
      workspaceId: 'ws-del',
      provider: { case: 'providerName', value: 'del-in-use' },
      returnUrl: RETURN_URL,
    });
    const connectionId = conn.connection!.id;
    await admin.connections.submitCredentials({ state: conn.state, credentials: { api_key: 'k_del_in_use_123' } });

    const err = await expectConnectError(admin.providers.deleteProvider({ provider: 'del-in-use' }), Code.FailedPrecondition, 'PROVIDER_IN_USE');
    expect(err.rawMessage).toContain('force');
    // Nothing changed.
    expect((await admin.providers.getProvider({ provider: provider.id })).provider?.name).toBe('del-in-use');
    expect((await admin.connections.getConnection({ connectionId: connectionId })).connection?.status).toBe(ConnectionStatus.ACTIVE);
    expect((await admin.tokens.getToken({ connectionId })).credential!.credentials.case).toBe('apiKey');

    await admin.providers.deleteProvider({ provider: 'del-in-use', force: true });
    await expectConnectError(admin.providers.getProvider({ provider: 'del-in-use' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await expectConnectError(admin.tokens.getToken({ connectionId }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    const rows = (await nexus.app.database.dataSource.query(`SELECT credentials_sealed FROM connections WHERE id = $1`, [connectionId])) as {
      credentials_sealed: string | null;
    }[];
    expect(rows.every((r) => r.credentials_sealed === null)).toBe(true);
    // The name is free again.
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'del-in-use' }) });
  });

  it('deletes an unused provider without force, and answers NOT_FOUND after', async () => {
    await admin.providers.createProvider({ provider: basicAuthProvider({ name: 'del-unused' }) });
    await admin.providers.deleteProvider({ provider: 'del-unused' });
    await expectConnectError(admin.providers.getProvider({ provider: 'del-unused' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await expectConnectError(admin.providers.deleteProvider({ provider: 'del-unused' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
  });

  it('refuses a duplicate name and answers NOT_FOUND for an unknown provider', async () => {
    const first = (await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'dup-name' }) })).provider!;
    await expectConnectError(
      admin.providers.createProvider({ provider: basicAuthProvider({ name: 'dup-name' }) }),
      Code.AlreadyExists,
      'PROVIDER_ALREADY_EXISTS',
    );
    const still = (await admin.providers.getProvider({ provider: 'dup-name' })).provider!;
    expect(still.id).toBe(first.id);
    expect(still.authType).toBe(AuthType.API_KEY);
    await expectConnectError(admin.providers.getProvider({ provider: 'never-created' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await expectConnectError(anon.providers.getProvider({ provider: 'prv_00000000000000000000000000' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await expectConnectError(anon.providers.getProvider({ provider: '' }), Code.InvalidArgument, 'INVALID_FIELD');
  });

  it('wrote no secret to the log', () => {
    expect(nexus.logs.length).toBeGreaterThan(0);
    const all = nexus.logs.join('\n');
    expect(mintedKeys).toHaveLength(1);
    for (const secret of [CLIENT_SECRET, ROTATED_SECRET, ADMIN_KEY, 'k_del_in_use_123', ...mintedKeys]) {
      for (const enc of encodings(secret)) expect(all).not.toContain(enc);
    }
  });
});

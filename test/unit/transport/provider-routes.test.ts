import { create, ScalarType, toJsonString, type DescMessage } from '@bufbuild/protobuf';
import { Code, createClient, createRouterTransport } from '@connectrpc/connect';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuthType, OAuth2SettingsSchema, ProviderSchema, ProviderService as ProviderServiceDesc } from '../../../gen/ts/nexus/v1/provider_pb.js';
import { KeyRing, newId, open as openSealed } from '../../../src/crypto/index.js';
import { ApiKeys } from '../../../src/domain/access/api-keys.js';
import type { ConnectionService } from '../../../src/domain/connections/connection-service.js';
import { ProviderRemoval } from '../../../src/domain/connections/provider-removal.js';
import { ProviderCatalog } from '../../../src/domain/catalog/provider-catalog.js';
import type { OutboundPolicy } from '../../../src/domain/outbound/outbound-policy.js';
import { DEFAULT_PROJECT_ID } from '../../../src/domain/shared/workspace-scope.js';
import { ProviderService } from '../../../src/domain/providers/provider-service.js';
import { clientSecretAad } from '../../../src/domain/keys/sealed-secrets.js';
import { accessInterceptor } from '../../../src/transport/access.js';
import { Authenticator } from '../../../src/transport/authenticate.js';
import { errorInterceptor } from '../../../src/transport/error-interceptor.js';
import { isOutputOnly } from '../../../src/transport/mappers/field-behavior.js';
import { ProviderHandler } from '../../../src/transport/handlers/provider-handler.js';
import { expectConnectError } from '../../support/errors.js';
import { fakePersistence, type FakePersistence } from '../../support/fake-persistence.js';
import { activeConnectionRow } from '../../support/rows.js';

// ProviderService's routes over createRouterTransport with in-memory
// persistence ports (see token-routes.test.ts): the handler, the access
// table, the proto mapping, validation, sealing and the domain service.

describe('ProviderService routes over fake ports', () => {
  let store: FakePersistence;
  let ring: KeyRing;
  let revoked: string[];
  let changed: number;
  let admin: string;
  let client: ReturnType<typeof createClient<typeof ProviderServiceDesc>>;
  const auth = (k = admin) => ({ headers: { authorization: `Bearer ${k}` } });

  const oauthProvider = (name: string, enabled = true) => ({
    name,
    displayName: name.toUpperCase(),
    authType: AuthType.OAUTH2,
    enabled,
    categories: ['dev'],
    oauth2: {
      clientId: 'cid',
      clientSecret: 'the-client-secret',
      authorizationUrl: 'https://auth.example.com/authorize',
      tokenUrl: 'https://auth.example.com/token',
    },
  });

  beforeEach(async () => {
    store = fakePersistence();
    ring = KeyRing.generate('k1');
    revoked = [];
    changed = 0;
    const apiKeys = new ApiKeys(store);
    admin = (await apiKeys.create(DEFAULT_PROJECT_ID, 'admin', ['admin'])).key;
    const providers = new ProviderService(
      store,
      ring,
      false,
      {} as OutboundPolicy, // only MCP server URLs reach it; none here
      async () => void changed++,
    );
    // Deleting each connection is ConnectionService's (its own tests); here it is recorded.
    const connections = {
      deleteAllForProvider: async (_projectId: string, providerId: string) => void revoked.push(providerId),
    } as unknown as ConnectionService;
    const removal = new ProviderRemoval(store, providers, connections);
    const authenticator = new Authenticator(apiKeys);
    const transport = createRouterTransport(
      (router) => router.service(ProviderServiceDesc, new ProviderHandler(providers, removal, () => ProviderCatalog.builtin())),
      { router: { interceptors: [errorInterceptor(() => {}), accessInterceptor((ctx) => authenticator.verify(ctx))] } },
    );
    client = createClient(ProviderServiceDesc, transport);
  });

  it('creates a provider, seals its client secret, and never returns it', async () => {
    const { provider } = await client.createProvider({ provider: oauthProvider('github') }, auth());
    expect(provider?.name).toBe('github');
    expect(toJsonString(ProviderSchema, provider!)).not.toContain('the-client-secret');
    const row = store.rows.providers.get(provider!.id)!;
    expect(row.clientSecretSealed).not.toContain('the-client-secret');
    expect(openSealed(ring, row.clientSecretSealed!, clientSecretAad(row.id)).toString('utf8')).toBe('the-client-secret');
  });

  it('refuses a second provider of the same name', async () => {
    await client.createProvider({ provider: oauthProvider('github') }, auth());
    await expectConnectError(client.createProvider({ provider: oauthProvider('github') }, auth()), Code.AlreadyExists, 'PROVIDER_ALREADY_EXISTS');
  });

  it('anonymous callers see enabled providers only; admins see all', async () => {
    await client.createProvider({ provider: oauthProvider('b-on') }, auth());
    await client.createProvider({ provider: oauthProvider('a-off', false) }, auth());
    expect((await client.listProviders({})).providers.map((p) => p.name)).toEqual(['b-on']);
    expect((await client.listProviders({}, auth())).providers.map((p) => p.name)).toEqual(['a-off', 'b-on']);
    await expectConnectError(client.getProvider({ provider: 'a-off' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    expect((await client.getProvider({ provider: 'a-off' }, auth())).provider?.enabled).toBe(false);
  });

  it('pages through providers by name', async () => {
    for (const name of ['p1', 'p2', 'p3']) await client.createProvider({ provider: oauthProvider(name) }, auth());
    const first = await client.listProviders({ pageSize: 2 });
    expect(first.providers.map((p) => p.name)).toEqual(['p1', 'p2']);
    const second = await client.listProviders({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.providers.map((p) => p.name)).toEqual(['p3']);
    expect(second.nextPageToken).toBe('');
  });

  it('without a mask, updates the fields the request sets and keeps the rest (AIP-134)', async () => {
    const { provider } = await client.createProvider({ provider: { ...oauthProvider('github'), description: 'Code hosting' } }, auth());
    const { provider: updated } = await client.updateProvider({ provider: { name: 'github', displayName: 'GitHub' } }, auth());
    expect([updated?.displayName, updated?.description, updated?.oauth2?.tokenUrl]).toEqual(['GitHub', 'Code hosting', provider!.oauth2?.tokenUrl]);
    // Nothing set: nothing changes.
    expect((await client.updateProvider({ provider: { name: 'github' } }, auth())).provider?.description).toBe('Code hosting');
    await expectConnectError(client.updateProvider({ provider: { name: 'no-such', displayName: 'x' } }, auth()), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await expectConnectError(client.updateProvider({ provider: { name: 'no-such' } }, auth()), Code.NotFound, 'PROVIDER_NOT_FOUND');
  });

  it('updates the masked fields only and tells the caches', async () => {
    const { provider } = await client.createProvider({ provider: oauthProvider('github') }, auth());
    const { provider: updated } = await client.updateProvider(
      { provider: { ...oauthProvider('github'), displayName: 'GitHub', description: 'not in the mask' }, updateMask: { paths: ['display_name'] } },
      auth(),
    );
    expect(updated?.displayName).toBe('GitHub');
    expect(updated?.description).toBe('');
    expect(store.rows.providers.get(provider!.id)!.displayName).toBe('GitHub');
    expect(changed).toBe(1);
  });

  it('refuses to delete a provider in use unless forced, then revokes its connections', async () => {
    const { provider } = await client.createProvider({ provider: oauthProvider('github') }, auth());
    const id = newId('conn');
    await store.connections.insert(activeConnectionRow({ id, projectId: DEFAULT_PROJECT_ID, providerId: provider!.id }));
    await expectConnectError(client.deleteProvider({ provider: 'github' }, auth()), Code.FailedPrecondition, 'PROVIDER_IN_USE');
    expect(store.rows.providers.has(provider!.id)).toBe(true);
    await client.deleteProvider({ provider: 'github', force: true }, auth());
    expect(revoked).toEqual([provider!.id]);
    expect(store.rows.providers.has(provider!.id)).toBe(false);
  });

  it('writes need an admin key', async () => {
    const tokensOnly = (await new ApiKeys(store).create(DEFAULT_PROJECT_ID, 'agent', ['tokens'])).key;
    await expectConnectError(client.createProvider({ provider: oauthProvider('github') }), Code.Unauthenticated, 'UNAUTHENTICATED');
    await expectConnectError(client.createProvider({ provider: oauthProvider('github') }, auth(tokensOnly)), Code.PermissionDenied, 'SCOPE_MISSING');
    expect(store.rows.providers.size).toBe(0);
  });

  it('ignores every OUTPUT_ONLY field a CreateProvider request sets', async () => {
    // Whatever the annotations mark OUTPUT_ONLY (google.api.field_behavior) gets a made-up value.
    const bogus = (schema: DescMessage, into: Record<string, unknown>) => {
      const set: string[] = [];
      for (const f of schema.fields.filter(isOutputOnly)) {
        set.push(f.name);
        if (f.fieldKind === 'message') into[f.localName] = { seconds: 86_400n, nanos: 0 };
        else into[f.localName] = f.scalar === ScalarType.STRING ? 'bogus' : true;
      }
      return set;
    };
    const input = oauthProvider('slack') as Record<string, unknown> & { oauth2: Record<string, unknown> };
    const set = [...bogus(ProviderSchema, input), ...bogus(OAuth2SettingsSchema, input.oauth2)];
    expect(set.sort()).toEqual(['catalog_name', 'client_secret_set', 'create_time', 'id', 'update_time']);
    delete input.oauth2.clientSecret;
    const { provider } = await client.createProvider({ provider: create(ProviderSchema, input) }, auth());
    expect(provider?.id).toMatch(/^prv_/);
    expect(provider?.catalogName).toBe('');
    expect(provider?.oauth2?.clientSecretSet).toBe(false);
    expect(Number(provider?.createTime?.seconds)).toBeGreaterThan(86_400);
    expect(Number(provider?.updateTime?.seconds)).toBeGreaterThan(86_400);
  });

  it('the built-in catalog is public, pages, and names an unknown entry', async () => {
    const first = await client.listCatalogProviders({ pageSize: 2 });
    expect(first.providers).toHaveLength(2);
    const second = await client.listCatalogProviders({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.providers[0]!.name > first.providers[1]!.name).toBe(true);
    expect((await client.getCatalogProvider({ name: 'github' })).provider?.name).toBe('github');
    await expectConnectError(client.getCatalogProvider({ name: 'no-such-entry' }), Code.NotFound, 'CATALOG_ENTRY_NOT_FOUND');
    await expectConnectError(
      client.listCatalogProviders({ pageSize: 2, pageToken: first.nextPageToken, category: 'dev' }),
      Code.InvalidArgument,
      'PAGE_TOKEN_INVALID',
    );
  });

  it("enables a catalog entry as a provider: OAuth2 needs the admin's client, a static one takes none", async () => {
    await expectConnectError(client.enableCatalogProvider({ catalogName: 'github' }, auth()), Code.InvalidArgument, 'INVALID_FIELD');
    const { provider } = await client.enableCatalogProvider({ catalogName: 'github', clientId: 'cid', clientSecret: 'the-client-secret' }, auth());
    const row = store.rows.providers.get(provider!.id)!;
    expect([row.name, row.catalogName, row.oauth2?.clientId]).toEqual(['github', 'github', 'cid']);
    expect(openSealed(ring, row.clientSecretSealed!, clientSecretAad(row.id)).toString('utf8')).toBe('the-client-secret');
    await expectConnectError(client.enableCatalogProvider({ catalogName: 'stripe', clientId: 'cid' }, auth()), Code.InvalidArgument, 'INVALID_FIELD');
    expect((await client.enableCatalogProvider({ catalogName: 'stripe', name: 'stripe-live' }, auth())).provider?.name).toBe('stripe-live');
    await expectConnectError(client.enableCatalogProvider({ catalogName: 'stripe' }), Code.Unauthenticated, 'UNAUTHENTICATED');
  });
});

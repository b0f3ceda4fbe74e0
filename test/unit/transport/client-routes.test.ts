import { toJsonString } from '@bufbuild/protobuf';
import { Code, createClient, createRouterTransport } from '@connectrpc/connect';
import { beforeEach, describe, expect, it } from 'vitest';
import { ClientService as ClientServiceDesc, ClientType, GetClientResponseSchema } from '../../../gen/ts/nexus/v1/client_pb.js';
import { ApiKeys } from '../../../src/domain/access/api-keys.js';
import { ClientRegistry } from '../../../src/domain/auth/client-registry.js';
import { DEFAULT_PROJECT_ID } from '../../../src/domain/shared/workspace-scope.js';
import { accessInterceptor } from '../../../src/transport/access.js';
import { Authenticator } from '../../../src/transport/authenticate.js';
import { errorInterceptor } from '../../../src/transport/error-interceptor.js';
import { ClientHandler } from '../../../src/transport/handlers/client-handler.js';
import { expectConnectError } from '../../support/errors.js';
import { fakePersistence, type FakePersistence } from '../../support/fake-persistence.js';

// ClientService's routes (the admin API for OAuth clients) and the
// registry's client authentication, over createRouterTransport with
// in-memory persistence ports (see token-routes.test.ts).

describe('ClientService routes over fake ports', () => {
  let store: FakePersistence;
  let registry: ClientRegistry;
  let apiKeys: ApiKeys;
  let admin: string;
  let client: ReturnType<typeof createClient<typeof ClientServiceDesc>>;
  const auth = (k = admin) => ({ headers: { authorization: `Bearer ${k}` } });
  const webApp = (over: Record<string, unknown> = {}) => ({
    type: ClientType.CONFIDENTIAL,
    displayName: 'Web app',
    redirectUris: ['https://app.example.com/callback'],
    ...over,
  });

  beforeEach(async () => {
    store = fakePersistence();
    apiKeys = new ApiKeys(store);
    admin = (await apiKeys.create(DEFAULT_PROJECT_ID, 'admin', ['admin'])).key;
    registry = new ClientRegistry(store, false);
    const authenticator = new Authenticator(apiKeys);
    const transport = createRouterTransport((router) => router.service(ClientServiceDesc, new ClientHandler(registry)), {
      router: { interceptors: [errorInterceptor(() => {}), accessInterceptor((ctx) => authenticator.verify(ctx))] },
    });
    client = createClient(ClientServiceDesc, transport);
  });

  it('creates a confidential client: the secret is shown once and stored only as a hash', async () => {
    const { client: made, clientSecret } = await client.createClient({ client: webApp() }, auth());
    expect(clientSecret).toMatch(/^\S{32,}$/);
    const row = store.rows.clients.get(made!.id)!;
    expect(row.secretHash).not.toContain(clientSecret);
    expect(toJsonString(GetClientResponseSchema, await client.getClient({ clientId: made!.id }, auth()))).not.toContain(clientSecret);
    // The registry authenticates it by that secret, and by nothing else.
    expect((await registry.authenticate(() => ({ clientId: made!.id, clientSecret }))).id).toBe(made!.id);
    await expect(registry.authenticate(() => ({ clientId: made!.id, clientSecret: `${clientSecret}x` }))).rejects.toMatchObject({
      reason: 'CLIENT_AUTHENTICATION_FAILED',
    });
  });

  it('a public client has no secret and may not present one', async () => {
    const { client: made, clientSecret } = await client.createClient({ client: webApp({ type: ClientType.PUBLIC }) }, auth());
    expect(clientSecret).toBe('');
    expect((await registry.authenticate(() => ({ clientId: made!.id, clientSecret: '' }))).type).toBe('PUBLIC');
    await expect(registry.authenticate(() => ({ clientId: made!.id, clientSecret: 'guess' }))).rejects.toMatchObject({
      reason: 'CLIENT_AUTHENTICATION_FAILED',
    });
  });

  it('refuses a client without a type, and a plain-http redirect URI in production', async () => {
    await expectConnectError(client.createClient({ client: webApp({ type: ClientType.UNSPECIFIED }) }, auth()), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(
      client.createClient({ client: webApp({ redirectUris: ['http://app.example.com/cb'] }) }, auth()),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    expect(store.rows.clients.size).toBe(0);
  });

  it('without a mask, updates the fields the request sets and keeps the rest (AIP-134)', async () => {
    const { client: made } = await client.createClient({ client: webApp() }, auth());
    const { client: renamed } = await client.updateClient({ client: { id: made!.id, displayName: 'Renamed' } }, auth());
    expect([renamed?.displayName, renamed?.redirectUris, renamed?.branding?.accentColor]).toEqual(['Renamed', made!.redirectUris, made!.branding?.accentColor]);
    // Nothing set: nothing changes; the type still cannot change.
    expect((await client.updateClient({ client: { id: made!.id } }, auth())).client?.redirectUris).toEqual(made!.redirectUris);
    await expectConnectError(client.updateClient({ client: { id: made!.id, type: ClientType.PUBLIC } }, auth()), Code.InvalidArgument, 'INVALID_FIELD');
  });

  it('updates only the masked fields, keeps the type, and validates the merged result', async () => {
    const { client: made } = await client.createClient({ client: webApp() }, auth());
    const { client: updated } = await client.updateClient(
      { client: { ...webApp({ displayName: 'Renamed', redirectUris: [] }), id: made!.id }, updateMask: { paths: ['display_name'] } },
      auth(),
    );
    expect([updated?.displayName, updated?.redirectUris]).toEqual(['Renamed', ['https://app.example.com/callback']]);
    await expectConnectError(
      client.updateClient({ client: { ...webApp({ type: ClientType.PUBLIC }), id: made!.id }, updateMask: { paths: ['display_name'] } }, auth()),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(
      client.updateClient({ client: { ...webApp(), id: made!.id }, updateMask: { paths: ['secret_hash'] } }, auth()),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  it('lists newest first in pages, and deletes', async () => {
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) ids.push((await client.createClient({ client: webApp({ displayName: name }) }, auth())).client!.id);
    const first = await client.listClients({ pageSize: 2 }, auth());
    expect(first.clients).toHaveLength(2);
    const second = await client.listClients({ pageSize: 2, pageToken: first.nextPageToken }, auth());
    expect([...first.clients, ...second.clients].map((c) => c.id).sort()).toEqual([...ids].sort());
    expect(second.nextPageToken).toBe('');
    await client.deleteClient({ clientId: ids[0]! }, auth());
    await expectConnectError(client.getClient({ clientId: ids[0]! }, auth()), Code.NotFound, 'CLIENT_NOT_FOUND');
  });

  it('is admin-only and project-scoped', async () => {
    const { client: made } = await client.createClient({ client: webApp() }, auth());
    const connectionsOnly = (await apiKeys.create(DEFAULT_PROJECT_ID, 'app', ['connections'])).key;
    const otherAdmin = (await apiKeys.create('prj_other', 'admin', ['admin'])).key;
    await expectConnectError(client.getClient({ clientId: made!.id }), Code.Unauthenticated, 'UNAUTHENTICATED');
    await expectConnectError(client.getClient({ clientId: made!.id }, auth(connectionsOnly)), Code.PermissionDenied, 'SCOPE_MISSING');
    await expectConnectError(client.getClient({ clientId: made!.id }, auth(otherAdmin)), Code.NotFound, 'CLIENT_NOT_FOUND');
    await expectConnectError(client.deleteClient({ clientId: made!.id }, auth(otherAdmin)), Code.NotFound, 'CLIENT_NOT_FOUND');
    expect(store.rows.clients.has(made!.id)).toBe(true);
  });
});

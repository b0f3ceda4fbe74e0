import { Code, createClient, createRouterTransport } from '@connectrpc/connect';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConnectionService as ConnectionServiceDesc, ConnectionStatus } from '../../../gen/ts/nexus/v1/connection_pb.js';
import { KeyRing, newId } from '../../../src/crypto/index.js';
import { ApiKeys } from '../../../src/domain/access/api-keys.js';
import type { ConnectionEvents } from '../../../src/domain/connections/connection-events.js';
import { ConnectionService } from '../../../src/domain/connections/connection-service.js';
import type { ConnectionWatch } from '../../../src/domain/connections/connection-watch.js';
import { openCredentials } from '../../../src/domain/connections/sealed-credentials.js';
import type { StreamCredentials } from '../../../src/domain/connections/stream-credentials.js';
import type { ProviderRow } from '../../../src/domain/model/provider.js';
import type { OAuthClient } from '../../../src/domain/oauth/oauth-client.js';
import type { OutboundPolicy } from '../../../src/domain/outbound/outbound-policy.js';
import { ProviderService } from '../../../src/domain/providers/provider-service.js';
import { UrlAllowList } from '../../../src/domain/shared/url-allow-list.js';
import { DEFAULT_PROJECT_ID } from '../../../src/domain/shared/workspace-scope.js';
import { accessInterceptor } from '../../../src/transport/access.js';
import { Authenticator } from '../../../src/transport/authenticate.js';
import { errorInterceptor } from '../../../src/transport/error-interceptor.js';
import { ConnectionHandler } from '../../../src/transport/handlers/connection-handler.js';
import { expectConnectError } from '../../support/errors.js';
import { fakePersistence, type FakePersistence } from '../../support/fake-persistence.js';
import { providerRow } from '../../support/rows.js';

// ConnectionService's unary routes over createRouterTransport with in-memory
// persistence ports and a set clock (see token-routes.test.ts): the handler,
// the access table, state tokens, consent links, sealing and the domain
// service. The OAuth round trip itself is the e2e tier's (real servers).

const NOW = Date.parse('2026-01-01T00:00:00Z');
const BASE_URL = 'http://nexus.test';
const RETURN_URL = 'https://app.example.com/done';

const provider = (name: string, over: Partial<ProviderRow> = {}) =>
  providerRow({ id: newId('prv', NOW), projectId: DEFAULT_PROJECT_ID, name, displayName: name, authType: 'API_KEY', ...over });

describe('ConnectionService routes over fake ports', () => {
  let now: number;
  let store: FakePersistence;
  let ring: KeyRing;
  let published: string[];
  let revokedAtProvider: string[];
  let apiKeys: ApiKeys;
  let key: string;
  let client: ReturnType<typeof createClient<typeof ConnectionServiceDesc>>;
  const auth = (k = key) => ({ headers: { authorization: `Bearer ${k}` } });
  const stateOf = (authUrl: string) => new URL(authUrl).searchParams.get('state')!;

  beforeEach(async () => {
    now = NOW;
    const clock = () => now;
    store = fakePersistence(clock);
    ring = KeyRing.generate('k1');
    published = [];
    revokedAtProvider = [];
    apiKeys = new ApiKeys(store, { clock });
    key = (await apiKeys.create(DEFAULT_PROJECT_ID, 'app', ['connections'])).key;
    const providers = new ProviderService(store, ring, false, {} as OutboundPolicy, async () => {});
    const oauth = {
      authorizationUrl: async (_p: ProviderRow, o: { state: string }) => `https://auth.example.com/authorize?state=${o.state}`,
      prepare: async () => {},
      revoke: async (p: ProviderRow) => void revokedAtProvider.push(p.name),
    } as unknown as OAuthClient;
    const events = { publish: async (_tx: unknown, type: string) => void published.push(type) } as unknown as ConnectionEvents;
    const connections = new ConnectionService({
      store,
      keyRing: ring,
      providers,
      oauth,
      events,
      returnUrls: async () => new UrlAllowList(['https://app.example.com/']),
      baseUrl: BASE_URL,
      warn: () => {},
      clock,
    });
    const authenticator = new Authenticator(apiKeys);
    // Streams are ConnectionWatch's own tests; the unary routes never reach these.
    const handler = new ConnectionHandler(connections, {} as ConnectionWatch, {} as StreamCredentials);
    const transport = createRouterTransport((router) => router.service(ConnectionServiceDesc, handler), {
      router: { interceptors: [errorInterceptor(() => {}), accessInterceptor((ctx) => authenticator.verify(ctx))] },
    });
    client = createClient(ConnectionServiceDesc, transport);
    await store.providers.insert(provider('stripe'));
  });

  async function capture(workspaceId = 'ws-1') {
    const created = await client.createConnection({ workspaceId, provider: { case: 'providerName', value: 'stripe' }, returnUrl: RETURN_URL }, auth());
    return { id: created.connection!.id, state: stateOf(created.authUrl), created };
  }

  it('captures a static credential: PENDING, then ACTIVE with the value sealed to the row', async () => {
    const { id, state, created } = await capture();
    expect(created.connection?.status).toBe(ConnectionStatus.PENDING);
    expect(created.authUrl.startsWith(`${BASE_URL}/manage/capture?state=`)).toBe(true);
    const submitted = await client.submitCredentials({ state, credentials: { api_key: 'sk_live_1' } });
    expect(submitted.connection?.status).toBe(ConnectionStatus.ACTIVE);
    expect(new URL(submitted.redirectUrl).searchParams.get('connection_id')).toBe(id);
    const row = store.rows.connections.get(id)!;
    expect(row.credentialsSealed).not.toContain('sk_live_1');
    expect(openCredentials(ring, row)).toEqual({ api_key: 'sk_live_1' });
    expect(published).toEqual(['CREATED', 'ACTIVE']);
    expect((await client.getConnection({ connectionId: id }, auth())).connection?.status).toBe(ConnectionStatus.ACTIVE);
  });

  it('a new connection to the same provider in the workspace supersedes the old one', async () => {
    const old = await capture();
    await client.submitCredentials({ state: old.state, credentials: { api_key: 'sk_old' } });
    const fresh = await capture();
    await client.submitCredentials({ state: fresh.state, credentials: { api_key: 'sk_new' } });
    const row = store.rows.connections.get(old.id)!;
    expect([row.status, row.statusReason, row.supersededBy, row.credentialsSealed]).toEqual(['REVOKED', 'superseded', fresh.id, null]);
    expect(published).toEqual(['CREATED', 'ACTIVE', 'CREATED', 'ACTIVE', 'REVOKED']);
  });

  it('a state is single-use, and refused once its ten minutes are up (set clock, no sleep)', async () => {
    const first = await capture();
    await client.submitCredentials({ state: first.state, credentials: { api_key: 'sk_1' } });
    await expectConnectError(client.submitCredentials({ state: first.state, credentials: { api_key: 'sk_2' } }), Code.FailedPrecondition, 'STATE_ALREADY_USED');
    const second = await capture();
    now = NOW + 10 * 60_000 + 1;
    await expectConnectError(client.submitCredentials({ state: second.state, credentials: { api_key: 'sk_3' } }), Code.FailedPrecondition, 'STATE_EXPIRED');
    expect(store.rows.connections.get(second.id)!.status).toBe('PENDING');
  });

  it('refuses credentials that do not match the schema, and leaves the state usable', async () => {
    const { state } = await capture();
    await expectConnectError(client.submitCredentials({ state, credentials: { token: 'x' } }), Code.InvalidArgument, 'CREDENTIALS_INVALID');
    expect((await client.submitCredentials({ state, credentials: { api_key: 'sk_ok' } })).connection?.status).toBe(ConnectionStatus.ACTIVE);
  });

  it('refuses an altered state token', async () => {
    const { state } = await capture();
    await expectConnectError(
      client.submitCredentials({ state: `${state.slice(0, -2)}xx`, credentials: { api_key: 'sk' } }),
      Code.InvalidArgument,
      'STATE_INVALID',
    );
  });

  it('an OAuth2 connection starts on the consent page, never on the provider URL', async () => {
    await store.providers.insert(
      provider('github', {
        authType: 'OAUTH2',
        oauth2: {
          clientId: 'cid',
          authorizationUrl: 'https://auth.example.com/authorize',
          tokenUrl: 'https://auth.example.com/token',
        } as ProviderRow['oauth2'],
      }),
    );
    const created = await client.createConnection({ workspaceId: 'ws-1', provider: { case: 'providerName', value: 'github' }, returnUrl: RETURN_URL }, auth());
    expect(created.authUrl).toMatch(new RegExp(`^${BASE_URL}/connect/`));
    const [stateRow] = [...store.rows.authStates.values()].filter((s) => s.connectionId === created.connection!.id);
    expect(stateRow?.providerUrl).toMatch(/^https:\/\/auth\.example\.com\/authorize/);
    expect(stateRow?.codeVerifierSealed).toBeTruthy();
  });

  it('refuses a return URL off the allow-list, an unknown provider and a disabled one', async () => {
    const create = (provider: string, returnUrl = RETURN_URL) =>
      client.createConnection({ workspaceId: 'ws-1', provider: { case: 'providerName', value: provider }, returnUrl }, auth());
    await expectConnectError(create('stripe', 'https://evil.example.net/'), Code.InvalidArgument, 'RETURN_URL_NOT_ALLOWED');
    await expectConnectError(create('nope'), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await store.providers.insert(provider('off', { enabled: false }));
    await expectConnectError(create('off'), Code.FailedPrecondition, 'PROVIDER_DISABLED');
    expect(store.rows.connections.size).toBe(0);
  });

  it('lists newest first, filtered by workspace, and pages', async () => {
    const a = await capture('ws-a');
    now += 1_000;
    const b = await capture('ws-a');
    now += 1_000;
    await capture('ws-b');
    const first = await client.listConnections({ workspaceId: 'ws-a', pageSize: 1 }, auth());
    expect(first.connections.map((c) => c.id)).toEqual([b.id]);
    const second = await client.listConnections({ workspaceId: 'ws-a', pageSize: 1, pageToken: first.nextPageToken }, auth());
    expect(second.connections.map((c) => c.id)).toEqual([a.id]);
    expect(second.nextPageToken).toBe('');
    await expectConnectError(
      client.listConnections({ workspaceId: 'ws-b', pageToken: first.nextPageToken }, auth()),
      Code.InvalidArgument,
      'PAGE_TOKEN_INVALID',
    );
  });

  it('deletes: REVOKED, credentials erased, twice is harmless', async () => {
    const { id, state } = await capture();
    await client.submitCredentials({ state, credentials: { api_key: 'sk_live_2' } });
    const deleted = await client.deleteConnection({ connectionId: id }, auth());
    expect(deleted.connection?.status).toBe(ConnectionStatus.REVOKED);
    expect(store.rows.connections.get(id)!.credentialsSealed).toBeNull();
    expect((await client.deleteConnection({ connectionId: id }, auth())).connection?.status).toBe(ConnectionStatus.REVOKED);
    expect(published.filter((t) => t === 'DELETED')).toHaveLength(1);
  });

  it('another project sees NOT_FOUND; no key, UNAUTHENTICATED; a tokens-only key, SCOPE_MISSING', async () => {
    const { id } = await capture();
    const otherProject = (await apiKeys.create('prj_other', 'other', ['connections'])).key;
    await expectConnectError(client.getConnection({ connectionId: id }, auth(otherProject)), Code.NotFound, 'CONNECTION_NOT_FOUND');
    await expectConnectError(client.deleteConnection({ connectionId: id }, auth(otherProject)), Code.NotFound, 'CONNECTION_NOT_FOUND');
    await expectConnectError(client.getConnection({ connectionId: id }), Code.Unauthenticated, 'UNAUTHENTICATED');
    const tokensOnly = (await apiKeys.create(DEFAULT_PROJECT_ID, 'agent', ['tokens'])).key;
    await expectConnectError(client.getConnection({ connectionId: id }, auth(tokensOnly)), Code.PermissionDenied, 'SCOPE_MISSING');
    expect(store.rows.connections.get(id)!.status).toBe('PENDING');
  });
});

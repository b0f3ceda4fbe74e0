import { Code, createClient, createRouterTransport } from '@connectrpc/connect';
import { beforeEach, describe, expect, it } from 'vitest';
import { TokenService as TokenServiceDesc } from '../../../gen/ts/nexus/v1/token_pb.js';
import { KeyRing, newId } from '../../../src/crypto/index.js';
import { ApiKeys } from '../../../src/domain/access/api-keys.js';
import type { ConnectionEvents } from '../../../src/domain/connections/connection-events.js';
import { openCredentials, sealCredentials } from '../../../src/domain/connections/sealed-credentials.js';
import type { ProviderRow } from '../../../src/domain/model/provider.js';
import type { OAuthClient } from '../../../src/domain/oauth/oauth-client.js';
import { OAuthRejectedError } from '../../../src/domain/oauth/oauth-errors.js';
import type { TokenSet } from '../../../src/domain/oauth/token-set.js';
import type { ProviderService } from '../../../src/domain/providers/provider-service.js';
import { Refresher } from '../../../src/domain/tokens/refresher.js';
import { TokenService } from '../../../src/domain/tokens/token-service.js';
import { Authenticator } from '../../../src/transport/authenticate.js';
import { accessInterceptor } from '../../../src/transport/access.js';
import { errorInterceptor } from '../../../src/transport/error-interceptor.js';
import { TokenHandler } from '../../../src/transport/handlers/token-handler.js';
import { expectConnectError } from '../../support/errors.js';
import { fakePersistence, type FakePersistence } from '../../support/fake-persistence.js';
import { activeConnectionRow, providerRow } from '../../support/rows.js';

// The unit tier in the connect-es examples style: the real TokenService
// routes (handler, access table, authentication, error mapping, domain
// service, refresher)
// over createRouterTransport, with in-memory persistence ports, a set clock
// and a scripted authorization server. No database, no sockets, no sleeps.

const NOW = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const PROJECT = 'prj_00000000000000000000000000';

const provider = (over: Partial<ProviderRow>) => providerRow({ id: newId('prv', NOW), projectId: PROJECT, ...over });

describe('TokenService routes over fake ports', () => {
  let now: number;
  let store: FakePersistence;
  let ring: KeyRing;
  let refreshes: string[];
  let answer: () => Promise<TokenSet>;
  let published: string[];
  let client: ReturnType<typeof createClient<typeof TokenServiceDesc>>;
  let key: string;

  async function connect(p: Omit<ProviderRow, 'createdAt' | 'updatedAt'>, credentials: unknown): Promise<string> {
    await store.providers.insert(p);
    const id = newId('conn', now);
    await store.connections.insert(
      activeConnectionRow({
        id,
        projectId: PROJECT,
        workspaceId: 'ws-1',
        providerId: p.id,
        returnUrl: 'http://localhost/done',
        credentialsSealed: sealCredentials(ring, id, credentials),
      }),
    );
    return id;
  }

  const auth = (k = key) => ({ headers: { authorization: `Bearer ${k}` } });

  beforeEach(async () => {
    now = NOW;
    const clock = () => now;
    store = fakePersistence(clock);
    ring = KeyRing.generate('k1');
    refreshes = [];
    published = [];
    answer = async () => ({ accessToken: 'at-2', tokenType: 'Bearer', refreshToken: 'rt-2', expiresAt: now + 60 * MIN });
    const apiKeys = new ApiKeys(store);
    key = (await apiKeys.create(PROJECT, 'agent', ['tokens'])).key;
    const providers = {
      require: async (projectId: string, id: string) => (await store.providers.findById(projectId, id))!,
      clientSecret: () => 'client-secret',
    } as unknown as ProviderService;
    const oauth = {
      refresh: async (_p: ProviderRow, _secret: string, refreshToken: string) => {
        refreshes.push(refreshToken);
        return answer();
      },
    } as unknown as OAuthClient;
    const events = { publish: async (_tx: unknown, type: string) => void published.push(type) } as unknown as ConnectionEvents;
    const refresher = new Refresher({
      store,
      keyRing: ring,
      providers,
      oauth,
      events,
      options: { leaseMs: 30_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000 },
      clock,
    });
    const tokens = new TokenService({ store, keyRing: ring, refresher, clock });
    const authenticator = new Authenticator(apiKeys);
    // The server's order (src/server.ts): errors outermost, access innermost.
    const transport = createRouterTransport((router) => router.service(TokenServiceDesc, new TokenHandler(tokens)), {
      router: { interceptors: [errorInterceptor(() => {}), accessInterceptor((ctx) => authenticator.verify(ctx))] },
    });
    client = createClient(TokenServiceDesc, transport);
  });

  it('hands out a fresh OAuth2 token without calling the provider', async () => {
    const id = await connect(provider({}), { accessToken: 'at-1', tokenType: 'Bearer', refreshToken: 'rt-1', expiresAt: NOW + 30 * MIN });
    const res = (await client.getToken({ connectionId: id }, auth())).credential!;
    expect(res.credentials.case === 'oauth2' && res.credentials.value.accessToken).toBe('at-1');
    expect(refreshes).toEqual([]);
  });

  it('refreshes once the clock reaches the margin, and stores the new tokens', async () => {
    const id = await connect(provider({}), { accessToken: 'at-1', tokenType: 'Bearer', refreshToken: 'rt-1', expiresAt: NOW + 30 * MIN });
    now = NOW + 29.5 * MIN; // 30 s left, inside the default 60 s margin
    const res = (await client.getToken({ connectionId: id }, auth())).credential!;
    expect(res.credentials.case === 'oauth2' && res.credentials.value.accessToken).toBe('at-2');
    expect(refreshes).toEqual(['rt-1']);
    expect(published).toEqual(['REFRESHED']);
    const row = store.rows.connections.get(id)!;
    expect(openCredentials<TokenSet>(ring, row)).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-2' });
    expect(row.refreshAttemptId).toBeNull();
    expect(row.refreshTokenRotates).toBe(true);
  });

  it('keeps the old refresh token when the provider returns none', async () => {
    answer = async () => ({ accessToken: 'at-2', tokenType: 'Bearer', expiresAt: now + 60 * MIN });
    const id = await connect(provider({}), { accessToken: 'at-1', tokenType: 'Bearer', refreshToken: 'rt-1', expiresAt: NOW });
    await client.refreshToken({ connectionId: id }, auth());
    const row = store.rows.connections.get(id)!;
    expect(openCredentials<TokenSet>(ring, row).refreshToken).toBe('rt-1');
    expect(row.refreshTokenRotates).toBe(false);
  });

  it('a rejected refresh makes the connection ATTENTION_REQUIRED', async () => {
    answer = async () => {
      throw new OAuthRejectedError('invalid_grant', 400);
    };
    const id = await connect(provider({}), { accessToken: 'at-1', tokenType: 'Bearer', refreshToken: 'rt-1', expiresAt: NOW });
    await expectConnectError(client.getToken({ connectionId: id }, auth()), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    expect(store.rows.connections.get(id)).toMatchObject({ status: 'ATTENTION_REQUIRED', statusReason: 'invalid_grant' });
    expect(published).toEqual(['ATTENTION_REQUIRED']);
    // Never retried automatically: the next call answers from the row.
    await expectConnectError(client.getToken({ connectionId: id }, auth()), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    expect(refreshes).toEqual(['rt-1']);
  });

  it('a static API key is handed out as placed by the provider, and cannot be refreshed', async () => {
    const p = provider({ authType: 'API_KEY', apiKey: { location: 'header', name: 'X-Key', prefix: '', field: 'api_key' } });
    const id = await connect(p, { api_key: 'sk-static' });
    const res = (await client.getToken({ connectionId: id }, auth())).credential!;
    expect(res.credentials.case).toBe('apiKey');
    await expectConnectError(client.refreshToken({ connectionId: id }, auth()), Code.FailedPrecondition, 'STATIC_CREDENTIAL');
  });

  it('refuses callers without a key, with a bad key, or from another project', async () => {
    const id = await connect(provider({}), { accessToken: 'at-1', tokenType: 'Bearer', refreshToken: 'rt-1', expiresAt: NOW + 30 * MIN });
    await expectConnectError(client.getToken({ connectionId: id }), Code.Unauthenticated, 'UNAUTHENTICATED');
    await expectConnectError(client.getToken({ connectionId: id }, auth('nx_not_a_key')), Code.Unauthenticated, 'UNAUTHENTICATED');
    const other = await new ApiKeys(store).create('prj_11111111111111111111111111', 'other', ['tokens']);
    await expectConnectError(client.getToken({ connectionId: id }, auth(other.key)), Code.NotFound, 'CONNECTION_NOT_FOUND');
  });

  it('refuses a key without the tokens scope', async () => {
    const id = await connect(provider({}), { accessToken: 'at-1', tokenType: 'Bearer', refreshToken: 'rt-1', expiresAt: NOW + 30 * MIN });
    const admin = await new ApiKeys(store).create(PROJECT, 'conn-only', ['connections']);
    await expectConnectError(client.getToken({ connectionId: id }, auth(admin.key)), Code.PermissionDenied, 'SCOPE_MISSING');
  });
});

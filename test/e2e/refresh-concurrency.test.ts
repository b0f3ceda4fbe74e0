import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { KeyRing } from '../../src/crypto/index.js';
import { callback, connectViaConsent } from '../support/consent.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

const CALLERS = 50;

/** Connects a workspace with a token that expires in one second, so the next GetToken must refresh. */
async function connectWithExpiringToken(auth: TestAuthServer, api: Clients, workspaceId: string): Promise<string> {
  auth.expiresIn = 1;
  const { created, result } = await connectViaConsent(auth, api, workspaceId);
  expect(new URL(result.location!).searchParams.get('status')).toBe('success');
  auth.expiresIn = 3600;
  return created.connection!.id;
}

function accessToken(r: { credentials: { case?: string; value?: unknown } }): string {
  return (r.credentials.value as { accessToken: string }).accessToken;
}

describe.each(BACKENDS)('single-flight refresh in one process (%s)', (backend) => {
  let auth: TestAuthServer;
  let nexus: TestApp;
  let api: Clients;

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: oauthProvider(auth) });
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
  });

  it(`${CALLERS} concurrent GetToken on an expired token cause exactly one refresh`, async () => {
    const id = await connectWithExpiringToken(auth, api, 'burst');
    const before = auth.refreshRequests;
    const results = await Promise.all(Array.from({ length: CALLERS }, () => api.tokens.getToken({ connectionId: id })));
    expect(auth.refreshRequests - before).toBe(1);
    const tokens = new Set(results.map((r) => accessToken(r.credential!)));
    expect(tokens.size).toBe(1);
    // And the refreshed token is what is stored: later calls need no refresh.
    const again = (await api.tokens.getToken({ connectionId: id })).credential!;
    expect(accessToken(again)).toBe([...tokens][0]);
    expect(auth.refreshRequests - before).toBe(1);
    expect((await api.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.ACTIVE);
  });
});

describe('single-flight refresh across two server processes on one PostgreSQL', () => {
  let auth: TestAuthServer;
  let db: TestDatabase;
  let replicas: ServerProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    db = await createTestDatabase();
    env = {
      DATABASE_URL: db.url,
      NEXUS_ENCRYPTION_KEYS: KeyRing.generate('r1').toSpec(),
      NEXUS_ADMIN_API_KEY: ADMIN_KEY,
      NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
      // On-demand single-flight is under test: no background refresh behind its back.
      NEXUS_REFRESH_WORKER: 'false',
    };
    // Started together: the migration lock lets exactly one of them migrate.
    replicas = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.drop();
    await auth?.stop();
  });

  it(`${CALLERS} concurrent GetToken spread over both replicas cause exactly one refresh`, async () => {
    const [a, b] = replicas.map((r) => clients(r.baseUrl, ADMIN_KEY));
    await a!.providers.createProvider({ provider: oauthProvider(auth) });
    // The OAuth callback lands on replica A; replica B sees the same connection.
    const created = await a!.connections.createConnection({
      workspaceId: 'replicated',
      provider: { case: 'providerName', value: 'local-oauth' },
      returnUrl: RETURN_URL,
    });
    auth.expiresIn = 1;
    await callback(await auth.consent(created.authUrl));
    auth.expiresIn = 3600;
    const id = created.connection!.id;
    expect((await b!.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.ACTIVE);

    const before = auth.refreshRequests;
    const results = await Promise.all(Array.from({ length: CALLERS }, (_, i) => (i % 2 === 0 ? a! : b!).tokens.getToken({ connectionId: id })));
    expect(auth.refreshRequests - before).toBe(1);
    expect(new Set(results.map((r) => accessToken(r.credential!))).size).toBe(1);
  });

  it('drains and exits cleanly on SIGTERM', async () => {
    // The same key ring as the others: a replica must open the shared sealed rows (e.g. signing keys) to start.
    const extra = await startServerProcess(env);
    expect(await extra.stop('SIGTERM')).toBe(0);
    expect(extra.output()).toContain('shutting down');
  });
});

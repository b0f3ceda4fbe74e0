import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { KeyRing } from '../../src/crypto/index.js';
import { REDIRECT, signInUser, type TestClient } from '../support/auth-flows.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, authClients, clients, startTestApp, type TestApp } from '../support/test-app.js';

/** Two replicas of one deployment (one BASE_URL) on one PostgreSQL share signing keys and session state. */
describe('end-user auth across two replicas (postgres)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let client: TestClient;
  const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

  beforeAll(async () => {
    db = await createTestDatabase();
    const keyRing = KeyRing.generate('r1');
    const config = { baseUrl: 'https://nexus.example.com' };
    // Started together: the advisory lock must leave exactly one signing key.
    [a, b] = await Promise.all([
      startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing, config }),
      startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing, config }),
    ]);
    // The tests reach each replica on its own port; the SIWE messages name that origin.
    const res = await authClients(a.baseUrl, ADMIN_KEY).clients.createClient({
      client: { type: ClientType.CONFIDENTIAL, displayName: 'Acme', redirectUris: [REDIRECT], siweOrigins: [a.baseUrl, b.baseUrl] },
    });
    const id = res.client!.id;
    client = { id, secret: res.clientSecret, basic: `Basic ${Buffer.from(`${id}:${res.clientSecret}`).toString('base64')}` };
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('creates one signing key when replicas start together', async () => {
    expect(await a.app.store.signingKeys.listAll()).toHaveLength(1);
  });

  it('a token issued by one replica works on the other; a revocation on one is seen by the other at once', async () => {
    const user = await signInUser(a.baseUrl, client);
    await clients(b.baseUrl, user.accessToken).connections.listConnections({});
    await authClients(b.baseUrl).auth.revoke({ token: user.refreshToken }, { headers: { authorization: client.basic } });
    await expectConnectError(clients(a.baseUrl, user.accessToken).connections.listConnections({}), Code.Unauthenticated, 'UNAUTHENTICATED');
    // A refresh token rotated on one replica is reuse on the other.
    const second = await signInUser(b.baseUrl, client);
    await authClients(a.baseUrl).auth.exchangeToken(
      { grantType: 'refresh_token', refreshToken: second.refreshToken },
      { headers: { authorization: client.basic } },
    );
    await expectConnectError(
      authClients(b.baseUrl).auth.exchangeToken(
        { grantType: 'refresh_token', refreshToken: second.refreshToken },
        { headers: { authorization: client.basic } },
      ),
      Code.InvalidArgument,
      'REFRESH_TOKEN_INVALID',
    );
  });

  it('a key rotated on one replica signs there, and the other verifies it at once (unknown kid: re-read)', async () => {
    const kid = await a.app.signingKeys.rotate();
    const user = await signInUser(a.baseUrl, client);
    expect(kidOf(user.accessToken)).toBe(kid);
    await clients(b.baseUrl, user.accessToken).connections.listConnections({});
    // B signs with the new key only after its periodic reload (within a minute); until then its
    // tokens still carry the old key, which both replicas keep verifying.
    const onB = await signInUser(b.baseUrl, client);
    await clients(a.baseUrl, onB.accessToken).connections.listConnections({});
  });

  it('sweeps one-time codes that expired more than a day ago, and keeps the others', async () => {
    const store = a.app.store;
    const row = (codeHash: string, expiresAt: Date) => ({
      codeHash,
      kind: 'nonce' as const,
      projectId: 'prj_default',
      clientId: client.id,
      sessionId: null,
      redirectUri: null,
      codeChallenge: null,
      intent: null,
      ipFingerprint: null,
      createdAt: new Date(expiresAt.getTime() - 300_000),
      expiresAt,
    });
    await store.oneTimeCodes.insert(row('old-code-hash', new Date(Date.now() - 2 * 86_400_000)));
    await store.oneTimeCodes.insert(row('recent-code-hash', new Date(Date.now() - 3_600_000)));
    expect(await store.oneTimeCodes.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await store.oneTimeCodes.findByHash('nonce', 'old-code-hash')).toBeNull();
    expect(await store.oneTimeCodes.findByHash('nonce', 'recent-code-hash')).not.toBeNull();
  });
});

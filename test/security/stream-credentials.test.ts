// Attack: a stream outlives its credential. A WatchConnections stream opened
// with an API key or a user's access token kept delivering events after the
// key or the session was revoked, or the token expired: authentication
// happened once, when the stream opened.
import { Code, ConnectError } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { KeyRing } from '../../src/crypto/index.js';
import { registerClient, signInUser, type TestClient } from '../support/auth-flows.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { authClients, clients, startTestApp, type TestApp } from '../support/test-app.js';
import { StreamRecorder } from '../support/watch.js';

const PROJECT = 'prj_default';

function watch(app: TestApp, credential: string): StreamRecorder {
  return new StreamRecorder((signal) => clients(app.baseUrl, credential).connections.watchConnections({}, { signal }));
}

/** Waits for the stream to end and returns how long that took; it must end with this code and reason. */
async function endsWith(stream: StreamRecorder, code: Code, reason: string, limitMs: number): Promise<number> {
  const started = Date.now();
  await stream.until((r) => r.ended, `the stream to end within ${limitMs} ms`, limitMs);
  const err = stream.error as ConnectError;
  expect(err, 'the stream ended without an error').toBeInstanceOf(ConnectError);
  expect({ code: Code[err.code], reason: err.findDetails(ErrorInfoSchema)[0]?.reason }).toEqual({ code: Code[code], reason: `ERROR_REASON_${reason}` });
  return Date.now() - started;
}

async function newKey(app: TestApp, name: string): Promise<{ id: string; key: string }> {
  return app.app.apiKeys.create(PROJECT, name, ['connections']);
}

describe('streams end when their credential ends, across two replicas (postgres)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    const keyRing = KeyRing.generate('s1');
    [a, b] = await Promise.all([
      startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing }),
      startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing }),
    ]);
    client = await registerClient(a.baseUrl, ClientType.CONFIDENTIAL);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('an API key revoked on one replica ends its stream on the other with UNAUTHENTICATED', async () => {
    const { id, key } = await newKey(a, 'watcher');
    const stream = watch(b, key);
    await stream.ready();
    await a.app.apiKeys.revoke(PROJECT, id);
    expect(await endsWith(stream, Code.Unauthenticated, 'UNAUTHENTICATED', 3_000)).toBeLessThan(3_000);
    expect(stream.error!.rawMessage).toMatch(/API key was revoked/);
  });

  it("a user session revoked on one replica (RFC 7009) ends the user's stream on the other", async () => {
    const user = await signInUser(b.baseUrl, client, ['connections']);
    const stream = watch(b, user.accessToken);
    await stream.ready();
    await authClients(a.baseUrl).auth.revoke({ token: user.refreshToken }, { headers: { authorization: client.basic } });
    expect(await endsWith(stream, Code.Unauthenticated, 'UNAUTHENTICATED', 3_000)).toBeLessThan(3_000);
    expect(stream.error!.rawMessage).toMatch(/session of this access token was revoked/);
  });

  it('a stream whose credential holds stays open', async () => {
    const { key } = await newKey(a, 'unrelated-revocation');
    const { id: other } = await newKey(a, 'other');
    const stream = watch(b, key);
    await stream.ready();
    await a.app.apiKeys.revoke(PROJECT, other);
    await new Promise((r) => setTimeout(r, 500));
    expect(stream.ended).toBe(false);
    await stream.stop();
  });
});

describe('streams end when their credential ends (embedded)', () => {
  let nexus: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    nexus = await startTestApp({
      backend: 'embedded',
      // Short-lived access tokens, and a 1 s full recheck: the safety net under test.
      config: { accessTokenTtlSeconds: 2, streamCredentialRecheckMs: 1_000 },
    });
    client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('a revoked API key ends its stream at once', async () => {
    const { id, key } = await newKey(nexus, 'watcher');
    const stream = watch(nexus, key);
    await stream.ready();
    await nexus.app.apiKeys.revoke(PROJECT, id);
    expect(await endsWith(stream, Code.Unauthenticated, 'UNAUTHENTICATED', 2_000)).toBeLessThan(2_000);
  });

  it('an access token that expires ends its stream when it expires', async () => {
    const user = await signInUser(nexus.baseUrl, client, ['connections']);
    const opened = Date.now();
    const stream = watch(nexus, user.accessToken);
    await stream.ready();
    await endsWith(stream, Code.Unauthenticated, 'UNAUTHENTICATED', 4_000);
    expect(stream.error!.rawMessage).toMatch(/expired/);
    expect(Date.now() - opened).toBeLessThan(4_000);
  });

  it("a session ended behind the notices' back (a direct UPDATE) is caught by the periodic recheck", async () => {
    const { id, key } = await newKey(nexus, 'quiet');
    const stream = watch(nexus, key);
    await stream.ready();
    await nexus.app.database.dataSource.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
    // The key cache still holds the key for up to 10 s; the recheck goes through it, so allow that.
    await endsWith(stream, Code.Unauthenticated, 'UNAUTHENTICATED', 13_000);
  });
});

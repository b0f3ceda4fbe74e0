// Attacks on API-key governance across two replicas on one PostgreSQL: a
// revoked, expired or rotated-out key keeps working on the replica that did
// not make the change; a replica whose LISTEN session is down keeps a revoked
// key cached; a project admin climbs to operator through key management.
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../../gen/ts/nexus/v1/api_key_pb.js';
import { KeyRing } from '../../src/crypto/index.js';
import type { EventListener } from '../../src/domain/ports/persistence.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, clients, governanceClients, startTestApp, type TestApp } from '../support/test-app.js';

const list = (app: TestApp, key: string) => clients(app.baseUrl, key).connections.listConnections({});

/** Polls until `key` is refused by `app` with `reason`; returns how long that took. Fails after `limitMs`. */
async function refusedWithin(app: TestApp, key: string, reason: string, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await list(app, key);
    } catch {
      await expectConnectError(list(app, key), Code.Unauthenticated, reason);
      return Date.now() - started;
    }
    if (Date.now() - started > limitMs) throw new Error(`the key still works on ${app.baseUrl} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('API key governance across two replicas (postgres)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  // The replicas' clock runs with the real one (the cache ages); tests jump it forward.
  let offset = 0;
  const clock = () => Date.now() + offset;
  const keyRing = KeyRing.generate('v1');

  beforeAll(async () => {
    db = await createTestDatabase();
    [a, b] = await Promise.all([
      startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing, clock }),
      startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing, clock }),
    ]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  const newKey = async (scopes = [ApiKeyScope.CONNECTIONS], ttl?: number) =>
    governanceClients(a.baseUrl, ADMIN_KEY).apiKeys.createApiKey({ name: 'agent', scopes, ...(ttl ? { ttl: { seconds: BigInt(ttl), nanos: 0 } } : {}) });

  it('RevokeApiKey through one replica: the other, which had the key cached, refuses it within 1 s', async () => {
    const { apiKey, secret } = await newKey();
    await list(a, secret);
    await list(b, secret);
    await governanceClients(a.baseUrl, ADMIN_KEY).apiKeys.revokeApiKey({ keyId: apiKey!.id });
    await expectConnectError(list(a, secret), Code.Unauthenticated, 'UNAUTHENTICATED');
    expect(await refusedWithin(b, secret, 'UNAUTHENTICATED', 1_000)).toBeLessThan(1_000);
  });

  it('a rotated-out key stops on both replicas at the end of its overlap, cached or not', async () => {
    const { apiKey, secret } = await newKey();
    await list(b, secret);
    const rotated = await governanceClients(a.baseUrl, ADMIN_KEY).apiKeys.rotateApiKey({ keyId: apiKey!.id, overlap: { seconds: 60n, nanos: 0 } });
    // Within the overlap both keys work on both replicas.
    for (const app of [a, b]) for (const key of [secret, rotated.secret]) await list(app, key);
    offset += 61_000;
    for (const app of [a, b]) await expectConnectError(list(app, secret), Code.Unauthenticated, 'API_KEY_EXPIRED');
    for (const app of [a, b]) await list(app, rotated.secret);
  });

  it('an expiring key stops at its expiry on both replicas, though cached', async () => {
    const { secret } = await newKey([ApiKeyScope.CONNECTIONS], 120);
    await list(a, secret);
    await list(b, secret);
    offset += 119_000;
    await list(b, secret);
    offset += 1_001;
    for (const app of [a, b]) await expectConnectError(list(app, secret), Code.Unauthenticated, 'API_KEY_EXPIRED');
  });

  it('a project admin cannot reach the operator through key management', async () => {
    const op = governanceClients(a.baseUrl, ADMIN_KEY);
    const project = (await op.projects.createProject({ project: { name: 'tenant' } })).project!;
    const tenantAdmin = governanceClients(
      b.baseUrl,
      (await op.apiKeys.createApiKey({ projectId: project.id, name: 'admin', scopes: [ApiKeyScope.ADMIN] })).secret,
    );
    const installAdmin = governanceClients(b.baseUrl, (await op.apiKeys.createApiKey({ name: 'admin', scopes: [ApiKeyScope.ADMIN] })).secret);
    const operatorKey = (await op.apiKeys.listApiKeys({})).apiKeys.find((k) => k.name === 'NEXUS_ADMIN_API_KEY')!;
    // Minting, rotating (a new operator secret) or revoking (locking the operator out) the operator's key.
    await expectConnectError(installAdmin.apiKeys.createApiKey({ name: 'x', scopes: [ApiKeyScope.OPERATOR] }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(installAdmin.apiKeys.rotateApiKey({ keyId: operatorKey.id }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(installAdmin.apiKeys.revokeApiKey({ keyId: operatorKey.id }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    // A tenant naming the installation project, or its key by id.
    await expectConnectError(tenantAdmin.apiKeys.listApiKeys({ projectId: 'prj_default' }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(tenantAdmin.apiKeys.rotateApiKey({ keyId: operatorKey.id }), Code.NotFound, 'API_KEY_NOT_FOUND');
    await expectConnectError(tenantAdmin.apiKeys.createApiKey({ name: 'x', scopes: [ApiKeyScope.OPERATOR] }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    // A stored `operator` scope outside the installation project grants nothing beyond that project.
    const stray = (await a.app.apiKeys.create(project.id, 'stray', ['admin'])).key;
    await a.app.database.dataSource.query(`UPDATE api_keys SET scopes = '{admin,operator}' WHERE project_id = $1 AND name = 'stray'`, [project.id]);
    await expectConnectError(governanceClients(b.baseUrl, stray).projects.listProjects({}), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(governanceClients(b.baseUrl, stray).apiKeys.listApiKeys({ projectId: 'prj_default' }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    // The operator's key itself still works.
    expect((await op.projects.listProjects({})).projects.length).toBeGreaterThanOrEqual(2);
  });

  // Last: it stops b's listening session for good.
  it('with its LISTEN session down, a replica still refuses a revoked key once its 1 s cache entry ages (scheduling slack allowed)', async () => {
    const { apiKey, secret } = await newKey();
    await list(b, secret);
    // b no longer hears NOTIFY (as when its session is lost and not yet back).
    await (b.app.events as unknown as { listener: EventListener }).listener.stop();
    await governanceClients(a.baseUrl, ADMIN_KEY).apiKeys.revokeApiKey({ keyId: apiKey!.id });
    const took = await refusedWithin(b, secret, 'UNAUTHENTICATED', 1_500);
    expect(took).toBeLessThan(1_500);
  });
});

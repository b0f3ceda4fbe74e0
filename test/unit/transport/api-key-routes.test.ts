import { toJsonString } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyScope, ApiKeyService, ListApiKeysResponseSchema } from '../../../gen/ts/nexus/v1/api_key_pb.js';
import { ApiKeyAdmin } from '../../../src/domain/access/api-key-admin.js';
import { ApiKeys, CACHE_TTL_MS } from '../../../src/domain/access/api-keys.js';
import { OPERATOR_PROJECT_ID } from '../../../src/domain/shared/principal.js';
import { ApiKeyHandler } from '../../../src/transport/handlers/api-key-handler.js';
import { bearer, routeClient } from '../../support/admin-router.js';
import { expectConnectError } from '../../support/errors.js';
import { fakePersistence, type FakePersistence } from '../../support/fake-persistence.js';

// ApiKeyService's routes over createRouterTransport with in-memory
// persistence ports and a clock the tests move: who may manage which keys,
// expiry, rotation overlap, paging, and that a secret is shown only once.

describe('ApiKeyService routes over fake ports', () => {
  let store: FakePersistence;
  let apiKeys: ApiKeys;
  let now: number;
  let operator: string;
  let acme: string;
  let acmeAdmin: string;
  let client: ReturnType<typeof routeClient<typeof ApiKeyService>>;
  const minutes = (n: number) => ({ seconds: BigInt(n * 60) });
  const advance = (ms: number) => {
    now += ms;
  };

  beforeEach(async () => {
    now = Date.parse('2026-01-01T00:00:00Z');
    store = fakePersistence(() => now);
    await store.projects.ensure(OPERATOR_PROJECT_ID, 'default');
    acme = (await store.projects.ensure('prj_acme', 'acme')).id;
    apiKeys = new ApiKeys(store, () => now);
    operator = (await apiKeys.create(OPERATOR_PROJECT_ID, 'operator', ['operator'])).key;
    acmeAdmin = (await apiKeys.create(acme, 'admin', ['admin'])).key;
    client = routeClient(ApiKeyService, new ApiKeyHandler(new ApiKeyAdmin(store, apiKeys)), apiKeys);
  });

  it('a project admin creates keys in its own project; the secret is returned once and stored only as a hash', async () => {
    const { apiKey, secret } = await client.createApiKey({ name: 'worker', scopes: [ApiKeyScope.TOKENS] }, bearer(acmeAdmin));
    expect(apiKey).toMatchObject({ projectId: acme, name: 'worker', scopes: [ApiKeyScope.TOKENS] });
    expect(secret.startsWith(apiKey!.prefix)).toBe(true);
    expect(JSON.stringify([...store.rows.apiKeys.values()])).not.toContain(secret);
    expect(await apiKeys.authenticate(secret)).toMatchObject({ projectId: acme, keyId: apiKey!.id });
    await expectConnectError(client.createApiKey({ name: 'x', scopes: [ApiKeyScope.UNSPECIFIED] }, bearer(acmeAdmin)), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(client.createApiKey({ name: ' ', scopes: [ApiKeyScope.TOKENS] }, bearer(acmeAdmin)), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(
      client.createApiKey({ name: 'short', scopes: [ApiKeyScope.TOKENS], ttl: { seconds: 59n } }, bearer(acmeAdmin)),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  it('lists in pages by id, revoked keys included, never a secret or hash', async () => {
    const secrets: string[] = [];
    for (const name of ['a', 'b', 'c']) secrets.push((await client.createApiKey({ name, scopes: [ApiKeyScope.CONNECTIONS] }, bearer(acmeAdmin))).secret);
    const revoked = (await client.listApiKeys({}, bearer(acmeAdmin))).apiKeys.find((k) => k.name === 'b')!;
    expect((await client.revokeApiKey({ keyId: revoked.id }, bearer(acmeAdmin))).apiKey?.revokeTime).toBeDefined();
    const first = await client.listApiKeys({ pageSize: 3 }, bearer(acmeAdmin));
    const second = await client.listApiKeys({ pageSize: 3, pageToken: first.nextPageToken }, bearer(acmeAdmin));
    expect(second.nextPageToken).toBe('');
    const all = [...first.apiKeys, ...second.apiKeys];
    // Ids order the pages (two keys made in the same millisecond may come in either order).
    expect(all.map((k) => k.id)).toEqual(all.map((k) => k.id).sort());
    expect(all.map((k) => k.name).sort()).toEqual(['a', 'admin', 'b', 'c']);
    expect(all.find((k) => k.name === 'b')?.revokeTime).toBeDefined();
    const hashes = [...store.rows.apiKeys.values()].map((k) => k.keyHash);
    for (const page of [first, second]) {
      const json = toJsonString(ListApiKeysResponseSchema, page);
      for (const s of [...secrets, acmeAdmin, ...hashes]) expect(json).not.toContain(s);
    }
    // A page token is bound to its project.
    await expectConnectError(
      client.listApiKeys({ projectId: OPERATOR_PROJECT_ID, pageSize: 3, pageToken: first.nextPageToken }, bearer(operator)),
      Code.InvalidArgument,
      'PAGE_TOKEN_INVALID',
    );
  });

  it("refuses another project's keys to a project admin, and narrower keys altogether", async () => {
    const other = (await store.projects.ensure('prj_other', 'other')).id;
    const otherKey = await apiKeys.create(other, 'svc', ['tokens']);
    const tokensOnly = (await apiKeys.create(acme, 'app', ['tokens'])).key;
    await expectConnectError(client.listApiKeys({}), Code.Unauthenticated, 'UNAUTHENTICATED');
    await expectConnectError(client.listApiKeys({}, bearer(tokensOnly)), Code.PermissionDenied, 'SCOPE_MISSING');
    await expectConnectError(client.createApiKey({ name: 'x', scopes: [ApiKeyScope.ADMIN] }, bearer(tokensOnly)), Code.PermissionDenied, 'SCOPE_MISSING');
    await expectConnectError(client.listApiKeys({ projectId: other }, bearer(acmeAdmin)), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(
      client.createApiKey({ projectId: other, name: 'x', scopes: [ApiKeyScope.ADMIN] }, bearer(acmeAdmin)),
      Code.PermissionDenied,
      'OPERATOR_REQUIRED',
    );
    // Named by id from the wrong project, the key does not exist.
    await expectConnectError(client.revokeApiKey({ keyId: otherKey.id }, bearer(acmeAdmin)), Code.NotFound, 'API_KEY_NOT_FOUND');
    await expectConnectError(client.rotateApiKey({ keyId: otherKey.id }, bearer(acmeAdmin)), Code.NotFound, 'API_KEY_NOT_FOUND');
    expect(store.rows.apiKeys.get(otherKey.id)?.revokedAt).toBeNull();
    expect(await apiKeys.authenticate(otherKey.key)).toMatchObject({ projectId: other });
  });

  it("only the operator grants, revokes or rotates operator keys, and manages any project's keys", async () => {
    const installationAdmin = (await apiKeys.create(OPERATOR_PROJECT_ID, 'admin', ['admin'])).key;
    await expectConnectError(
      client.createApiKey({ name: 'promote', scopes: [ApiKeyScope.OPERATOR] }, bearer(installationAdmin)),
      Code.PermissionDenied,
      'OPERATOR_REQUIRED',
    );
    const operatorId = [...store.rows.apiKeys.values()].find((k) => k.scopes.includes('operator'))!.id;
    await expectConnectError(client.revokeApiKey({ keyId: operatorId }, bearer(installationAdmin)), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(client.rotateApiKey({ keyId: operatorId }, bearer(installationAdmin)), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    expect(store.rows.apiKeys.get(operatorId)).toMatchObject({ revokedAt: null, expiresAt: null });
    // Operator keys live only in the installation project.
    await expectConnectError(
      client.createApiKey({ projectId: acme, name: 'op', scopes: [ApiKeyScope.OPERATOR] }, bearer(operator)),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    const { apiKey, secret } = await client.createApiKey({ projectId: acme, name: 'by-operator', scopes: [ApiKeyScope.ADMIN] }, bearer(operator));
    expect(apiKey?.projectId).toBe(acme);
    expect(await apiKeys.authenticate(secret)).toMatchObject({ projectId: acme });
    await expectConnectError(client.listApiKeys({ projectId: 'prj_nope' }, bearer(operator)), Code.NotFound, 'PROJECT_NOT_FOUND');
  });

  it('a key with a ttl stops working when it expires, refused as API_KEY_EXPIRED', async () => {
    const { secret } = await client.createApiKey({ name: 'short', scopes: [ApiKeyScope.ADMIN], ttl: minutes(5) }, bearer(acmeAdmin));
    expect((await client.listApiKeys({}, bearer(secret))).apiKeys).toHaveLength(2);
    advance(5 * 60_000 - 1);
    await client.listApiKeys({}, bearer(secret));
    advance(1);
    // Cached or not, expiry is judged on every call against the clock.
    await expectConnectError(client.listApiKeys({}, bearer(secret)), Code.Unauthenticated, 'API_KEY_EXPIRED');
    const id = [...store.rows.apiKeys.values()].find((k) => k.name === 'short')!.id;
    await expectConnectError(client.rotateApiKey({ keyId: id }, bearer(acmeAdmin)), Code.FailedPrecondition, 'API_KEY_NOT_ACTIVE');
  });

  it('rotation: both keys work during the overlap, then only the new one; a revoked key is neither rotated nor accepted', async () => {
    const old = await client.createApiKey({ name: 'svc', scopes: [ApiKeyScope.ADMIN] }, bearer(acmeAdmin));
    const rotated = await client.rotateApiKey({ keyId: old.apiKey!.id, overlap: minutes(10) }, bearer(acmeAdmin));
    expect(rotated.apiKey).toMatchObject({ name: 'svc', scopes: [ApiKeyScope.ADMIN] });
    expect(rotated.secret).not.toBe(old.secret);
    expect(rotated.previousApiKey?.expireTime?.seconds).toBe(BigInt((now + 10 * 60_000) / 1000));
    advance(10 * 60_000 - 1);
    for (const key of [old.secret, rotated.secret]) await client.listApiKeys({}, bearer(key));
    advance(1);
    await expectConnectError(client.listApiKeys({}, bearer(old.secret)), Code.Unauthenticated, 'API_KEY_EXPIRED');
    await client.listApiKeys({}, bearer(rotated.secret));
    await expectConnectError(client.rotateApiKey({ keyId: old.apiKey!.id }, bearer(acmeAdmin)), Code.FailedPrecondition, 'API_KEY_NOT_ACTIVE');
    await expectConnectError(
      client.rotateApiKey({ keyId: rotated.apiKey!.id, overlap: { seconds: BigInt(31 * 86_400) } }, bearer(acmeAdmin)),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );

    await client.revokeApiKey({ keyId: rotated.apiKey!.id }, bearer(acmeAdmin));
    await expectConnectError(client.listApiKeys({}, bearer(rotated.secret)), Code.Unauthenticated, 'UNAUTHENTICATED');
    await expectConnectError(client.rotateApiKey({ keyId: rotated.apiKey!.id }, bearer(acmeAdmin)), Code.FailedPrecondition, 'API_KEY_NOT_ACTIVE');
    advance(CACHE_TTL_MS);
    await expectConnectError(client.revokeApiKey({ keyId: 'key_nope' }, bearer(acmeAdmin)), Code.NotFound, 'API_KEY_NOT_FOUND');
  });
});

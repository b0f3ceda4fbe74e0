import { beforeEach, describe, expect, it } from 'vitest';
import { ApiKeys, BootstrapKeyRevokedError } from '../../../../src/domain/access/api-keys.js';
import { bootstrap } from '../../../../src/domain/access/projects.js';
import type { ConnectionEvents, CredentialRevocation } from '../../../../src/domain/connections/connection-events.js';
import { DEFAULT_PROJECT_ID } from '../../../../src/domain/shared/workspace-scope.js';
import { fakePersistence, type FakePersistence } from '../../../support/fake-persistence.js';

// API keys and the default project's bootstrap over in-memory ports, with a
// set clock: the 1 s lookup cache is aged by moving the clock, not by sleeping.

const NOW = Date.parse('2026-01-01T00:00:00Z');
const CONFIGURED = 'nxs_operator-chosen-admin-key-0001';

describe('ApiKeys over fake ports', () => {
  let now: number;
  let store: FakePersistence;
  let keys: ApiKeys;

  beforeEach(() => {
    now = NOW;
    store = fakePersistence(() => now);
    keys = new ApiKeys(store, { clock: () => now });
  });

  it('authenticates a key to its project and scopes; refuses unknown, empty and oversized keys', async () => {
    const { id, key } = await keys.create('prj_a', 'agent', ['tokens']);
    expect(await keys.authenticate(key)).toMatchObject({ projectId: 'prj_a', keyId: id, scopes: new Set(['tokens']) });
    expect(await keys.authenticate(undefined)).toBeUndefined();
    for (const bad of [`${key}x`, '', 'x'.repeat(513)]) await expect(keys.authenticate(bad)).rejects.toMatchObject({ reason: 'UNAUTHENTICATED' });
  });

  it('a revocation through ApiKeys is refused at once, even with the key cached', async () => {
    const { id, key } = await keys.create('prj_a', 'agent', ['tokens']);
    await keys.authenticate(key);
    expect(await keys.revoke('prj_a', id)).toBe('revoked');
    await expect(keys.authenticate(key)).rejects.toMatchObject({ reason: 'UNAUTHENTICATED' });
    expect(await keys.revoke('prj_a', id)).toBe('already-revoked');
    expect(await keys.revoke('prj_b', id)).toBe('not-found');
  });

  it('a revocation this replica did not hear stays cached for at most 1 s of the clock', async () => {
    const { id, key } = await keys.create('prj_a', 'agent', ['tokens']);
    await keys.authenticate(key);
    store.rows.apiKeys.get(id)!.revokedAt = new Date(now); // another replica, its notice lost
    now += 999;
    expect((await keys.authenticate(key))?.keyId).toBe(id);
    now += 2;
    await expect(keys.authenticate(key)).rejects.toMatchObject({ reason: 'UNAUTHENTICATED' });
  });

  it('a revocation heard from another replica drops the cached key', async () => {
    const hooks: ((r: CredentialRevocation) => void)[] = [];
    keys.hearRevocations({ onCredentialRevoked: (h: (r: CredentialRevocation) => void) => (hooks.push(h), () => {}) } as unknown as ConnectionEvents);
    const { id, key } = await keys.create('prj_a', 'agent', ['tokens']);
    await keys.authenticate(key);
    store.rows.apiKeys.get(id)!.revokedAt = new Date(now);
    for (const hook of hooks) hook({ projectId: 'prj_a', credentialId: id });
    await expect(keys.authenticate(key)).rejects.toMatchObject({ reason: 'UNAUTHENTICATED' });
  });
});

describe('bootstrap of the default project', () => {
  let store: FakePersistence;
  let keys: ApiKeys;

  beforeEach(() => {
    store = fakePersistence();
    keys = new ApiKeys(store);
  });

  it('generates an admin key once, and only when asked', async () => {
    expect((await bootstrap(store, keys, undefined, false)).generatedAdminKey).toBeUndefined();
    const first = await bootstrap(store, keys, undefined, true);
    expect((await keys.authenticate(first.generatedAdminKey))?.scopes.has('admin')).toBe(true);
    expect((await bootstrap(store, keys, undefined, true)).generatedAdminKey).toBeUndefined();
    expect(await store.projects.findById(DEFAULT_PROJECT_ID)).toMatchObject({ name: 'default' });
  });

  it('a changed NEXUS_ADMIN_API_KEY retires the previous one; a revoked one is refused', async () => {
    await bootstrap(store, keys, CONFIGURED, false);
    const next = `${CONFIGURED}-next`;
    const { retiredAdminKeys } = await bootstrap(store, keys, next, false);
    expect(retiredAdminKeys).toHaveLength(1);
    await expect(keys.authenticate(CONFIGURED)).rejects.toMatchObject({ reason: 'UNAUTHENTICATED' });
    expect((await keys.authenticate(next))?.scopes.has('admin')).toBe(true);
    await expect(bootstrap(store, keys, CONFIGURED, false)).rejects.toBeInstanceOf(BootstrapKeyRevokedError);
    await expect(bootstrap(store, keys, 'short', false)).rejects.toThrow(/at least 16 characters/);
  });
});

import { describe, expect, it } from 'vitest';
import { KeyRing, keyIdOf, newId, open, seal } from '../../../../src/crypto/index.js';
import { SigningKeys } from '../../../../src/domain/auth/signing-keys.js';
import { openCredentials, sealCredentials } from '../../../../src/domain/connections/sealed-credentials.js';
import { resealAll } from '../../../../src/domain/keys/key-rotation.js';
import { clientSecretAad } from '../../../../src/domain/keys/sealed-secrets.js';
import { fakePersistence } from '../../../support/fake-persistence.js';
import { activeConnectionRow, providerRow } from '../../../support/rows.js';

// Key rotation over in-memory ports: every sealed secret kind moves to the
// new primary key, each with its own AAD, and one bad row stops nothing.

const PROJECT = 'prj_rotation';

async function connectionWith(store: ReturnType<typeof fakePersistence>, ring: KeyRing, providerId: string, credentials: unknown) {
  const id = newId('conn');
  await store.connections.insert(activeConnectionRow({ id, projectId: PROJECT, providerId, credentialsSealed: sealCredentials(ring, id, credentials) }));
  return id;
}

describe('resealAll', () => {
  it('re-seals connections, provider secrets and signing keys under the new primary, once', async () => {
    const store = fakePersistence();
    const old = KeyRing.generate('k1');
    const providerId = newId('prv');
    await store.providers.insert(
      providerRow({ id: providerId, projectId: PROJECT, clientSecretSealed: seal(old, 'client-secret', clientSecretAad(providerId)) }),
    );
    const connectionId = await connectionWith(store, old, providerId, { accessToken: 'at' });
    await new SigningKeys(store, old, 'http://nexus.test').ensure();

    const ring = old.withNewPrimary('k2');
    expect(await resealAll(store, ring)).toEqual({ connections: 1, providerSecrets: 1, signingKeys: 1, webhookSecrets: 0, unreadable: [] });
    expect(await resealAll(store, ring)).toEqual({ connections: 0, providerSecrets: 0, signingKeys: 0, webhookSecrets: 0, unreadable: [] });

    // k1 can now leave the ring: everything opens without it.
    const onlyNew = ring.withoutKey('k1');
    expect(openCredentials(onlyNew, store.rows.connections.get(connectionId)!)).toEqual({ accessToken: 'at' });
    const provider = store.rows.providers.get(providerId)!;
    expect(open(onlyNew, provider.clientSecretSealed!, clientSecretAad(providerId)).toString('utf8')).toBe('client-secret');
    const keys = new SigningKeys(store, onlyNew, 'http://nexus.test');
    await keys.ensure();
    expect(await keys.verify(await keys.sign({ sub: 'someone' }, 60))).toMatchObject({ sub: 'someone' });
    expect([...store.rows.signingKeys.values()].map((k) => keyIdOf(k.privateKeySealed))).toEqual(['k2']);
  });

  it('lists a row that no key opens and rotates the others', async () => {
    const store = fakePersistence();
    const old = KeyRing.generate('k1');
    const providerId = newId('prv');
    await store.providers.insert(providerRow({ id: providerId, projectId: PROJECT }));
    const good = await connectionWith(store, old, providerId, { token: 'a' });
    const moved = await connectionWith(store, old, providerId, { token: 'b' });
    // A value sealed for another row (its AAD names that row) does not open here.
    store.rows.connections.get(moved)!.credentialsSealed = store.rows.connections.get(good)!.credentialsSealed;

    const report = await resealAll(store, old.withNewPrimary('k2'));
    expect(report).toMatchObject({ connections: 1, unreadable: [moved] });
    expect(keyIdOf(store.rows.connections.get(good)!.credentialsSealed!)).toBe('k2');
    expect(keyIdOf(store.rows.connections.get(moved)!.credentialsSealed!)).toBe('k1');
  });
});

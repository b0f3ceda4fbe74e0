import { DecryptionError, needsReseal, reseal, type KeyRing } from '../../crypto/index.js';
import { clientSecretAad, credentialsAad, registrationSecretAad, signingKeyAad, webhookSecretAad } from './sealed-secrets.js';
import type { Persistence } from '../ports/persistence.js';

export interface ResealReport {
  connections: number;
  /** Provider client secrets and dynamically registered (MCP) client secrets. */
  providerSecrets: number;
  /** JWT signing keys (their private halves are sealed). */
  signingKeys: number;
  /** Webhook endpoints' signing secrets (one endpoint holds one or two). */
  webhookSecrets: number;
  /** Rows whose sealed value does not open with any key in the ring: left as they are, listed for the operator. */
  unreadable: string[];
}

/**
 * Re-seals every stored secret not yet under the ring's primary key. Run it
 * after putting a new key first in the ring (every replica restarted with
 * it); once it reports zero, older keys can leave the ring. Each row is
 * re-read under lock so a concurrent refresh is never overwritten.
 */
export async function resealAll(store: Persistence, ring: KeyRing): Promise<ResealReport> {
  const report: ResealReport = { connections: 0, providerSecrets: 0, signingKeys: 0, webhookSecrets: 0, unreadable: [] };
  // One altered or orphaned row must not stop the rotation of all the others.
  const attempt = async (id: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err;
      report.unreadable.push(id);
    }
  };
  for (const row of await store.connections.listWithCredentials()) {
    if (!needsReseal(ring, row.credentialsSealed!)) continue;
    await attempt(row.id, () =>
      store.transaction(async (tx) => {
        const locked = await store.connections.findByIdForUpdate(row.projectId, row.id, tx);
        if (!locked?.credentialsSealed || !needsReseal(ring, locked.credentialsSealed)) return;
        await store.connections.update(row.projectId, row.id, { credentialsSealed: reseal(ring, locked.credentialsSealed, credentialsAad(row.id)) }, tx);
        report.connections++;
      }),
    );
  }
  for (const row of await store.providers.listWithSecrets()) {
    if (!needsReseal(ring, row.clientSecretSealed!)) continue;
    await attempt(row.id, async () => {
      await store.providers.save({ ...row, clientSecretSealed: reseal(ring, row.clientSecretSealed!, clientSecretAad(row.id)) });
      report.providerSecrets++;
    });
  }
  for (const row of await store.signingKeys.listAll()) {
    if (!needsReseal(ring, row.privateKeySealed)) continue;
    await attempt(row.id, async () => {
      await store.signingKeys.updateSealed(row.id, reseal(ring, row.privateKeySealed, signingKeyAad(row.id)));
      report.signingKeys++;
    });
  }
  for (const row of await store.clientRegistrations.listWithSecrets()) {
    if (!needsReseal(ring, row.clientSecretSealed!)) continue;
    await attempt(row.id, async () => {
      await store.clientRegistrations.updateSecret(row.id, reseal(ring, row.clientSecretSealed!, registrationSecretAad(row.id)));
      report.providerSecrets++;
    });
  }
  for (const row of await store.webhooks.listAll()) {
    if (!row.secrets.some((r) => needsReseal(ring, r.sealed))) continue;
    await attempt(row.id, () =>
      store.transaction(async (tx) => {
        // Under the row lock: a rotation at the same moment is not overwritten.
        const locked = await store.webhooks.findByIdForUpdate(row.projectId, row.id, tx);
        if (!locked) return;
        let moved = 0;
        const secrets = locked.secrets.map((r) => {
          if (!needsReseal(ring, r.sealed)) return r;
          moved++;
          return { ...r, sealed: reseal(ring, r.sealed, webhookSecretAad(row.id, r.id)) };
        });
        if (moved === 0) return;
        await store.webhooks.update(row.projectId, row.id, { secrets }, tx);
        report.webhookSecrets += moved;
      }),
    );
  }
  return report;
}

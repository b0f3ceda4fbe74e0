import { open, seal, type KeyRing } from '../../crypto/index.js';
import { webhookSecretAad } from '../keys/sealed-secrets.js';
import type { WebhookSecretRecord } from '../model/webhook.js';

/**
 * An endpoint's `whsec_` secret sealed under the key ring, bound to its
 * endpoint and secret id (webhookSecretAad): a sealed value copied to another
 * endpoint, or to another secret slot, does not open.
 */
export function sealWebhookSecret(ring: KeyRing, endpointId: string, secretId: string, secret: string): string {
  return seal(ring, secret, webhookSecretAad(endpointId, secretId));
}

/** The `whsec_` secret of a stored record (throws DecryptionError when it does not open). */
export function openWebhookSecret(ring: KeyRing, endpointId: string, record: Pick<WebhookSecretRecord, 'id' | 'sealed'>): string {
  return open(ring, record.sealed, webhookSecretAad(endpointId, record.id)).toString('utf8');
}

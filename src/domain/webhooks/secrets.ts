import { DecryptionError, open, seal, type KeyRing } from '../../crypto/index.js';
import { newId } from '../../crypto/index.js';
import { webhookSecretAad } from '../keys/sealed-secrets.js';
import type { WebhookEndpointRow, WebhookSecretRecord } from '../model/webhook.js';
import { generateWebhookSecret } from './signing.js';

/**
 * An endpoint's signing secrets at rest: each `whsec_` secret sealed with the
 * key ring, its AAD naming the endpoint and the secret, so a sealed value
 * copied to another endpoint (or slot) does not open.
 */

/** A new secret and its sealed record. */
export function newSecretRecord(ring: KeyRing, endpointId: string, now: Date): { secret: string; record: WebhookSecretRecord } {
  const secret = generateWebhookSecret();
  const id = newId('whs', now);
  return { secret, record: { id, sealed: seal(ring, secret, webhookSecretAad(endpointId, id)), created_at: now.toISOString(), expires_at: null } };
}

/** Whether a secret still signs at `nowMs`. */
export function isLive(record: WebhookSecretRecord, nowMs: number): boolean {
  return record.expires_at === null || Date.parse(record.expires_at) > nowMs;
}

/**
 * The endpoint's live secrets, opened, newest last: what signs a message at
 * `nowMs` (one, or two during a rotation's overlap). A secret that does not
 * open (its key left the ring) is skipped; none at all throws, so the
 * caller does not send an unsigned message.
 */
export function liveWebhookSecrets(ring: KeyRing, endpoint: Pick<WebhookEndpointRow, 'id' | 'secrets'>, nowMs: number): string[] {
  const out: string[] = [];
  for (const record of endpoint.secrets) {
    if (!isLive(record, nowMs)) continue;
    try {
      out.push(open(ring, record.sealed, webhookSecretAad(endpoint.id, record.id)).toString('utf8'));
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err;
    }
  }
  if (out.length === 0) throw new Error(`webhook endpoint ${endpoint.id} has no secret that opens`);
  return out;
}

/**
 * The secrets after a rotation at `now`: the newest live one keeps signing
 * until `now + overlapMs`, older ones end now (dropped), and `added` signs
 * from now on. So at most two are ever live.
 */
export function rotateSecrets(current: WebhookSecretRecord[], added: WebhookSecretRecord, now: Date, overlapMs: number): WebhookSecretRecord[] {
  const live = current.filter((r) => isLive(r, now.getTime()));
  const previous = live[live.length - 1];
  const kept = previous && overlapMs > 0 ? [{ ...previous, expires_at: new Date(now.getTime() + overlapMs).toISOString() }] : [];
  return [...kept, added];
}

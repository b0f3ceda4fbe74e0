import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/): every message
 * carries `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>`
 * over `${id}.${timestamp}.${body}`, one per live secret (two during a
 * rotation's overlap, so a receiver holding either verifies). A secret is
 * `whsec_` + base64 of random bytes; the HMAC key is those bytes.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** 32 random bytes: the HMAC key is as long as the hash (the spec allows 24-64). */
const SECRET_BYTES = 32;
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** The HMAC key of a `whsec_` secret; throws on anything else (a bug: secrets are generated here). */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new TypeError('webhook secret: missing whsec_ prefix');
  const key = Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) throw new TypeError('webhook secret: key of the wrong length');
  return key;
}

export interface WebhookToSign {
  /** The message id (`msg_...`), stable across retries. */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** The exact body bytes sent, as a string. */
  body: string;
  /** The endpoint's live secrets; each adds one signature. */
  secrets: string[];
}

/** The three Standard Webhooks headers for one attempt. */
export function signWebhook(input: WebhookToSign): Record<string, string> {
  if (!Number.isInteger(input.timestamp) || input.timestamp < 0) throw new TypeError('webhook timestamp: whole unix seconds expected');
  if (input.secrets.length === 0) throw new TypeError('webhook signing: no secret');
  const signed = `${input.id}.${input.timestamp}.${input.body}`;
  const signatures = input.secrets.map((secret) => `v1,${createHmac('sha256', webhookSecretKey(secret)).update(signed, 'utf8').digest('base64')}`);
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signatures.join(' '),
  };
}

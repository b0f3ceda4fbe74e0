// AEAD vault for secrets at rest (credentials, provider client secrets).
//
// AES-256-GCM with a random 96-bit nonce per seal and a 128-bit tag. Random
// nonces are safe here: the birthday bound for 96-bit nonces is ~2^32 seals
// per key, far beyond what one key sees between rotations.
//
// Sealed format: `v1.<keyId>.<base64url nonce>.<base64url ciphertext||tag>`.
// The key id travels with the ciphertext so a ring can hold old and new keys
// at once (rotation without downtime). The AAD binds a ciphertext to its row
// (e.g. `connection:<id>:credentials`), so a value copied into another row
// fails to open instead of silently handing over someone else's secret.
// The GCM associated data is `v1.<keyId>.<aad>` (unambiguous: ids have no
// '.'), so the header is authenticated too and every byte of the string is
// covered: relabelling a value with another key id fails.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './key-ring.js';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

export type DecryptionFailure = 'malformed' | 'unsupported_version' | 'unknown_key' | 'auth_failed';

/**
 * The one error for "this sealed value does not open". The message is fixed
 * and `cause` is a code, never an underlying error: OpenSSL/JSON errors can
 * carry fragments of the input, and callers log errors.
 */
// Not a NexusError: crypto sits below the domain; callers there translate it (e.g. CredentialUnreadableError).
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
  declare readonly cause: DecryptionFailure;

  constructor(cause: DecryptionFailure) {
    super('sealed value could not be opened', { cause });
  }
}

interface ParsedSealed {
  keyId: string;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Encrypts with the ring's primary key. */
export function seal(ring: KeyRing, plaintext: Uint8Array | string, aad: string): string {
  requireAad(aad);
  const { id, key } = ring.primary;
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(id, aad));
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${id}.${nonce.toString('base64url')}.${ciphertext.toString('base64url')}`;
}

/** Decrypts with whichever ring key the value names; throws DecryptionError. */
export function open(ring: KeyRing, sealed: string, aad: string): Buffer {
  requireAad(aad);
  const parsed = parse(sealed);
  const key = ring.get(parsed.keyId);
  if (key === undefined) throw new DecryptionError('unknown_key');
  try {
    const decipher = createDecipheriv(ALGORITHM, key, parsed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(parsed.keyId, aad));
    decipher.setAuthTag(parsed.tag);
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
  } catch {
    // Wrong AAD, wrong key material, or any bit flipped: GCM cannot tell which.
    throw new DecryptionError('auth_failed');
  }
}

/** The key id a value was sealed with (no decryption). */
export function keyIdOf(sealed: string): string {
  return parse(sealed).keyId;
}

/** True when the value is not sealed with the ring's current primary key. */
export function needsReseal(ring: KeyRing, sealed: string): boolean {
  return keyIdOf(sealed) !== ring.primary.id;
}

/**
 * Re-encrypts under the primary key (for the rotation command). Always opens
 * first, so a corrupt or mis-bound value is reported rather than carried
 * forward; returns the input unchanged when it already uses the primary.
 */
export function reseal(ring: KeyRing, sealed: string, aad: string): string {
  const plaintext = open(ring, sealed, aad);
  try {
    return needsReseal(ring, sealed) ? seal(ring, plaintext, aad) : sealed;
  } finally {
    plaintext.fill(0);
  }
}

export function sealJson(ring: KeyRing, value: unknown, aad: string): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('sealJson: value is not JSON-serializable');
  return seal(ring, json, aad);
}

/** Opens and parses JSON. The type parameter is trusted, not validated. */
export function openJson<T>(ring: KeyRing, sealed: string, aad: string): T {
  const plaintext = open(ring, sealed, aad);
  try {
    return JSON.parse(plaintext.toString('utf8')) as T;
  } catch {
    // A SyntaxError message quotes the input, i.e. the secret: replace it.
    throw new DecryptionError('malformed');
  } finally {
    plaintext.fill(0);
  }
}

function parse(sealed: string): ParsedSealed {
  if (typeof sealed !== 'string') throw new DecryptionError('malformed');
  const parts = sealed.split('.');
  if (parts.length !== 4) throw new DecryptionError('malformed');
  const [version, keyId, nonceText, bodyText] = parts as [string, string, string, string];
  if (version !== VERSION) {
    throw new DecryptionError(/^v\d+$/.test(version) ? 'unsupported_version' : 'malformed');
  }
  if (!KEY_ID_PATTERN.test(keyId)) throw new DecryptionError('malformed');
  const nonce = decodeBase64url(nonceText);
  const body = decodeBase64url(bodyText);
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw new DecryptionError('malformed');
  return {
    keyId,
    nonce,
    ciphertext: body.subarray(0, body.length - TAG_BYTES),
    tag: body.subarray(body.length - TAG_BYTES),
  };
}

// Strict: Node's decoder ignores stray characters and unused trailing bits,
// which would let two different strings open to the same value.
function decodeBase64url(text: string): Buffer {
  if (!BASE64URL_PATTERN.test(text)) throw new DecryptionError('malformed');
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw new DecryptionError('malformed');
  return bytes;
}

function associatedData(keyId: string, aad: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}.${aad}`, 'utf8');
}

function requireAad(aad: string): void {
  // An empty AAD would bind the ciphertext to nothing; that is a caller bug.
  if (typeof aad !== 'string' || aad === '') {
    throw new TypeError('aad must be a non-empty string that identifies the row');
  }
}

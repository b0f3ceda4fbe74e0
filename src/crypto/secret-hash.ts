// API keys, one-time codes and other random secrets: generate, hash, compare.
// Only hashes are stored (ARCHITECTURE.md "Security floor").

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'nxs_';
// "nxs_" + 8 chars: shown in listings so people can tell keys apart, and
// short enough (48 bits) to reveal nothing useful about the secret.
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
const PKCE_VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;

/** `nxs_` + 32 random bytes as base64url (43 chars). Store only hashSecret(key). */
export function generateApiKey(): { key: string; prefix: string } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, prefix: key.slice(0, DISPLAY_PREFIX_LENGTH) };
}

/**
 * Hex SHA-256. A plain fast hash is right for machine-generated secrets with
 * >= 128 bits of entropy: guessing is infeasible however fast the hash, so a
 * slow KDF (bcrypt/argon2) would only add latency to every request, and a
 * deterministic hash can be looked up by index. Do NOT use for passwords.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Constant-time check of a presented secret against a stored hash. Hashing
 * first means the compared lengths never depend on the presented secret; a
 * malformed stored hash (wrong length) is simply "no match".
 */
export function secretMatches(secret: string, storedHash: string): boolean {
  if (typeof secret !== 'string' || typeof storedHash !== 'string') return false;
  const presented = Buffer.from(hashSecret(secret), 'utf8');
  const stored = Buffer.from(storedHash.toLowerCase(), 'utf8');
  if (presented.length !== stored.length) return false;
  return timingSafeEqual(presented, stored);
}

/** `bytes` random bytes as base64url (default 32 bytes → 43 chars). */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 1024) {
    // Under 16 bytes (128 bits) a token is guessable enough to matter.
    throw new RangeError('randomToken: bytes must be an integer in 16..1024');
  }
  return randomBytes(bytes).toString('base64url');
}

/** RFC 7636 code_verifier: 32 random bytes → 43 base64url chars. */
export function pkceVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 7636 S256 code_challenge = BASE64URL(SHA256(ASCII(verifier))). */
export function pkceChallengeS256(verifier: string): string {
  if (!PKCE_VERIFIER_PATTERN.test(verifier)) {
    throw new TypeError('pkceChallengeS256: verifier must be 43-128 chars of [A-Za-z0-9._~-]');
  }
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

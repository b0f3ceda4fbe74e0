// API keys, one-time codes and other random secrets: generate, hash, compare.
// Only hashes are stored (docs/architecture.md, "The sealing inventory").

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'nxs_';
// "nxs_" + 4 chars (24 of the key's 256 random bits) is stored in clear and
// shown in listings next to the key id, so people can tell keys apart; it
// leaves 232 bits to guess. A key not in the generated format (an operator's
// NEXUS_ADMIN_API_KEY, possibly short) keeps no prefix: 4 characters of a
// 16-character key would be a quarter of it.
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 4;
const GENERATED_KEY_PATTERN = /^nxs_[A-Za-z0-9_-]{43}$/;
const PKCE_VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;

/** `nxs_` + 32 random bytes as base64url (43 chars). Store only hashSecret(key). */
export function generateApiKey(): { key: string; prefix: string } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, prefix: displayPrefixOf(key) };
}

/** What may be stored in clear to recognise a key: `nxs_` + 4 characters of a generated-format key, else nothing. */
export function displayPrefixOf(key: string): string {
  return GENERATED_KEY_PATTERN.test(key) ? key.slice(0, DISPLAY_PREFIX_LENGTH) : '';
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

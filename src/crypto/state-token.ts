// Signed, expiring `state` tokens for the OAuth callback and credential
// capture. Compact JWS, HS256, header `kid` naming the ring key.
//
// The HMAC key is not the ring key itself but HKDF-SHA256(ringKey, info
// "nexus state-token v1"): using one key for both AES-GCM and HMAC is a
// cross-protocol hazard, and the derivation keeps the two uses independent
// while still rotating with the ring. Any key in the ring verifies, so
// tokens issued just before a rotation still complete.
//
// Single use is NOT enforced here: the caller must record `jti` (see the
// sealing inventory in docs/architecture.md and docs/security.md).

import { hkdfSync } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { KeyRing } from './key-ring.js';

export const STATE_ISSUER = 'nexus';
export const STATE_AUDIENCE = 'nexus:state';
export const STATE_TOKEN_TYPE = 'nexus-state+jwt';
export const STATE_MAX_LENGTH = 4096;
const ALG = 'HS256';
const HKDF_INFO = 'nexus state-token v1';
const CLOCK_TOLERANCE_SECONDS = 5;
const MAX_TTL_SECONDS = 24 * 60 * 60;
const KINDS = ['oauth', 'capture'] as const;

export type StateKind = (typeof KINDS)[number];

export interface StateInput {
  jti: string;
  /** Connection id. */
  sub: string;
  /** Project id. */
  prj: string;
  kind: StateKind;
}

export interface StateClaims extends StateInput {
  iat: number;
  exp: number;
}

export type StateInvalidReason = 'too_long' | 'malformed' | 'wrong_alg' | 'unknown_kid' | 'bad_signature' | 'claims_mismatch' | 'missing_claims';

/** Not a token we issued for this purpose, or altered. Message never includes the token. */
// Not a NexusError: crypto sits below the domain; domain/connections/state-tokens.ts translates both.
export class StateInvalidError extends Error {
  override readonly name = 'StateInvalidError';
  declare readonly cause: StateInvalidReason;

  constructor(reason: StateInvalidReason) {
    super(`state token is invalid (${reason})`, { cause: reason });
  }
}

/** A genuine token whose time is up (thrown only after the signature verified). */
export class StateExpiredError extends Error {
  override readonly name = 'StateExpiredError';

  constructor() {
    super('state token has expired');
  }
}

// A ring's key ids never change material (KeyRing.adopt only adds keys), so derived keys can
// be cached per ring instance and key id.
const derivedKeys = new WeakMap<KeyRing, Map<string, Uint8Array>>();

function stateKey(ring: KeyRing, kid: string): Uint8Array | undefined {
  let perRing = derivedKeys.get(ring);
  if (perRing === undefined) {
    perRing = new Map();
    derivedKeys.set(ring, perRing);
  }
  let key = perRing.get(kid);
  if (key === undefined) {
    const ringKey = ring.get(kid);
    if (ringKey === undefined) return undefined;
    key = new Uint8Array(hkdfSync('sha256', ringKey, Buffer.alloc(0), HKDF_INFO, 32));
    perRing.set(kid, key);
  }
  return key;
}

export async function signState(ring: KeyRing, claims: StateInput, ttlSeconds = 600, now: Date = new Date()): Promise<string> {
  for (const name of ['jti', 'sub', 'prj'] as const) {
    if (typeof claims[name] !== 'string' || claims[name] === '') {
      throw new TypeError(`signState: claim "${name}" must be a non-empty string`);
    }
  }
  if (!KINDS.includes(claims.kind)) throw new TypeError('signState: kind must be "oauth" or "capture"');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TTL_SECONDS) {
    throw new TypeError(`signState: ttlSeconds must be an integer in 1..${MAX_TTL_SECONDS}`);
  }
  const { id } = ring.primary;
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ prj: claims.prj, kind: claims.kind })
    .setProtectedHeader({ alg: ALG, kid: id, typ: STATE_TOKEN_TYPE })
    .setIssuer(STATE_ISSUER)
    .setAudience(STATE_AUDIENCE)
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(stateKey(ring, id) as Uint8Array);
}

export async function verifyState(ring: KeyRing, token: string, now: Date = new Date()): Promise<StateClaims> {
  if (typeof token !== 'string') throw new StateInvalidError('malformed');
  // Bound the work done on attacker-supplied input before parsing anything.
  if (token.length > STATE_MAX_LENGTH) throw new StateInvalidError('too_long');

  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new StateInvalidError('malformed');
  }
  // Checked before choosing a key: refuses "none" and every other algorithm.
  if (header.alg !== ALG) throw new StateInvalidError('wrong_alg');
  if (typeof header.kid !== 'string') throw new StateInvalidError('unknown_kid');
  const key = stateKey(ring, header.kid);
  if (key === undefined) throw new StateInvalidError('unknown_kid');

  let payload: Record<string, unknown>;
  try {
    // jose verifies the signature before it looks at any claim, so an
    // expired-looking forgery is reported as invalid, never as expired.
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [ALG],
      typ: STATE_TOKEN_TYPE,
      issuer: STATE_ISSUER,
      audience: STATE_AUDIENCE,
      requiredClaims: ['jti', 'sub', 'iat', 'exp'],
      currentDate: now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    throw mapJoseError(error);
  }

  const { jti, sub, prj, kind, iat, exp } = payload;
  if (
    !nonEmpty(jti) ||
    !nonEmpty(sub) ||
    !nonEmpty(prj) ||
    typeof kind !== 'string' ||
    !(KINDS as readonly string[]).includes(kind) ||
    typeof iat !== 'number' ||
    typeof exp !== 'number'
  ) {
    throw new StateInvalidError('missing_claims');
  }
  // Issued in the future (beyond skew) or a nonsensical lifetime: we never sign those.
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (iat > nowSeconds + CLOCK_TOLERANCE_SECONDS || exp <= iat || exp - iat > MAX_TTL_SECONDS) {
    throw new StateInvalidError('claims_mismatch');
  }
  return { jti, sub, prj, kind: kind as StateKind, iat, exp };
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function mapJoseError(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new StateExpiredError();
  if (error instanceof errors.JWSSignatureVerificationFailed) return new StateInvalidError('bad_signature');
  if (error instanceof errors.JOSEAlgNotAllowed) return new StateInvalidError('wrong_alg');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new StateInvalidError(error.reason === 'missing' ? 'missing_claims' : 'claims_mismatch');
  }
  return new StateInvalidError('malformed');
}

import { hkdfSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { KeyRing, StateExpiredError, StateInvalidError, signState, verifyState } from '../../../src/crypto/index.js';
import type { StateInput } from '../../../src/crypto/index.js';

const T0 = new Date('2025-06-01T12:00:00Z');
const T0_S = T0.getTime() / 1000;
const CLAIMS: StateInput = { jti: 'st_01', sub: 'conn_01', prj: 'prj_01', kind: 'oauth' };

/** Independent re-implementation of the documented derivation. */
function derivedKey(ring: KeyRing, kid: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ring.get(kid)!, Buffer.alloc(0), 'nexus state-token v1', 32));
}

function forge(
  key: Uint8Array,
  overrides: { kid?: string; alg?: string; typ?: string; iss?: string; aud?: string; payload?: Record<string, unknown>; iat?: number; exp?: number } = {},
): Promise<string> {
  const { payload = { prj: 'prj_01', kind: 'oauth' } } = overrides;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: overrides.alg ?? 'HS256', kid: overrides.kid ?? 'k1', typ: overrides.typ ?? 'nexus-state+jwt' })
    .setIssuer(overrides.iss ?? 'nexus')
    .setAudience(overrides.aud ?? 'nexus:state')
    .setSubject('conn_01')
    .setJti('st_01')
    .setIssuedAt(overrides.iat ?? T0_S)
    .setExpirationTime(overrides.exp ?? T0_S + 600)
    .sign(key);
}

async function invalid(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StateInvalidError);
  expect(error).not.toBeInstanceOf(StateExpiredError);
  return (error as StateInvalidError).cause;
}

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('state tokens', () => {
  const ring = KeyRing.generate('k1');

  it('round-trips claims with iat/exp, iss/aud and kid', async () => {
    const token = await signState(ring, CLAIMS, 600, T0);
    const claims = await verifyState(ring, token, new Date(T0.getTime() + 60_000));
    expect(claims).toEqual({ ...CLAIMS, iat: T0_S, exp: T0_S + 600 });
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'HS256', kid: 'k1', typ: 'nexus-state+jwt' });
    expect(payload).toMatchObject({ iss: 'nexus', aud: 'nexus:state', sub: 'conn_01', prj: 'prj_01', jti: 'st_01' });
    // The derivation is the documented one (and verifyState accepts tokens made with it).
    await expect(verifyState(ring, await forge(derivedKey(ring, 'k1')), T0)).resolves.toMatchObject({ jti: 'st_01' });
  });

  it('expires after ttl, with at most 5 seconds of clock tolerance', async () => {
    const token = await signState(ring, { ...CLAIMS, kind: 'capture' }, 600, T0);
    await expect(verifyState(ring, token, new Date((T0_S + 604) * 1000))).resolves.toMatchObject({ kind: 'capture' });
    await expect(verifyState(ring, token, new Date((T0_S + 605) * 1000))).rejects.toBeInstanceOf(StateExpiredError);
    await expect(verifyState(ring, token, new Date((T0_S + 3600) * 1000))).rejects.toBeInstanceOf(StateExpiredError);
  });

  it('rejects a tampered payload or signature', async () => {
    const token = await signState(ring, CLAIMS, 600, T0);
    const [h, , s] = token.split('.');
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    const tampered = `${h}.${b64json({ ...payload, prj: 'prj_other' })}.${s}`;
    expect(await invalid(verifyState(ring, tampered, T0))).toBe('bad_signature');
    const flipped = s!.startsWith('A') ? `B${s!.slice(1)}` : `A${s!.slice(1)}`;
    expect(await invalid(verifyState(ring, `${h}.${token.split('.')[1]}.${flipped}`, T0))).toBe('bad_signature');
  });

  it('rejects tokens signed by a key not in the ring', async () => {
    const foreign = KeyRing.generate('k9');
    expect(await invalid(verifyState(ring, await signState(foreign, CLAIMS, 600, T0), T0))).toBe('unknown_kid');
    const impostor = KeyRing.generate('k1'); // same id, different key
    expect(await invalid(verifyState(ring, await signState(impostor, CLAIMS, 600, T0), T0))).toBe('bad_signature');
    // The raw ring key is not the HMAC key (HKDF separation from the encryption use).
    expect(await invalid(verifyState(ring, await forge(ring.get('k1')!), T0))).toBe('bad_signature');
  });

  it('reports an expired forgery as invalid, not expired', async () => {
    const impostor = KeyRing.generate('k1');
    const token = await signState(impostor, CLAIMS, 60, T0);
    expect(await invalid(verifyState(ring, token, new Date((T0_S + 3600) * 1000)))).toBe('bad_signature');
  });

  it('rejects alg "none" and other algorithms', async () => {
    const none = `${b64json({ alg: 'none', kid: 'k1', typ: 'nexus-state+jwt' })}.${b64json({
      iss: 'nexus',
      aud: 'nexus:state',
      sub: 'conn_01',
      jti: 'st_01',
      prj: 'prj_01',
      kind: 'oauth',
      iat: T0_S,
      exp: T0_S + 600,
    })}.`;
    expect(await invalid(verifyState(ring, none, T0))).toBe('wrong_alg');
    const hs512 = await forge(new Uint8Array(64).fill(1), { alg: 'HS512' });
    expect(await invalid(verifyState(ring, hs512, T0))).toBe('wrong_alg');
  });

  it('rejects a token for another purpose signed with the same derived key', async () => {
    const key = derivedKey(ring, 'k1');
    expect(await invalid(verifyState(ring, await forge(key, { aud: 'nexus:other' }), T0))).toBe('claims_mismatch');
    expect(await invalid(verifyState(ring, await forge(key, { iss: 'someone-else' }), T0))).toBe('claims_mismatch');
    expect(await invalid(verifyState(ring, await forge(key, { typ: 'JWT' }), T0))).toBe('claims_mismatch');
  });

  it('rejects missing or ill-typed claims and future-dated tokens', async () => {
    const key = derivedKey(ring, 'k1');
    expect(await invalid(verifyState(ring, await forge(key, { payload: { kind: 'oauth' } }), T0))).toBe('missing_claims');
    expect(await invalid(verifyState(ring, await forge(key, { payload: { prj: 'p', kind: 'admin' } }), T0))).toBe('missing_claims');
    const future = await forge(key, { iat: T0_S + 60, exp: T0_S + 600 });
    expect(await invalid(verifyState(ring, future, T0))).toBe('claims_mismatch');
  });

  it('rejects malformed and oversized tokens without echoing them', async () => {
    for (const bad of ['', 'abc', 'a.b.c', '..', '{"alg":"HS256"}']) {
      expect(await invalid(verifyState(ring, bad, T0))).toBe('malformed');
    }
    const token = await signState(ring, CLAIMS, 600, T0);
    const long = `${token}${'A'.repeat(4097 - token.length)}`;
    expect(await invalid(verifyState(ring, long, T0))).toBe('too_long');
    const error = await verifyState(ring, `${token}x`, T0).catch((e: Error) => e);
    expect(String(error)).not.toContain(token.split('.')[2]!);
  });

  it('keeps verifying old tokens after rotation; new tokens use the new kid', async () => {
    const old = await signState(ring, CLAIMS, 600, T0);
    const rotated = ring.withNewPrimary('k2');
    await expect(verifyState(rotated, old, T0)).resolves.toMatchObject({ sub: 'conn_01' });
    const fresh = await signState(rotated, CLAIMS, 600, T0);
    expect(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid).toBe('k2');
    await expect(verifyState(rotated, fresh, T0)).resolves.toMatchObject({ prj: 'prj_01' });
    expect(await invalid(verifyState(ring, fresh, T0))).toBe('unknown_kid');
    expect(await invalid(verifyState(rotated.withoutKey('k1'), old, T0))).toBe('unknown_kid');
  });

  it('validates what it signs', async () => {
    await expect(signState(ring, { ...CLAIMS, jti: '' }, 600, T0)).rejects.toBeInstanceOf(TypeError);
    await expect(signState(ring, { ...CLAIMS, kind: 'other' as 'oauth' }, 600, T0)).rejects.toBeInstanceOf(TypeError);
    await expect(signState(ring, CLAIMS, 0, T0)).rejects.toBeInstanceOf(TypeError);
    await expect(signState(ring, CLAIMS, 10 ** 9, T0)).rejects.toBeInstanceOf(TypeError);
  });
});

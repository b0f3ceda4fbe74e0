import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptionError, KeyRing, keyIdOf, needsReseal, open, openJson, reseal, seal, sealJson } from '../../../src/crypto/index.js';

const AAD = 'connection:conn_A:credentials';

function failure(fn: () => unknown): DecryptionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as Error).message).toBe('sealed value could not be opened');
    return error as DecryptionError;
  }
  throw new Error('expected a DecryptionError');
}

/** Flips one bit in the decoded bytes of part `index` and re-encodes it canonically. */
function tamper(sealed: string, index: 2 | 3, byte: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  const at = byte < 0 ? bytes.length + byte : byte;
  bytes[at] = bytes[at]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('seal / open', () => {
  const ring = KeyRing.generate('k1');

  it('round-trips strings and bytes', () => {
    expect(open(ring, seal(ring, 'hunter2 ✓', AAD), AAD).toString('utf8')).toBe('hunter2 ✓');
    const bytes = randomBytes(100);
    expect(open(ring, seal(ring, bytes, AAD), AAD).equals(bytes)).toBe(true);
    expect(open(ring, seal(ring, '', AAD), AAD)).toHaveLength(0);
  });

  it('produces v1.<keyId>.<nonce>.<ct||tag> with a 96-bit nonce and fresh nonce per seal', () => {
    const a = seal(ring, 'same', AAD);
    const b = seal(ring, 'same', AAD);
    const [version, keyId, nonce, body] = a.split('.');
    expect(version).toBe('v1');
    expect(keyId).toBe('k1');
    expect(Buffer.from(nonce!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(body!, 'base64url')).toHaveLength(4 + 16);
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
    expect(keyIdOf(a)).toBe('k1');
  });

  it('does not contain the plaintext, nor its base64/base64url/hex', () => {
    const secret = 'sk_live_THIS_IS_A_VERY_SECRET_TOKEN_0123456789';
    const sealed = seal(ring, secret, AAD);
    const buf = Buffer.from(secret);
    for (const form of [secret, buf.toString('base64'), buf.toString('base64url'), buf.toString('hex')]) {
      expect(sealed).not.toContain(form.slice(0, 12));
    }
  });

  it("fails with another row's AAD", () => {
    const sealed = seal(ring, 'secret', AAD);
    expect(failure(() => open(ring, sealed, 'connection:conn_B:credentials')).cause).toBe('auth_failed');
  });

  it('fails when the nonce, ciphertext or tag is tampered with', () => {
    const sealed = seal(ring, 'a secret worth protecting', AAD);
    expect(failure(() => open(ring, tamper(sealed, 2, 0), AAD)).cause).toBe('auth_failed'); // nonce
    expect(failure(() => open(ring, tamper(sealed, 3, 0), AAD)).cause).toBe('auth_failed'); // ciphertext
    expect(failure(() => open(ring, tamper(sealed, 3, -1), AAD)).cause).toBe('auth_failed'); // tag
    // Truncated tag: body shorter by one byte.
    const parts = sealed.split('.');
    parts[3] = Buffer.from(parts[3]!, 'base64url').subarray(0, -1).toString('base64url');
    expect(failure(() => open(ring, parts.join('.'), AAD)).cause).toBe('auth_failed');
    // Untampered still opens (so the failures above are due to tampering).
    expect(open(ring, sealed, AAD).toString()).toBe('a secret worth protecting');
  });

  it('fails for an unknown key id, different key material, or a relabelled key id', () => {
    const sealed = seal(ring, 'secret', AAD);
    const other = KeyRing.generate('k9');
    expect(failure(() => open(other, sealed, AAD)).cause).toBe('unknown_key');
    const impostor = KeyRing.generate('k1');
    expect(failure(() => open(impostor, sealed, AAD)).cause).toBe('auth_failed');
    const relabelled = sealed.replace(/^v1\.k1\./, 'v1.k9.');
    expect(failure(() => open(KeyRing.parse(`k9:${ring.primary.key.toString('base64')}`), relabelled, AAD)).cause).toBe('auth_failed');
  });

  it('rejects malformed strings with a DecryptionError', () => {
    const sealed = seal(ring, 'secret', AAD);
    const [, , nonce, body] = sealed.split('.');
    const bad = [
      '',
      'garbage',
      `v1.k1.${nonce}`,
      `${sealed}.extra`,
      `v1.k1.${nonce}.${body}=`,
      `v1.k1.${nonce}.${body}!`,
      `v1.k 1.${nonce}.${body}`,
      `v1.k1.${nonce!.slice(0, -2)}.${body}`,
      `v1.k1.${nonce}.${Buffer.alloc(15).toString('base64url')}`,
      `x1.k1.${nonce}.${body}`,
    ];
    for (const value of bad) expect(failure(() => open(ring, value, AAD)).cause).toBe('malformed');
    expect(failure(() => open(ring, `v2.k1.${nonce}.${body}`, AAD)).cause).toBe('unsupported_version');
    expect(failure(() => keyIdOf('nope')).cause).toBe('malformed');
  });

  it('rejects a non-canonical base64url encoding of the same bytes', () => {
    const sealed = seal(ring, 'abc', AAD); // 19-byte body → trailing char carries unused bits
    const parts = sealed.split('.');
    const body = parts[3]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(body.at(-1)!);
    parts[3] = body.slice(0, -1) + alphabet[last ^ 1];
    expect(Buffer.from(parts[3], 'base64url').equals(Buffer.from(body, 'base64url'))).toBe(true);
    expect(failure(() => open(ring, parts.join('.'), AAD)).cause).toBe('malformed');
  });

  it('refuses an empty AAD (it would bind the value to nothing)', () => {
    expect(() => seal(ring, 'x', '')).toThrow(TypeError);
    expect(() => open(ring, seal(ring, 'x', AAD), '')).toThrow(TypeError);
  });
});

describe('rotation', () => {
  it('seal with k1, rotate to k2, reseal, retire k1', () => {
    const ring1 = KeyRing.generate('k1');
    const old = seal(ring1, 'refresh-token-value', AAD);

    const ring2 = ring1.withNewPrimary('k2');
    expect(ring2.primary.id).toBe('k2');
    expect(open(ring2, old, AAD).toString()).toBe('refresh-token-value');
    expect(needsReseal(ring2, old)).toBe(true);
    expect(needsReseal(ring1, old)).toBe(false);

    const fresh = reseal(ring2, old, AAD);
    expect(keyIdOf(fresh)).toBe('k2');
    expect(needsReseal(ring2, fresh)).toBe(false);
    expect(open(ring2, fresh, AAD).toString()).toBe('refresh-token-value');
    expect(reseal(ring2, fresh, AAD)).toBe(fresh);

    const ring3 = ring2.withoutKey('k1');
    expect(open(ring3, fresh, AAD).toString()).toBe('refresh-token-value');
    expect(failure(() => open(ring3, old, AAD)).cause).toBe('unknown_key');
  });

  it('reseal refuses a value bound to another row instead of carrying it forward', () => {
    const ring = KeyRing.generate('k1');
    const sealed = seal(ring, 'x', AAD);
    expect(failure(() => reseal(ring.withNewPrimary(), sealed, 'connection:other:credentials')).cause).toBe('auth_failed');
  });
});

describe('sealJson / openJson', () => {
  const ring = KeyRing.generate();

  it('round-trips JSON values and keeps the AAD binding', () => {
    const value = { access_token: 'at', refresh_token: 'rt', scopes: ['a', 'b'], n: 3 };
    const sealed = sealJson(ring, value, AAD);
    expect(openJson<typeof value>(ring, sealed, AAD)).toEqual(value);
    expect(failure(() => openJson(ring, sealed, 'provider:prv_X:client_secret')).cause).toBe('auth_failed');
  });

  it('reports a non-JSON plaintext without quoting it', () => {
    const sealed = seal(ring, 'not-json-SECRET', AAD);
    const error = failure(() => openJson(ring, sealed, AAD));
    expect(error.cause).toBe('malformed');
    expect(String(error.stack)).not.toContain('SECRET');
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => sealJson(ring, undefined, AAD)).toThrow(TypeError);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateApiKey, hashSecret, pkceChallengeS256, pkceVerifier, randomToken, secretMatches, displayPrefixOf } from '../../../src/crypto/index.js';

describe('API keys and secret hashes', () => {
  it('generates nxs_ + 43 base64url chars, unique, with a display prefix', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^nxs_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.key.slice(4), 'base64url')).toHaveLength(32);
    expect(a.key).not.toBe(b.key);
    // 4 characters (24 bits) of the secret in clear, no more.
    expect(a.prefix).toMatch(/^nxs_[A-Za-z0-9_-]{4}$/);
    expect(a.key.startsWith(a.prefix)).toBe(true);
  });

  it("stores no prefix of a key that is not in the generated format (an operator's, possibly short)", () => {
    expect(displayPrefixOf('nxs_0123456789abcdef')).toBe('');
    expect(displayPrefixOf('my-own-admin-key-0123456789')).toBe('');
    expect(displayPrefixOf(`nxs_${'A'.repeat(43)}`)).toBe('nxs_AAAA');
  });

  it('hashes to hex SHA-256', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashSecret('abc')).toBe(createHash('sha256').update('abc').digest('hex'));
  });

  it('secretMatches: true for the right secret, false otherwise, false on malformed hashes', () => {
    const { key } = generateApiKey();
    const stored = hashSecret(key);
    expect(secretMatches(key, stored)).toBe(true);
    expect(secretMatches(key, stored.toUpperCase())).toBe(true);
    expect(secretMatches(`${key}x`, stored)).toBe(false);
    expect(secretMatches(generateApiKey().key, stored)).toBe(false);
    expect(secretMatches(key, key)).toBe(false); // plaintext stored by mistake is not a match
    expect(secretMatches(key, stored.slice(0, -1))).toBe(false); // length mismatch: no throw
    expect(secretMatches(key, '')).toBe(false);
    expect(secretMatches(key, `${stored}00`)).toBe(false);
  });

  it('randomToken returns base64url of the requested size', () => {
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(randomToken(48), 'base64url')).toHaveLength(48);
    expect(randomToken()).not.toBe(randomToken());
    expect(() => randomToken(8)).toThrow(RangeError);
    expect(() => randomToken(1.5)).toThrow(RangeError);
  });
});

describe('PKCE', () => {
  it('matches the RFC 7636 appendix B example', () => {
    expect(pkceChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('makes 43-char verifiers and refuses invalid ones', () => {
    const verifier = pkceVerifier();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pkceVerifier()).not.toBe(verifier);
    expect(pkceChallengeS256(verifier)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => pkceChallengeS256('short')).toThrow(TypeError);
    expect(() => pkceChallengeS256(`${'a'.repeat(42)}+`)).toThrow(TypeError);
  });
});

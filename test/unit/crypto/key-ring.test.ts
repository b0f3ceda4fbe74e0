import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeyRing, KeyRingError } from '../../../src/crypto/index.js';

const b64 = (bytes: Buffer) => bytes.toString('base64');

describe('KeyRing.parse', () => {
  it('parses a spec; the first key is the primary', () => {
    const k2 = randomBytes(32);
    const k1 = randomBytes(32);
    const ring = KeyRing.parse(` k2:${b64(k2)} ,\nk1:${b64(k1)}`);
    expect(ring.ids).toEqual(['k2', 'k1']);
    expect(ring.primary.id).toBe('k2');
    expect(ring.primary.key.equals(k2)).toBe(true);
    expect(ring.get('k1')?.equals(k1)).toBe(true);
    expect(ring.get('k3')).toBeUndefined();
  });

  it('accepts unpadded base64url keys', () => {
    const key = randomBytes(32);
    const ring = KeyRing.parse(`a_b-C9:${key.toString('base64url')}`);
    expect(ring.get('a_b-C9')?.equals(key)).toBe(true);
  });

  it('round-trips through toSpec', () => {
    const ring = KeyRing.generate('k1').withNewPrimary();
    const again = KeyRing.parse(ring.toSpec());
    expect(again.ids).toEqual(['k2', 'k1']);
    for (const id of ring.ids) expect(again.get(id)?.equals(ring.get(id)!)).toBe(true);
  });

  const key = b64(randomBytes(32));
  const short = b64(randomBytes(16));
  const cases: Array<[string, string, RegExp]> = [
    ['empty spec', '   ', /empty/],
    ['entry without id', key, /position 1/],
    ['invalid id', `bad id!:${key}`, /position 1 has an invalid id/],
    ['id too long', `${'x'.repeat(33)}:${key}`, /invalid id/],
    ['duplicate id', `k1:${key},k1:${b64(randomBytes(32))}`, /"k1" appears more than once/],
    ['wrong length', `k1:${key},k2:${short}`, /"k2" \(position 2\) must be exactly 32 bytes, got 16/],
    ['not base64', `k1:${key.slice(0, 20)}*${key.slice(21)}`, /"k1" \(position 1\) is not valid base64/],
    ['empty entry', `k1:${key},`, /position 2/],
  ];
  for (const [name, spec, message] of cases) {
    it(`rejects ${name} with a KeyRingError that names the key but not its material`, () => {
      let caught: unknown;
      try {
        KeyRing.parse(spec);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(KeyRingError);
      const text = `${(caught as Error).message} ${inspect(caught)}`;
      expect((caught as Error).message).toMatch(message);
      expect(text).not.toContain(key);
      expect(text).not.toContain(short);
      expect(text).not.toContain(key.slice(0, 16));
    });
  }
});

describe('KeyRing secrecy', () => {
  it('util.inspect, JSON and String show only ids', () => {
    const ring = KeyRing.generate('k1').withNewPrimary('k2');
    const keys = ring.ids.flatMap((id) => {
      const raw = ring.get(id)!;
      return [raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')];
    });
    const outputs = [inspect(ring, { depth: 10, showHidden: true }), JSON.stringify({ ring }), String(ring)];
    for (const output of outputs) {
      expect(output).toContain('k2');
      expect(output).toContain('k1');
      for (const k of keys) expect(output).not.toContain(k);
    }
    expect(JSON.parse(JSON.stringify(ring))).toEqual({ primary: 'k2', ids: ['k2', 'k1'] });
  });
});

describe('KeyRing rotation helpers', () => {
  it('generate makes a one-key ring with a random 32-byte key', () => {
    const a = KeyRing.generate();
    const b = KeyRing.generate();
    expect(a.ids).toEqual(['k1']);
    expect(a.primary.key).toHaveLength(32);
    expect(a.primary.key.equals(b.primary.key)).toBe(false);
  });

  it('withNewPrimary prepends a fresh key and keeps the old ones, without mutating', () => {
    const ring = KeyRing.generate('k1');
    const rotated = ring.withNewPrimary();
    expect(rotated.ids).toEqual(['k2', 'k1']);
    expect(rotated.get('k1')?.equals(ring.primary.key)).toBe(true);
    expect(rotated.primary.key.equals(ring.primary.key)).toBe(false);
    expect(ring.ids).toEqual(['k1']);
    expect(rotated.withNewPrimary('2025-q3').primary.id).toBe('2025-q3');
    expect(() => rotated.withNewPrimary('k1')).toThrow(KeyRingError);
  });

  it('withoutKey drops a retired key but never the primary', () => {
    const rotated = KeyRing.generate('k1').withNewPrimary();
    expect(rotated.withoutKey('k1').ids).toEqual(['k2']);
    expect(() => rotated.withoutKey('k2')).toThrow(KeyRingError);
    expect(() => rotated.withoutKey('nope')).toThrow(KeyRingError);
  });

  it('adopt takes a rotated ring in place, but only one that keeps every key unchanged', () => {
    const ring = KeyRing.generate('k1');
    const k1 = Buffer.from(ring.primary.key);
    const rotated = ring.withNewPrimary();
    ring.adopt(rotated);
    expect(ring.ids).toEqual(['k2', 'k1']);
    expect(ring.primary.key.equals(rotated.primary.key)).toBe(true);
    expect(ring.get('k1')?.equals(k1)).toBe(true);
    // A ring that drops a key, or holds another key under the same id, would strand sealed values.
    expect(() => ring.adopt(ring.withoutKey('k1'))).toThrow(/drops or changes key "k1"/);
    expect(() =>
      ring.adopt(
        KeyRing.fromKeys([
          { id: 'k3', key: randomBytes(32) },
          { id: 'k2', key: randomBytes(32) },
          { id: 'k1', key: k1 },
        ]),
      ),
    ).toThrow(/drops or changes key "k2"/);
    expect(ring.ids).toEqual(['k2', 'k1']);
  });

  it('copies keys so caller buffers cannot change the ring', () => {
    const raw = randomBytes(32);
    const copy = Buffer.from(raw);
    const ring = KeyRing.fromKeys([{ id: 'k1', key: raw }]);
    raw.fill(0);
    expect(ring.primary.key.equals(copy)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { ID_PREFIXES, idTimestamp, isId, newId } from '../../../src/crypto/index.js';

describe('ids', () => {
  it('has the ULID layout: prefix_ + 26 Crockford chars', () => {
    for (const prefix of ID_PREFIXES) {
      const id = newId(prefix);
      expect(id).toMatch(new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`));
      expect(isId(prefix, id)).toBe(true);
    }
  });

  it('encodes the millisecond timestamp (ULID spec example time)', () => {
    const id = newId('conn', 1469918176385);
    expect(id.slice(5, 15)).toBe('01ARYZ6S41');
    expect(idTimestamp(id)).toBe(1469918176385);
    expect(newId('st', 0).slice(3, 13)).toBe('0000000000');
    expect(newId('st', 2 ** 48 - 1).slice(3, 13)).toBe('7ZZZZZZZZZ');
    expect(() => newId('st', 2 ** 48)).toThrow(RangeError);
    expect(() => newId('st', -1)).toThrow(RangeError);
  });

  it('sorts by creation time', () => {
    const base = Date.UTC(2025, 0, 1);
    const times = [0, 1, 2, 31, 32, 1000, 86_400_000, 10 ** 10].map((d) => base + d);
    const ids = times.map((t) => newId('prj', t));
    const shuffled = [...ids].reverse();
    expect(shuffled.sort()).toEqual(ids);
    expect(ids.map(idTimestamp)).toEqual(times);
  });

  it('is random within the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('key', 1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });

  it('isId checks the exact prefix, length and alphabet', () => {
    const id = newId('conn');
    const body = id.slice(5);
    expect(isId('conn', id)).toBe(true);
    expect(isId('prj', id)).toBe(false);
    expect(isId('conn', `xconn_${body}`)).toBe(false);
    expect(isId('conn', `conn-${body}`)).toBe(false);
    expect(isId('conn', id.slice(0, -1))).toBe(false);
    expect(isId('conn', `${id}0`)).toBe(false);
    expect(isId('conn', id.toLowerCase())).toBe(false);
    expect(isId('conn', `conn_${body.slice(0, -1)}U`)).toBe(false); // U is not Crockford
    expect(isId('conn', `conn_${body.slice(0, -1)}I`)).toBe(false);
    expect(isId('conn', `conn_8${body.slice(1)}`)).toBe(false); // timestamp overflows 48 bits
    expect(isId('conn', 42)).toBe(false);
    expect(isId('conn', undefined)).toBe(false);
  });
});

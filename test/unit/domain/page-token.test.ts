import { describe, expect, it } from 'vitest';
import { InvalidFieldError, PageTokenInvalidError } from '../../../src/domain/shared/errors.js';
import { decodePageToken, encodePageToken, pageSize } from '../../../src/domain/shared/page-token.js';

describe('page tokens', () => {
  it('round-trips the last key for the same filters', () => {
    const filters = { project: 'p1', category: 'crm' };
    expect(decodePageToken(encodePageToken('acme', filters), filters)).toBe('acme');
  });

  it('is absent for the first page', () => {
    expect(decodePageToken('', { a: 1 })).toBeUndefined();
  });

  it('refuses a token issued for other filters, and garbage', () => {
    const token = encodePageToken('acme', { category: 'crm' });
    expect(() => decodePageToken(token, { category: 'dev' })).toThrow(PageTokenInvalidError);
    expect(() => decodePageToken('%%%', {})).toThrow(PageTokenInvalidError);
    expect(() => decodePageToken(Buffer.from('{"k":1}').toString('base64url'), {})).toThrow(PageTokenInvalidError);
    expect(() => decodePageToken('a'.repeat(2000), {})).toThrow(PageTokenInvalidError);
  });

  it('defaults and bounds the page size', () => {
    expect(pageSize(0)).toBe(50);
    expect(pageSize(500)).toBe(500);
    expect(() => pageSize(501)).toThrow(InvalidFieldError);
    expect(() => pageSize(-1)).toThrow(InvalidFieldError);
  });
});

import { describe, expect, it } from 'vitest';
import { cookieReader, setCookie } from '../../../src/http/cookies.js';
import { redactUrl } from '../../../src/http/redact.js';

describe('cookies', () => {
  it('reads token-valued cookies; the first of a repeated name wins; anything else is ignored', () => {
    const read = cookieReader('a=1; __Host-nexus_consent_st_X=abc-_9; a=2; bad name=x; q="quoted"; empty=; noeq');
    expect(read('a')).toBe('1');
    expect(read('__Host-nexus_consent_st_X')).toBe('abc-_9');
    expect(read('q')).toBeUndefined();
    expect(read('empty')).toBeUndefined();
    expect(read('bad name')).toBeUndefined();
    expect(cookieReader(undefined)('a')).toBeUndefined();
    expect(cookieReader(['a=1', 'b=2'])('b')).toBe('2');
  });

  it('sets HttpOnly host-only cookies, Secure only when asked, and refuses values that would need quoting', () => {
    expect(setCookie('n', 'v', { maxAgeSeconds: 600, path: '/', sameSite: 'Lax', secure: false })).toBe('n=v; Max-Age=600; Path=/; HttpOnly; SameSite=Lax');
    expect(setCookie('__Host-n', '', { maxAgeSeconds: -5, path: '/', sameSite: 'Strict', secure: true })).toBe(
      '__Host-n=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict; Secure',
    );
    expect(() => setCookie('n', 'a;b', { maxAgeSeconds: 1, path: '/', sameSite: 'Lax', secure: false })).toThrow(TypeError);
    expect(() => setCookie('n=x', 'v', { maxAgeSeconds: 1, path: '/', sameSite: 'Lax', secure: false })).toThrow(TypeError);
  });
});

describe('redactUrl', () => {
  it("keeps a consent link's secret out of logs", () => {
    expect(redactUrl('/connect/q3H0abcdefghijklmnopqrstuvwxyz0123456789ABC')).toBe('/connect/[redacted]');
    expect(redactUrl('/connect/q3H0abcdefghijklmnopqrstuvwxyz0123456789ABC?x=1&state=s')).toBe('/connect/[redacted]?x=1&state=%5Bredacted%5D');
    expect(redactUrl('/connect/capture?state=abc')).toBe('/connect/capture?state=%5Bredacted%5D');
  });
});

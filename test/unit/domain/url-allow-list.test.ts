import { describe, expect, it } from 'vitest';
import { InvalidFieldError, ReturnUrlNotAllowedError } from '../../../src/domain/shared/errors.js';
import { UrlAllowList } from '../../../src/domain/shared/url-allow-list.js';

describe('UrlAllowList', () => {
  const policy = UrlAllowList.parseList('https://app.example.com, https://admin.example.com/oauth/done, http://localhost:*');

  it.each([
    'https://app.example.com/',
    'https://app.example.com/any/path?x=1',
    'https://admin.example.com/oauth/done',
    'https://admin.example.com/oauth/done/step2',
    'http://localhost:3000/cb',
    'http://localhost/cb',
  ])('allows %s', (url) => {
    expect(policy.check(url).href).toBe(new URL(url).href);
  });

  it.each([
    'https://app.example.com.evil.io/',
    'https://evil.io/?https://app.example.com',
    'http://app.example.com/', // scheme must match
    'https://app.example.com:8443/', // port must match when not *
    'https://admin.example.com/oauth/done-evil',
    'https://admin.example.com/oauth/',
    'https://user:pw@app.example.com/',
    'http://127.0.0.1:3000/', // localhost only by name
  ])('refuses %s', (url) => {
    expect(() => policy.check(url)).toThrow(ReturnUrlNotAllowedError);
  });

  it.each(['not a url', 'javascript:alert(1)', 'ftp://app.example.com/', '/relative'])('rejects malformed %s', (url) => {
    expect(() => policy.check(url)).toThrow(InvalidFieldError);
  });

  it('refuses overly long URLs', () => {
    expect(() => policy.check(`https://app.example.com/${'a'.repeat(3000)}`)).toThrow(InvalidFieldError);
  });

  it('rejects a non-http allow-list entry at start-up', () => {
    expect(() => UrlAllowList.parseList('ftp://x.example.com')).toThrow(/must be http or https/);
  });
});

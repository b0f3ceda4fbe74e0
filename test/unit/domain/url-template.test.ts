import { describe, expect, it } from 'vitest';
import { InvalidFieldError, UrlTemplateInvalidError } from '../../../src/domain/shared/errors.js';
import { checkUrlTemplate, fillUrlTemplate, placeholders } from '../../../src/domain/oauth/url-template.js';

const schema = {
  type: 'object',
  required: ['subdomain', 'tenant'],
  properties: { subdomain: { type: 'string' }, tenant: { type: 'string' }, optional: { type: 'string' } },
};

describe('OAuth2 URL templates', () => {
  it('accepts leading host labels before a fixed domain, and path segments', () => {
    expect(checkUrlTemplate('f', 'https://{subdomain}.zendesk.com/oauth/tokens', schema)).toBe('https://x.zendesk.com/oauth/tokens');
    expect(checkUrlTemplate('f', 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token', schema)).toContain('/x/oauth2');
    expect(checkUrlTemplate('f', 'http://{subdomain}.quirky.test:8080/t', schema)).toBe('http://x.quirky.test:8080/t');
    expect(checkUrlTemplate('f', 'https://plain.example.com/token', null)).toBe('https://plain.example.com/token');
    expect(placeholders('https://{a}.x.com/{b}')).toEqual(['a', 'b']);
  });

  it.each([
    ['https://{nope}.zendesk.com', 'undeclared'],
    ['https://{optional}.zendesk.com', 'not required'],
    ['https://{subdomain}', 'the whole host'],
    ['https://{subdomain}.com', 'a bare top-level domain'],
    ['https://api.{subdomain}.example.com', 'not a leading label'],
    ['https://{subdomain}x.example.com', 'part of a label'],
    ['https://{Sub}.example.com', 'uppercase placeholder'],
    ['https://example.com/{', 'a stray brace'],
  ])('refuses %s (%s)', (template) => {
    expect(() => checkUrlTemplate('provider.oauth2.token_url', template, schema)).toThrow(UrlTemplateInvalidError);
  });

  it('fills only host-name-like values', () => {
    expect(fillUrlTemplate('f', 'https://{subdomain}.zendesk.com/x', { subdomain: 'acme-eu' })).toBe('https://acme-eu.zendesk.com/x');
    expect(fillUrlTemplate('f', 'https://h.com/{tenant}/x', { tenant: 'contoso.onmicrosoft.com' })).toBe('https://h.com/contoso.onmicrosoft.com/x');
    for (const bad of ['evil.com/', 'a@b', 'a:1', '', '-x', 'x.', '../x', 'a b', 'a#', 'a?b']) {
      expect(() => fillUrlTemplate('f', 'https://{subdomain}.zendesk.com', { subdomain: bad }), bad).toThrow(InvalidFieldError);
    }
    expect(() => fillUrlTemplate('f', 'https://{subdomain}.zendesk.com', {})).toThrow(InvalidFieldError);
    expect(() => fillUrlTemplate('f', 'https://{subdomain}.zendesk.com', { subdomain: 42 })).toThrow(InvalidFieldError);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidFieldError, UrlTemplateInvalidError } from '../../../src/domain/shared/errors.js';
import type { ProviderInput } from '../../../src/domain/providers/provider-input.js';
import { validateProvider } from '../../../src/domain/providers/provider-validation.js';

function apiKey(apiBaseUrl: string): ProviderInput {
  return {
    name: 'svc',
    displayName: 'Svc',
    description: '',
    logoUrl: '',
    categories: [],
    authType: 'API_KEY',
    enabled: true,
    oauth2: undefined,
    credentialSchema: undefined,
    postOauthFieldsSchema: undefined,
    apiKey: {},
    awsSigv4: undefined,
    mcp: undefined,
    apiBaseUrl,
  };
}

function tenantOAuth(apiBaseUrl: string): ProviderInput {
  return {
    ...apiKey(apiBaseUrl),
    authType: 'OAUTH2',
    apiKey: undefined,
    connectionFieldsSchema: { type: 'object', required: ['subdomain'], properties: { subdomain: { type: 'string' } } },
    oauth2: {
      clientId: 'c',
      clientSecret: '',
      authorizationUrl: 'https://{subdomain}.zendesk.com/oauth/authorizations/new',
      tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
      revocationUrl: '',
      issuer: '',
      defaultScopes: [],
      scopeSeparator: '',
      authorizeParams: {},
      clientAuthMethod: undefined,
    },
  };
}

const dev = (input: ProviderInput) => validateProvider(input, true);
const prod = (input: ProviderInput) => validateProvider(input, false);

describe('provider.api_base_url', () => {
  it('is optional and stored as given', () => {
    expect(prod(apiKey('')).apiBaseUrl).toBe('');
    expect(prod(apiKey('https://api.example.com/v1')).apiBaseUrl).toBe('https://api.example.com/v1');
    expect(prod(tenantOAuth('https://{subdomain}.zendesk.com/api/v2')).apiBaseUrl).toBe('https://{subdomain}.zendesk.com/api/v2');
  });

  it('refuses plain http, except to a loopback host outside production', () => {
    expect(() => prod(apiKey('http://api.example.com'))).toThrow(InvalidFieldError);
    expect(() => prod(apiKey('http://127.0.0.1:8080/api'))).toThrow(/must use https/);
    expect(() => dev(apiKey('http://api.example.com'))).toThrow(/http only to a loopback host/);
    expect(() => dev(apiKey('http://10.0.0.1/api'))).toThrow(InvalidFieldError);
    expect(dev(apiKey('http://127.0.0.1:8080/api')).apiBaseUrl).toBe('http://127.0.0.1:8080/api');
    expect(dev(apiKey('http://localhost:8080')).apiBaseUrl).toBe('http://localhost:8080');
    expect(() => dev(apiKey('ftp://api.example.com'))).toThrow(InvalidFieldError);
  });

  it('refuses credentials, a query, a fragment or a relative URL', () => {
    for (const bad of ['https://u:p@api.example.com', 'https://api.example.com/?key=1', 'https://api.example.com/#x', '/api', 'api.example.com']) {
      expect(() => prod(apiKey(bad)), bad).toThrow(InvalidFieldError);
    }
    expect(() => prod(apiKey('https://api.example.com/?'))).toThrow(/query or fragment/);
  });

  it('takes placeholders only from the connection fields, and only in front of a fixed domain', () => {
    expect(() => prod(apiKey('https://{subdomain}.zendesk.com/api/v2'))).toThrow(UrlTemplateInvalidError);
    expect(() => prod(tenantOAuth('https://{tenant}.zendesk.com/api/v2'))).toThrow(UrlTemplateInvalidError);
    expect(() => prod(tenantOAuth('https://{subdomain}/api/v2'))).toThrow(UrlTemplateInvalidError);
  });
});

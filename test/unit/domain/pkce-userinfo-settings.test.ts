import { describe, expect, it } from 'vitest';
import { checkProviderDocument, providerInputFromDocument } from '../../../src/domain/providers/provider-document.js';
import { validateProvider } from '../../../src/domain/providers/provider-validation.js';
import { InvalidFieldError, UrlTemplateInvalidError } from '../../../src/domain/shared/errors.js';

/** A providers-file entry (the catalog's and `nexus providers apply`'s shape) with the given oauth2 settings. */
function doc(oauth2: Record<string, unknown>) {
  return {
    name: 'gh',
    auth_type: 'OAUTH2',
    oauth2: {
      client_id: 'c',
      authorization_url: 'https://github.com/login/oauth/authorize',
      token_url: 'https://github.com/login/oauth/access_token',
      client_auth_method: 'client_secret_post',
      ...oauth2,
    },
  };
}

const stored = (oauth2: Record<string, unknown>) => validateProvider(providerInputFromDocument(doc(oauth2), 'gh'), false).oauth2!;

describe('provider settings pkce, userinfo_url and userinfo_paths', () => {
  it('reads them from a providers document and stores them; S256 is the default and stored as absent', () => {
    const o = stored({ pkce: 'unsupported', userinfo_url: 'https://api.github.com/user', userinfo_paths: { subject: 'id', email: 'email' } });
    expect([o.pkce, o.userinfoUrl, o.userinfoPaths]).toEqual(['unsupported', 'https://api.github.com/user', { subject: 'id', email: 'email' }]);
    expect(stored({ pkce: 'S256' }).pkce).toBeUndefined();
    const plain = stored({});
    expect([plain.pkce, plain.userinfoUrl, plain.userinfoPaths]).toEqual([undefined, undefined, undefined]);
  });

  it('refuses unknown values and keys before anything is stored', () => {
    expect(() => checkProviderDocument(doc({ pkce: 'plain' }), 'gh')).toThrow(InvalidFieldError);
    expect(() => checkProviderDocument(doc({ userinfo_paths: { subjet: 'id' } }), 'gh')).toThrow(/subject/);
    expect(() => providerInputFromDocument(doc({ pkce: 'plain' }), 'gh')).toThrow(/S256/);
    checkProviderDocument(doc({ pkce: 'unsupported', userinfo_url: 'https://api.github.com/user', userinfo_paths: { subject: 'id' } }), 'gh');
  });

  it('validates the userinfo URL like the other endpoints, and the paths as member names', () => {
    expect(() => stored({ userinfo_url: 'http://api.github.com/user' })).toThrow(InvalidFieldError);
    expect(() => stored({ userinfo_url: 'https://{tenant}.example.com/me' })).toThrow(UrlTemplateInvalidError);
    expect(() => stored({ userinfo_url: 'https://api.github.com/user', userinfo_paths: { subject: 'a..b' } })).toThrow(/userinfo_paths.subject/);
    expect(() => stored({ userinfo_paths: { subject: 'id' } })).toThrow(/needs userinfo_url/);
  });

  it('refuses pkce unsupported for a public client, whose code only PKCE binds', () => {
    expect(() => stored({ pkce: 'unsupported', client_auth_method: 'none' })).toThrow(/public client/);
    expect(stored({ pkce: 'S256', client_auth_method: 'none' }).clientAuthMethod).toBe('none');
  });
});

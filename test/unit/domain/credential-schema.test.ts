import { describe, expect, it } from 'vitest';
import { checkSchema, defaultCredentialSchema, secretProperties, validateAgainst } from '../../../src/domain/providers/credential-schema.js';
import { CredentialsInvalidError, ProviderMisconfiguredError } from '../../../src/domain/shared/errors.js';

describe('credential schemas', () => {
  it('has a default schema for every static auth type, with secrets marked as passwords', () => {
    expect(secretProperties(defaultCredentialSchema('API_KEY')!)).toEqual(new Set(['api_key']));
    expect(secretProperties(defaultCredentialSchema('BASIC_AUTH')!)).toEqual(new Set(['password']));
    expect(secretProperties(defaultCredentialSchema('BEARER')!)).toEqual(new Set(['token']));
    expect(secretProperties(defaultCredentialSchema('AWS_SIGV4')!)).toEqual(new Set(['secret_access_key', 'session_token']));
    expect(defaultCredentialSchema('OAUTH2')).toBeNull();
  });

  it('names the violations without echoing the submitted values', () => {
    const schema = defaultCredentialSchema('BASIC_AUTH')!;
    let err: unknown;
    try {
      validateAgainst(schema, { username: 42, passwd: 'hunter2-secret' }, 'credentials');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CredentialsInvalidError);
    const violations = (err as CredentialsInvalidError).violations.join('\n');
    expect(violations).toContain('/username');
    expect(violations).toContain('"password"');
    expect(violations).toContain('"passwd"');
    expect((err as Error).message).not.toContain('hunter2-secret');
  });

  it('accepts valid credentials', () => {
    expect(() => validateAgainst(defaultCredentialSchema('API_KEY')!, { api_key: 'k' }, 'credentials')).not.toThrow();
  });

  it('refuses schemas that are not object schemas or do not compile', () => {
    expect(() => checkSchema({ type: 'string' }, 'credential_schema')).toThrow(ProviderMisconfiguredError);
    expect(() => checkSchema({ type: 'object', properties: { a: { type: 'nope' } } }, 'credential_schema')).toThrow(ProviderMisconfiguredError);
    expect(() => checkSchema({ type: 'object', properties: { a: { type: 'string', format: 'password' } } }, 'x')).not.toThrow();
  });
});

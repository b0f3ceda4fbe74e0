import { describe, expect, it } from 'vitest';
import { checkSchema, defaultCredentialSchema, fieldPath, secretProperties, validateAgainst } from '../../../src/domain/providers/credential-schema.js';
import { CredentialsInvalidError, MAX_FIELD_VIOLATIONS, ProviderMisconfiguredError } from '../../../src/domain/shared/errors.js';

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
    const invalid = err as CredentialsInvalidError;
    // One structured (field path, rule) pair per broken rule, for google.rpc.BadRequest.
    expect(invalid.violations).toEqual([
      { field: 'credentials.password', description: 'is required' },
      { field: 'credentials.passwd', description: 'is not a known property' },
      { field: 'credentials.username', description: 'must be string' },
    ]);
    expect(invalid.fieldViolations).toBe(invalid.violations);
    // ErrorInfo metadata keeps the JSON-pointer lines the web form reads.
    expect(invalid.metadata.violations).toBe('/ missing required property "password"; / has unknown property "passwd"; /username must be string');
    expect((err as Error).message).not.toContain('hunter2-secret');
    expect(JSON.stringify(invalid.violations)).not.toContain('hunter2-secret');
  });

  it('writes field paths with dots for identifiers, brackets for indexes and other keys', () => {
    expect(fieldPath('fields', '')).toBe('fields');
    expect(fieldPath('fields', '/a/0/b_c')).toBe('fields.a[0].b_c');
    expect(fieldPath('fields', '/x-y~1z~0', 'q.r')).toBe('fields["x-y/z~"]["q.r"]');
    expect(fieldPath('fields', '/01')).toBe('fields["01"]');
    expect(fieldPath('credentials', `/${'k'.repeat(100)}`)).toBe(`credentials.${'k'.repeat(64)}…`);
  });

  it('lists at most MAX_FIELD_VIOLATIONS violations', () => {
    const properties = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p${i}`, { type: 'string' }]));
    const schema = { type: 'object', required: Object.keys(properties), properties };
    let err: unknown;
    try {
      validateAgainst(schema, {}, 'fields');
    } catch (e) {
      err = e;
    }
    expect((err as CredentialsInvalidError).violations).toHaveLength(MAX_FIELD_VIOLATIONS);
    expect((err as CredentialsInvalidError).metadata.violations!.split('; ')).toHaveLength(MAX_FIELD_VIOLATIONS);
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

// The web app's pure logic (web/src), without a browser: the JSON Schema form's fields and
// checks, the server's credential violations mapped to fields, and which connections and
// providers the page lists. The browser test (test/webapp) covers them through the UI.
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectionSchema, ConnectionStatus } from '../../../gen/ts/nexus/v1/connection_pb.js';
import { ProviderSchema } from '../../../gen/ts/nexus/v1/provider_pb.js';
import { toNexusError } from '../../../clients/ts/src/errors.js';
import { errorInfo } from '../../../src/transport/error-mapper.js';
import { fieldErrorsOf, problemOf } from '../../../web/src/api/errors.js';
import { categoriesOf, categoryLabel, filterProviders, visibleConnections } from '../../../web/src/api/manage.js';
import { check, fieldsOf, toJson, type JsonSchema } from '../../../web/src/schema.js';

const REPO = path.resolve(import.meta.dirname, '../../..');

const SCHEMA: JsonSchema = {
  type: 'object',
  required: ['api_key', 'account'],
  properties: {
    region: { type: 'string', enum: ['eu', 'us'] },
    api_key: { type: 'string', title: 'API key', format: 'password', pattern: '^sk_[a-z0-9]{8,}$' },
    verbose: { type: 'boolean', title: 'Verbose' },
    account: { type: 'string', minLength: 3, maxLength: 8 },
    retries: { type: 'integer', minimum: 0, maximum: 5 },
  },
};

describe('schema form', () => {
  it('renders required fields first (in their listed order), then optional ones by name, with the right controls', () => {
    const fields = fieldsOf(SCHEMA);
    expect(fields.map((f) => [f.name, f.kind, f.required, f.label])).toEqual([
      ['api_key', 'password', true, 'API key'],
      ['account', 'text', true, 'Account'],
      ['region', 'select', false, 'Region'],
      ['retries', 'number', false, 'Retries'],
      ['verbose', 'checkbox', false, 'Verbose'],
    ]);
    expect(fields.find((f) => f.name === 'region')!.options).toEqual(['eu', 'us']);
  });

  it('checks required, pattern, length, enum and numbers before sending', () => {
    const fields = fieldsOf(SCHEMA);
    expect(check(fields, {})).toEqual({ api_key: 'This field is required.', account: 'This field is required.' });
    expect(check(fields, { api_key: 'nope', account: 'ab', region: 'mars', retries: '2.5' })).toEqual({
      api_key: 'This value does not have the expected format.',
      account: 'Must be at least 3 characters.',
      region: 'Choose one of the options.',
      retries: 'Enter a number.',
    });
    expect(check(fields, { api_key: 'sk_abcdefgh1', account: 'toolongvalue', retries: '9' })).toEqual({
      account: 'Must be at most 8 characters.',
      retries: 'Must be at most 5.',
    });
    expect(check(fields, { api_key: 'sk_abcdefgh1', account: 'abc', region: 'eu', retries: '3', verbose: true })).toEqual({});
  });

  it('submits typed values and leaves empty optional fields out', () => {
    const fields = fieldsOf(SCHEMA);
    expect(toJson(fields, { api_key: 'sk_abcdefgh1', account: 'abc', region: '', retries: '3', verbose: false })).toEqual({
      api_key: 'sk_abcdefgh1',
      account: 'abc',
      retries: 3,
    });
    expect(toJson(fields, { api_key: 'k', account: 'a', verbose: true })).toEqual({ api_key: 'k', account: 'a', verbose: true });
  });
});

describe('server credential errors', () => {
  const invalid = (violations: string) =>
    new ConnectError('credentials do not match the schema', Code.InvalidArgument, undefined, [
      errorInfo('CREDENTIALS_INVALID', { field: 'credentials', violations }),
    ]);

  it('maps each violation to its field (pointer, required, unknown)', () => {
    const problem = problemOf(
      invalid('/account_email must match format "email"; / missing required property "api_key"; / has unknown property "extra"; /a~1b must be string'),
    );
    expect(problem).toMatchObject({ code: Code.InvalidArgument, reason: 'CREDENTIALS_INVALID' });
    expect(fieldErrorsOf(problem)).toEqual({
      fields: { account_email: 'Must match format "email".', api_key: 'This field is required.', 'a/b': 'Must be string.' },
      other: ['Unexpected field "extra".'],
    });
  });

  it('ignores other errors', () => {
    const other = problemOf(new ConnectError('state was already used', Code.FailedPrecondition, undefined, [errorInfo('STATE_ALREADY_USED')]));
    expect(other.reason).toBe('STATE_ALREADY_USED');
    expect(fieldErrorsOf(other)).toEqual({ fields: {}, other: [] });
    expect(problemOf(new Error('network down'))).toMatchObject({ code: Code.Unknown, reason: '' });
  });

  it('decodes errors with the TypeScript client package, not a copy of its own', () => {
    const err = new ConnectError('no such connection', Code.NotFound, undefined, [errorInfo('CONNECTION_NOT_FOUND', { connection_id: 'conn_1' })]);
    const typed = toNexusError(err);
    expect(problemOf(err)).toEqual({ code: typed.code, reason: typed.reason, message: 'no such connection', metadata: { ...typed.metadata } });
    const sources = readdirSync(path.join(REPO, 'web/src'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    for (const file of sources) {
      const text = readFileSync(path.join(REPO, 'web/src', file), 'utf8');
      expect(text, file).not.toMatch(/error_details_pb|findDetails\(/);
    }
  });
});

describe('lists', () => {
  const conn = (providerId: string, status: ConnectionStatus, seconds: number, id = `${providerId}-${seconds}`) =>
    create(ConnectionSchema, { id, providerId, providerName: providerId, status, createTime: { seconds: BigInt(seconds) } });

  it('shows live connections and only a provider\u2019s newest failure when nothing newer works', () => {
    const shown = visibleConnections([
      conn('a', ConnectionStatus.FAILED, 1),
      conn('a', ConnectionStatus.ACTIVE, 2),
      conn('b', ConnectionStatus.FAILED, 3),
      conn('b', ConnectionStatus.FAILED, 4),
      conn('c', ConnectionStatus.PENDING, 5),
      conn('d', ConnectionStatus.REVOKED, 6),
      conn('e', ConnectionStatus.ATTENTION_REQUIRED, 7),
      conn('a', ConnectionStatus.FAILED, 8),
    ]);
    expect(shown.map((c) => c.id)).toEqual(['a-8', 'e-7', 'b-4', 'a-2']);
  });

  it('searches names, descriptions and categories, filters by category, labels slugs', () => {
    const providers = [
      create(ProviderSchema, { name: 'github', displayName: 'GitHub', description: 'Code hosting', categories: ['developer-tools'] }),
      create(ProviderSchema, { name: 'slack', displayName: 'Slack', description: 'Team chat', categories: ['communication'] }),
      create(ProviderSchema, { name: 'gitlab', displayName: 'GitLab', description: 'DevOps platform', categories: ['developer-tools', 'ci'] }),
    ];
    const names = (ps: typeof providers) => ps.map((p) => p.name);
    expect(names(filterProviders(providers, 'GIT', ''))).toEqual(['github', 'gitlab']);
    expect(names(filterProviders(providers, 'developer tools', ''))).toEqual(['github', 'gitlab']);
    expect(names(filterProviders(providers, 'chat team', ''))).toEqual(['slack']);
    expect(names(filterProviders(providers, '', 'ci'))).toEqual(['gitlab']);
    expect(names(filterProviders(providers, 'hub', 'ci'))).toEqual([]);
    expect(categoriesOf(providers)).toEqual(['ci', 'communication', 'developer-tools']);
    expect(categoryLabel('developer-tools')).toBe('Developer tools');
  });
});

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import type { AuthTypeName, JsonSchema } from '../model/provider.js';
import { CredentialsInvalidError, echo, type FieldViolation, ProviderMisconfiguredError } from '../shared/errors.js';

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
// Node hands over module.exports as the default import, whose own `default` is the plugin.
const addFormats = addFormatsModule.default as unknown as (typeof addFormatsModule)['default']['default'];

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
// `format: password` only tells a form to mask the input; any string is valid.
ajv.addFormat('password', true);
// `title`/`description` are annotations; allow common UI hints too.
ajv.addKeyword('x-placeholder');

const compiled = new Map<string, ValidateFunction>();

/** The schema captured for static auth types when a provider gives none. */
export function defaultCredentialSchema(authType: AuthTypeName): JsonSchema | null {
  const secret = (title: string) => ({ type: 'string', title, format: 'password', minLength: 1, maxLength: 4096 });
  const text = (title: string) => ({ type: 'string', title, minLength: 1, maxLength: 1024 });
  switch (authType) {
    case 'API_KEY':
      return { type: 'object', required: ['api_key'], additionalProperties: false, properties: { api_key: secret('API key') } };
    case 'BEARER':
      return { type: 'object', required: ['token'], additionalProperties: false, properties: { token: secret('Token') } };
    case 'BASIC_AUTH':
      return {
        type: 'object',
        required: ['username', 'password'],
        additionalProperties: false,
        properties: { username: text('Username'), password: secret('Password') },
      };
    case 'AWS_SIGV4':
      return {
        type: 'object',
        required: ['access_key_id', 'secret_access_key'],
        additionalProperties: false,
        properties: {
          access_key_id: text('Access key ID'),
          secret_access_key: secret('Secret access key'),
          session_token: { ...secret('Session token'), minLength: 0 },
          region: { type: 'string', title: 'Region', pattern: '^[a-z0-9-]{0,32}$' },
        },
      };
    case 'OAUTH2':
    case 'MCP':
      return null;
  }
}

/** Throws ProviderMisconfiguredError when `schema` is not a usable object schema. */
export function checkSchema(schema: JsonSchema, field: string): void {
  if (schema.type !== 'object' || typeof schema.properties !== 'object' || schema.properties === null) {
    throw new ProviderMisconfiguredError(`${field} must be a JSON Schema with "type": "object" and "properties"`);
  }
  try {
    compile(schema);
  } catch (err) {
    throw new ProviderMisconfiguredError(`${field} is not a valid JSON Schema: ${(err as Error).message}`);
  }
}

/**
 * A request field path from a field name and a JSON pointer into its value:
 * identifiers are dot-joined (`credentials.api_key`), list indexes bracketed
 * (`fields.hosts[2]`), other keys quoted (`fields["x-y"]`), each key echoed
 * at most ECHO_MAX_CHARS characters.
 */
export function fieldPath(field: string, pointer: string, extra?: string): string {
  const segments =
    pointer === ''
      ? []
      : pointer
          .slice(1)
          .split('/')
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) segments.push(extra);
  let path = field;
  for (const seg of segments) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) path += `.${echo(seg)}`;
    else if (/^(0|[1-9][0-9]{0,8})$/.test(seg)) path += `[${seg}]`;
    else path += `[${JSON.stringify(echo(seg))}]`;
  }
  return path;
}

/**
 * Validates `value` against `schema`. Violations name the field path and the
 * rule broken, never the submitted value, because the value may be a secret.
 */
export function validateAgainst(schema: JsonSchema, value: unknown, field: string): void {
  const validate = compile(schema);
  if (validate(value)) return;
  const errors = validate.errors ?? [];
  const violations = errors.map((e): FieldViolation => {
    if (e.keyword === 'required') return { field: fieldPath(field, e.instancePath, String(e.params.missingProperty)), description: 'is required' };
    if (e.keyword === 'additionalProperties') {
      return { field: fieldPath(field, e.instancePath, String(e.params.additionalProperty)), description: 'is not a known property' };
    }
    return { field: fieldPath(field, e.instancePath), description: e.message ?? e.keyword };
  });
  const pointerLines = errors.map((e) => {
    const where = echo(e.instancePath || '/');
    if (e.keyword === 'required') return `${where} missing required property "${echo(String(e.params.missingProperty))}"`;
    if (e.keyword === 'additionalProperties') return `${where} has unknown property "${echo(String(e.params.additionalProperty))}"`;
    return `${where} ${e.message ?? e.keyword}`;
  });
  throw new CredentialsInvalidError(violations, field, pointerLines);
}

/** Names of properties marked `format: password`, which are never echoed back. */
export function secretProperties(schema: JsonSchema): Set<string> {
  const properties = (schema.properties ?? {}) as Record<string, { format?: unknown }>;
  return new Set(
    Object.entries(properties)
      .filter(([, p]) => p?.format === 'password')
      .map(([k]) => k),
  );
}

function compile(schema: JsonSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(key, fn);
  }
  return fn;
}

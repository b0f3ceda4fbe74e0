import type { AuthTypeName, ClientAuthMethodName, JsonSchema, PkceName, RefreshTokenRotationName, TokenResponseFormatName } from '../model/provider.js';
import { echo, InvalidFieldError } from '../shared/errors.js';
import { didYouMean } from '../shared/suggest.js';
import type { ProviderInput } from './provider-input.js';

/**
 * A provider written as a document (YAML or JSON): the API's Provider
 * message in snake_case, with enum values without their prefix
 * (`auth_type: OAUTH2`, `client_auth_method: client_secret_post`,
 * `token_response_format: form`, `api_key.location: query`). Used by the
 * built-in catalog and by `nexus providers apply`.
 */
export type ProviderDocument = Record<string, unknown>;

/**
 * The one path into the provider model, for documents and (through
 * transport/mappers/provider-mapper.ts `providerToDocument`) Provider messages.
 * `nameRequired`: a document names its provider; an UpdateProvider message may
 * name it by id instead (validateProvider checks names on create).
 */
export function providerInputFromDocument(p: ProviderDocument, where: string, { nameRequired = true } = {}): ProviderInput {
  const o = object(p.oauth2, `${where}.oauth2`);
  const apiKey = object(p.api_key, `${where}.api_key`);
  const aws = object(p.aws_sigv4, `${where}.aws_sigv4`);
  const mcp = object(p.mcp, `${where}.mcp`);
  const paths = object(o?.token_response_paths, `${where}.oauth2.token_response_paths`);
  const userinfoPaths = object(o?.userinfo_paths, `${where}.oauth2.userinfo_paths`);
  if (nameRequired && !p.name) throw new InvalidFieldError(`${where}.name`, 'is required');
  return {
    name: s(p.name),
    displayName: s(p.display_name),
    description: s(p.description),
    logoUrl: s(p.logo_url),
    categories: list(p.categories),
    authType: (s(p.auth_type).toUpperCase() || undefined) as AuthTypeName | undefined,
    enabled: p.enabled === undefined ? true : p.enabled === true,
    oauth2: o
      ? {
          clientId: s(o.client_id),
          clientSecret: s(o.client_secret),
          authorizationUrl: s(o.authorization_url),
          tokenUrl: s(o.token_url),
          revocationUrl: s(o.revocation_url),
          issuer: s(o.issuer),
          expectedIssuer: s(o.expected_issuer),
          defaultScopes: list(o.default_scopes),
          scopeSeparator: s(o.scope_separator),
          authorizeParams: strings(o.authorize_params, `${where}.oauth2.authorize_params`),
          clientAuthMethod: (s(o.client_auth_method).toLowerCase() || undefined) as ClientAuthMethodName | undefined,
          tokenResponseFormat: (s(o.token_response_format).toLowerCase() || undefined) as TokenResponseFormatName | undefined,
          tokenParams: strings(o.token_params, `${where}.oauth2.token_params`),
          refreshTokenRotation: rotation(o.refresh_token_rotation, `${where}.oauth2.refresh_token_rotation`),
          pkce: pkce(o.pkce, `${where}.oauth2.pkce`),
          userinfoUrl: s(o.userinfo_url),
          userinfoPaths: userinfoPaths ? { subject: s(userinfoPaths.subject), email: s(userinfoPaths.email) } : undefined,
          tokenResponsePaths: paths
            ? {
                accessToken: s(paths.access_token),
                refreshToken: s(paths.refresh_token),
                expiresIn: s(paths.expires_in),
                scope: s(paths.scope),
              }
            : undefined,
        }
      : undefined,
    credentialSchema: object(p.credential_schema, `${where}.credential_schema`),
    postOauthFieldsSchema: object(p.post_oauth_fields_schema, `${where}.post_oauth_fields_schema`),
    connectionFieldsSchema: object(p.connection_fields_schema, `${where}.connection_fields_schema`),
    apiKey: apiKey
      ? {
          ...(apiKey.location ? { location: s(apiKey.location).toLowerCase() as 'header' | 'query' } : {}),
          name: s(apiKey.name),
          prefix: s(apiKey.prefix),
          field: s(apiKey.field),
        }
      : undefined,
    awsSigv4: aws ? { service: s(aws.service), defaultRegion: s(aws.default_region) } : undefined,
    mcp: mcp
      ? { serverUrl: s(mcp.server_url), clientId: s(mcp.client_id), clientSecret: s(mcp.client_secret), defaultScopes: list(mcp.default_scopes) }
      : undefined,
    apiBaseUrl: s(p.api_base_url),
  };
}

function s(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(s) : [];
}

function object(v: unknown, where: string): JsonSchema | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidFieldError(where, 'must be a mapping');
  return v as JsonSchema;
}

function rotation(v: unknown, where: string): RefreshTokenRotationName | undefined {
  const value = s(v).toLowerCase();
  if (value === '') return undefined;
  if (value === 'rotates' || value === 'stable') return value;
  throw new InvalidFieldError(where, 'must be "rotates" or "stable"');
}

function pkce(v: unknown, where: string): PkceName | undefined {
  const value = s(v);
  if (value === '') return undefined;
  if (value.toUpperCase() === 'S256') return 'S256';
  if (value.toLowerCase() === 'unsupported') return 'unsupported';
  throw new InvalidFieldError(where, 'must be "S256" or "unsupported"');
}

function strings(v: unknown, where: string): Record<string, string> {
  const o = object(v, where) ?? {};
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, s(x)]));
}

/** The keys a provider document may have, section by section; `null` marks free-form JSON (schemas, parameter maps). */
type KeySpec = { [key: string]: KeySpec | null | 'scalar' };
const DOCUMENT_KEYS: KeySpec = {
  name: 'scalar',
  display_name: 'scalar',
  description: 'scalar',
  logo_url: 'scalar',
  categories: 'scalar',
  auth_type: 'scalar',
  enabled: 'scalar',
  oauth2: {
    client_id: 'scalar',
    client_secret: 'scalar',
    authorization_url: 'scalar',
    token_url: 'scalar',
    revocation_url: 'scalar',
    issuer: 'scalar',
    expected_issuer: 'scalar',
    default_scopes: 'scalar',
    scope_separator: 'scalar',
    authorize_params: null,
    client_auth_method: 'scalar',
    token_response_format: 'scalar',
    token_params: null,
    refresh_token_rotation: 'scalar',
    token_response_paths: { access_token: 'scalar', refresh_token: 'scalar', expires_in: 'scalar', scope: 'scalar' },
    pkce: 'scalar',
    userinfo_url: 'scalar',
    userinfo_paths: { subject: 'scalar', email: 'scalar' },
  },
  credential_schema: null,
  post_oauth_fields_schema: null,
  connection_fields_schema: null,
  api_key: { location: 'scalar', name: 'scalar', prefix: 'scalar', field: 'scalar' },
  aws_sigv4: { service: 'scalar', default_region: 'scalar' },
  mcp: { server_url: 'scalar', client_id: 'scalar', client_secret: 'scalar', default_scopes: 'scalar' },
  api_base_url: 'scalar',
};

/** Enum-valued keys and their values, as `providerInputFromDocument` reads them (case-insensitive where it folds case). */
const DOCUMENT_ENUMS: { path: string; values: string[] }[] = [
  { path: 'auth_type', values: ['OAUTH2', 'API_KEY', 'BASIC_AUTH', 'AWS_SIGV4', 'BEARER', 'MCP'] },
  { path: 'oauth2.client_auth_method', values: ['client_secret_basic', 'client_secret_post', 'none'] },
  { path: 'oauth2.token_response_format', values: ['form', 'json'] },
  { path: 'oauth2.refresh_token_rotation', values: ['rotates', 'stable'] },
  { path: 'oauth2.pkce', values: ['S256', 'unsupported'] },
  { path: 'api_key.location', values: ['header', 'query'] },
];

/**
 * Refuses what `providerInputFromDocument` would otherwise read as "unset":
 * an unknown key (`enabld: false` left a provider enabled), an enum value
 * that does not exist, or an `enabled` that is not true or false. Each error
 * names the key and suggests the closest known one. Pure: `nexus providers
 * apply` runs it on the file before it opens the database. `extraKeys` are
 * top-level keys the caller handles itself (the file's `catalog`).
 */
export function checkProviderDocument(doc: ProviderDocument, where: string, extraKeys: readonly string[] = []): void {
  checkKeys(doc, { ...DOCUMENT_KEYS, ...Object.fromEntries(extraKeys.map((k) => [k, 'scalar' as const])) }, where, '');
  if (doc.enabled !== undefined && doc.enabled !== null && typeof doc.enabled !== 'boolean') {
    throw new InvalidFieldError(`${where}.enabled`, 'must be true or false');
  }
  for (const { path, values } of DOCUMENT_ENUMS) {
    const value = path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), doc);
    if (value === undefined || value === null || value === '') continue;
    const text = String(value);
    if (values.some((v) => v.toLowerCase() === text.toLowerCase())) continue;
    throw new InvalidFieldError(`${where}.${path}`, `unknown value "${echo(text)}"${didYouMean(text, values) || `; expected one of ${values.join(', ')}`}`);
  }
}

function checkKeys(value: unknown, spec: KeySpec, where: string, prefix: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const known = spec[key];
    if (known === undefined) throw new InvalidFieldError(`${where}.${prefix}${echo(key)}`, `unknown key${didYouMean(key, Object.keys(spec))}`);
    if (known && known !== 'scalar') checkKeys(child, known, where, `${prefix}${key}.`);
  }
}

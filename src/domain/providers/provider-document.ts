import type {
  AuthTypeName,
  ClientAuthMethodName,
  JsonSchema,
  RefreshTokenRotationName,
  TokenResponseFormatName,
} from '../../storage/entities/provider.js';
import { InvalidFieldError } from '../errors.js';
import type { ProviderInput } from './provider-input.js';

/**
 * A provider written as a document (YAML or JSON): the API's Provider
 * message in snake_case, with enum values without their prefix
 * (`auth_type: OAUTH2`, `client_auth_method: client_secret_post`,
 * `token_response_format: form`, `api_key.location: query`). Used by the
 * built-in catalog and by `nexus providers apply`.
 */
export type ProviderDocument = Record<string, unknown>;

export function providerInputFromDocument(p: ProviderDocument, where: string): ProviderInput {
  const o = object(p.oauth2, `${where}.oauth2`);
  const apiKey = object(p.api_key, `${where}.api_key`);
  const aws = object(p.aws_sigv4, `${where}.aws_sigv4`);
  const mcp = object(p.mcp, `${where}.mcp`);
  const paths = object(o?.token_response_paths, `${where}.oauth2.token_response_paths`);
  if (!p.name) throw new InvalidFieldError(`${where}.name`, 'is required');
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
          defaultScopes: list(o.default_scopes),
          scopeSeparator: s(o.scope_separator),
          authorizeParams: strings(o.authorize_params, `${where}.oauth2.authorize_params`),
          clientAuthMethod: (s(o.client_auth_method) || undefined) as ClientAuthMethodName | undefined,
          tokenResponseFormat: (s(o.token_response_format).toLowerCase() || undefined) as TokenResponseFormatName | undefined,
          tokenParams: strings(o.token_params, `${where}.oauth2.token_params`),
          refreshTokenRotation: rotation(o.refresh_token_rotation, `${where}.oauth2.refresh_token_rotation`),
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

function strings(v: unknown, where: string): Record<string, string> {
  const o = object(v, where) ?? {};
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, s(x)]));
}

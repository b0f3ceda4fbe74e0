import type { ApiKeyConfig, AwsSigV4Config, McpConfig, OAuth2Config, ProviderRow } from '../model/provider.js';
import { isLoopback } from '../auth/client-validation.js';
import { checkSchema } from './credential-schema.js';
import { echo, InvalidFieldError, ProviderMisconfiguredError } from '../shared/errors.js';
import { checkUrlTemplate } from '../oauth/url-template.js';
import type { McpInput, OAuth2Input, ProviderInput } from './provider-input.js';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const CATEGORY = /^[a-z0-9][a-z0-9_-]{0,62}$/;
// Protocol parameters Nexus sets itself; an extra authorize param must not replace them.
const RESERVED_AUTHORIZE_PARAMS = new Set(['response_type', 'client_id', 'redirect_uri', 'state', 'scope', 'code_challenge', 'code_challenge_method']);
// Parameters of the token requests Nexus sets itself (or client authentication does).
const RESERVED_TOKEN_PARAMS = new Set([
  'grant_type',
  'code',
  'redirect_uri',
  'code_verifier',
  'refresh_token',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
]);
const TOKEN_PATH = /^[A-Za-z0-9_-]{1,64}(?:\.[A-Za-z0-9_-]{1,64}){0,7}$/;

export type ValidatedProvider = Omit<ProviderRow, 'id' | 'projectId' | 'createdAt' | 'updatedAt' | 'clientSecretSealed' | 'catalogName'>;

/** Checks a whole provider and returns it in stored form. `allowInsecureUrls` admits http endpoints (development). */
export function validateProvider(input: ProviderInput, allowInsecureUrls: boolean): ValidatedProvider {
  if (!NAME.test(input.name)) {
    throw new InvalidFieldError('provider.name', 'must be 1-63 lowercase letters, digits, "-" or "_", starting with a letter or digit');
  }
  const displayName = input.displayName.trim() || input.name;
  text('provider.display_name', displayName, 200);
  text('provider.description', input.description, 2000);
  if (input.logoUrl) url('provider.logo_url', input.logoUrl, true, ['https:', 'data:', ...(allowInsecureUrls ? ['http:'] : [])]);
  if (input.categories.length > 20) throw new InvalidFieldError('provider.categories', 'at most 20');
  for (const c of input.categories) {
    if (!CATEGORY.test(c)) throw new InvalidFieldError('provider.categories', `"${echo(c)}" must be a lowercase slug`);
  }
  if (!input.authType) throw new InvalidFieldError('provider.auth_type', 'is required');

  const stored: ValidatedProvider = {
    name: input.name,
    displayName,
    description: input.description,
    logoUrl: input.logoUrl,
    categories: [...new Set(input.categories)],
    authType: input.authType,
    enabled: input.enabled,
    oauth2: null,
    credentialSchema: null,
    postOauthFieldsSchema: null,
    apiKey: null,
    awsSigv4: null,
    connectionFieldsSchema: null,
    mcp: null,
    apiBaseUrl: '',
  };

  if (input.authType === 'OAUTH2' || input.authType === 'MCP') {
    // An MCP server's endpoints and client come from discovery, never from oauth2 settings.
    if (input.authType === 'OAUTH2') {
      if (!input.oauth2) throw new ProviderMisconfiguredError('an OAUTH2 provider needs oauth2 settings');
      if (input.connectionFieldsSchema) {
        checkSchema(input.connectionFieldsSchema, 'provider.connection_fields_schema');
        stored.connectionFieldsSchema = input.connectionFieldsSchema;
      }
      stored.oauth2 = validateOAuth2(input.oauth2, allowInsecureUrls, stored.connectionFieldsSchema);
    } else if (hasOAuth2Settings(input)) {
      throw new ProviderMisconfiguredError('oauth2 settings do not apply to MCP: endpoints are discovered from the server');
    }
    if (input.credentialSchema) throw new ProviderMisconfiguredError(`credential_schema is for static auth types, not ${input.authType}`);
    if (input.postOauthFieldsSchema) {
      checkSchema(input.postOauthFieldsSchema, 'provider.post_oauth_fields_schema');
      stored.postOauthFieldsSchema = input.postOauthFieldsSchema;
      // Both end up in Connection.fields; a post-OAuth value must not replace a field the URLs were built from.
      const before = Object.keys((stored.connectionFieldsSchema?.properties ?? {}) as object);
      const overlap = before.filter((k) => k in (input.postOauthFieldsSchema!.properties as object));
      if (overlap.length) {
        throw new ProviderMisconfiguredError(`"${echo(overlap[0]!)}" is in both connection_fields_schema and post_oauth_fields_schema`);
      }
    }
  } else {
    if (hasOAuth2Settings(input)) {
      throw new ProviderMisconfiguredError(`oauth2 settings do not apply to ${input.authType}`);
    }
    if (input.postOauthFieldsSchema) {
      throw new ProviderMisconfiguredError('post_oauth_fields_schema applies to OAUTH2 providers only');
    }
    if (input.connectionFieldsSchema) {
      throw new ProviderMisconfiguredError('connection_fields_schema applies to OAUTH2 providers only');
    }
    if (input.credentialSchema) {
      checkSchema(input.credentialSchema, 'provider.credential_schema');
      stored.credentialSchema = input.credentialSchema;
    }
  }
  if (input.authType === 'API_KEY') stored.apiKey = validateApiKey(input.apiKey ?? {}, stored.credentialSchema);
  else if (input.apiKey && Object.values(input.apiKey).some(Boolean)) {
    throw new ProviderMisconfiguredError(`api_key settings do not apply to ${input.authType}`);
  }
  if (input.authType === 'AWS_SIGV4') stored.awsSigv4 = validateAws(input.awsSigv4 ?? {});
  if (input.authType === 'MCP') {
    if (!input.mcp) throw new ProviderMisconfiguredError('an MCP provider needs mcp settings (server_url)');
    if (input.credentialSchema) throw new ProviderMisconfiguredError('credential_schema does not apply to MCP providers');
    stored.mcp = validateMcp(input.mcp);
  } else if (input.mcp && (input.mcp.serverUrl || input.mcp.clientId)) {
    throw new ProviderMisconfiguredError(`mcp settings do not apply to ${input.authType}`);
  }
  if (input.apiBaseUrl) stored.apiBaseUrl = apiBaseUrl(input.apiBaseUrl, allowInsecureUrls, stored.connectionFieldsSchema);
  return stored;
}

/**
 * The API base URL a credential-injecting proxy forwards to, with the
 * connection's credentials: https only, since a plain-http upstream would
 * put them on the wire (http is admitted for a loopback host outside
 * production, for local development and tests). It must be a plain prefix:
 * no credentials, query or fragment. Placeholders follow the OAuth2 URL
 * template rules (a host placeholder only in front of a fixed domain).
 */
function apiBaseUrl(value: string, allowInsecureUrls: boolean, fieldsSchema: ProviderRow['connectionFieldsSchema']): string {
  const field = 'provider.api_base_url';
  const sample = checkUrlTemplate(field, value, fieldsSchema);
  url(field, sample, false, ['https:', 'http:']);
  const parsed = new URL(sample);
  if (parsed.protocol === 'http:' && !(allowInsecureUrls && isLoopback(parsed.hostname))) {
    throw new InvalidFieldError(field, allowInsecureUrls ? 'must use https (http only to a loopback host)' : 'must use https');
  }
  if (parsed.search || parsed.hash || /[?#]/.test(value)) throw new InvalidFieldError(field, 'must not have a query or fragment');
  return value;
}

function hasOAuth2Settings(input: ProviderInput): boolean {
  return Boolean(input.oauth2 && (input.oauth2.clientId || input.oauth2.tokenUrl || input.oauth2.issuer));
}

function validateOAuth2(o: OAuth2Input, allowInsecureUrls: boolean, fieldsSchema: ProviderRow['connectionFieldsSchema']): OAuth2Config {
  if (!o.clientId) throw new InvalidFieldError('provider.oauth2.client_id', 'is required');
  text('provider.oauth2.client_id', o.clientId, 512);
  const protocols = ['https:', ...(allowInsecureUrls ? ['http:'] : [])];
  for (const [field, value] of [
    ['authorization_url', o.authorizationUrl],
    ['token_url', o.tokenUrl],
    ['revocation_url', o.revocationUrl],
    ['userinfo_url', o.userinfoUrl],
    ['issuer', o.issuer],
    ['expected_issuer', o.expectedIssuer],
  ] as const) {
    if (value) url(`provider.oauth2.${field}`, checkUrlTemplate(`provider.oauth2.${field}`, value, fieldsSchema), false, protocols);
  }
  if (o.issuer && o.expectedIssuer) {
    throw new InvalidFieldError('provider.oauth2.expected_issuer', 'is for providers configured by endpoints; with issuer, discovery names the issuer');
  }
  if (!o.issuer && (!o.authorizationUrl || !o.tokenUrl)) {
    throw new ProviderMisconfiguredError('oauth2 needs authorization_url and token_url, or an issuer for discovery');
  }
  if (o.defaultScopes.length > 100) throw new InvalidFieldError('provider.oauth2.default_scopes', 'at most 100');
  for (const s of o.defaultScopes) scope('provider.oauth2.default_scopes', s);
  if (o.scopeSeparator.length > 4) throw new InvalidFieldError('provider.oauth2.scope_separator', 'at most 4 characters');
  for (const [k, v] of Object.entries(o.authorizeParams)) {
    if (RESERVED_AUTHORIZE_PARAMS.has(k)) {
      throw new InvalidFieldError('provider.oauth2.authorize_params', `"${echo(k)}" is set by Nexus and cannot be overridden`);
    }
    text('provider.oauth2.authorize_params', k, 128);
    text('provider.oauth2.authorize_params', v, 1024);
  }
  const tokenParams = o.tokenParams ?? {};
  for (const [k, v] of Object.entries(tokenParams)) {
    if (RESERVED_TOKEN_PARAMS.has(k)) {
      throw new InvalidFieldError('provider.oauth2.token_params', `"${echo(k)}" is set by Nexus and cannot be overridden`);
    }
    text('provider.oauth2.token_params', k, 128);
    text('provider.oauth2.token_params', v, 1024);
  }
  const paths = Object.fromEntries(Object.entries(o.tokenResponsePaths ?? {}).filter(([, v]) => v));
  for (const [k, v] of Object.entries(paths)) {
    if (!TOKEN_PATH.test(v)) {
      throw new InvalidFieldError(`provider.oauth2.token_response_paths.${k}`, 'must be dot-separated member names, e.g. "authed_user.access_token"');
    }
  }
  const userinfoPaths = Object.fromEntries(Object.entries(o.userinfoPaths ?? {}).filter(([, v]) => v));
  for (const [k, v] of Object.entries(userinfoPaths)) {
    if (!TOKEN_PATH.test(v)) {
      throw new InvalidFieldError(`provider.oauth2.userinfo_paths.${k}`, 'must be dot-separated member names, e.g. "data.id"');
    }
  }
  if (Object.keys(userinfoPaths).length > 0 && !o.userinfoUrl) {
    throw new InvalidFieldError('provider.oauth2.userinfo_paths', 'needs userinfo_url');
  }
  const method = o.clientAuthMethod ?? 'client_secret_basic';
  // Without a client secret the code is bound to the client by PKCE alone: a public client must keep it.
  if (o.pkce === 'unsupported' && method === 'none') {
    throw new InvalidFieldError('provider.oauth2.pkce', 'cannot be unsupported for a public client (client_auth_method none): PKCE is what binds its code');
  }
  return {
    clientId: o.clientId,
    ...(o.authorizationUrl ? { authorizationUrl: o.authorizationUrl } : {}),
    ...(o.tokenUrl ? { tokenUrl: o.tokenUrl } : {}),
    ...(o.revocationUrl ? { revocationUrl: o.revocationUrl } : {}),
    ...(o.issuer ? { issuer: o.issuer } : {}),
    ...(o.expectedIssuer ? { expectedIssuer: o.expectedIssuer } : {}),
    defaultScopes: o.defaultScopes,
    scopeSeparator: o.scopeSeparator || ' ',
    authorizeParams: o.authorizeParams,
    clientAuthMethod: method,
    tokenResponseFormat: o.tokenResponseFormat ?? 'json',
    tokenParams,
    tokenResponsePaths: paths,
    ...(o.refreshTokenRotation ? { refreshTokenRotation: o.refreshTokenRotation } : {}),
    // S256 is the default and is stored as absent, like every row written before the setting existed.
    ...(o.pkce === 'unsupported' ? { pkce: 'unsupported' as const } : {}),
    ...(o.userinfoUrl ? { userinfoUrl: o.userinfoUrl } : {}),
    ...(Object.keys(userinfoPaths).length > 0 ? { userinfoPaths } : {}),
  };
}

/**
 * The shape of MCP settings. Whether Nexus may fetch server_url (https,
 * public address, allow-list) is the OutboundPolicy's call, made by the
 * provider service, which knows the environment.
 */
function validateMcp(m: McpInput): McpConfig {
  if (!m.serverUrl) throw new InvalidFieldError('provider.mcp.server_url', 'is required');
  let parsed: URL;
  try {
    parsed = new URL(m.serverUrl);
  } catch {
    throw new InvalidFieldError('provider.mcp.server_url', 'must be an absolute URL');
  }
  // The server URL is the RFC 8707 resource indicator, which must not carry a fragment.
  if (parsed.hash || m.serverUrl.includes('#')) throw new InvalidFieldError('provider.mcp.server_url', 'must not have a fragment');
  text('provider.mcp.client_id', m.clientId, 512);
  if (m.clientSecret && !m.clientId) {
    throw new ProviderMisconfiguredError('mcp.client_secret needs mcp.client_id (leave both empty for dynamic registration)');
  }
  if (m.defaultScopes.length > 100) throw new InvalidFieldError('provider.mcp.default_scopes', 'at most 100');
  for (const s of m.defaultScopes) scope('provider.mcp.default_scopes', s);
  return { serverUrl: parsed.href, clientId: m.clientId, defaultScopes: m.defaultScopes };
}

function validateApiKey(a: Partial<ApiKeyConfig>, schema: ProviderRow['credentialSchema']): ApiKeyConfig {
  const location = a.location ?? 'header';
  const name = a.name || (location === 'header' ? 'Authorization' : 'api_key');
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/.test(name)) {
    throw new InvalidFieldError('provider.api_key.name', 'must be a valid header or parameter name');
  }
  const field = a.field || 'api_key';
  const props = (schema?.properties ?? { api_key: {} }) as Record<string, unknown>;
  if (!(field in props)) {
    throw new ProviderMisconfiguredError(`api_key.field "${echo(field)}" is not a property of the credential schema`);
  }
  text('provider.api_key.prefix', a.prefix ?? '', 64);
  return { location, name, prefix: a.prefix ?? '', field };
}

function validateAws(a: Partial<AwsSigV4Config>): AwsSigV4Config {
  if (!a.service || !/^[a-z0-9-]{1,64}$/.test(a.service)) {
    throw new InvalidFieldError('provider.aws_sigv4.service', 'is required: the AWS service name, e.g. "s3"');
  }
  const region = a.defaultRegion ?? '';
  if (!/^[a-z0-9-]{0,32}$/.test(region)) throw new InvalidFieldError('provider.aws_sigv4.default_region', 'is not a region');
  return { service: a.service, defaultRegion: region };
}

export function scope(field: string, s: string): void {
  if (!/^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/.test(s)) {
    throw new InvalidFieldError(field, 'each scope must be 1-256 printable characters without spaces, quotes or backslashes');
  }
}

function text(field: string, value: string, max: number): void {
  if (value.length > max) throw new InvalidFieldError(field, `must be at most ${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidFieldError(field, 'must not contain control characters');
}

function url(field: string, value: string, allowData: boolean, protocols: string[]): void {
  if (value.length > (allowData ? 65_536 : 2048)) throw new InvalidFieldError(field, 'is too long');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InvalidFieldError(field, 'must be an absolute URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new InvalidFieldError(field, `must use ${protocols.map((p) => p.replace(':', '')).join(' or ')}`);
  }
  if (parsed.username || parsed.password) throw new InvalidFieldError(field, 'must not carry credentials');
}

import type {
  ApiKeyConfig,
  AuthTypeName,
  AwsSigV4Config,
  ClientAuthMethodName,
  JsonSchema,
  PkceName,
  RefreshTokenRotationName,
  TokenResponseFormatName,
  TokenResponsePaths,
  UserinfoPaths,
} from '../model/provider.js';

/** A provider as written by an admin, already mapped from the wire. */
export interface ProviderInput {
  name: string;
  displayName: string;
  description: string;
  logoUrl: string;
  categories: string[];
  authType: AuthTypeName | undefined;
  enabled: boolean;
  oauth2: OAuth2Input | undefined;
  credentialSchema: JsonSchema | undefined;
  postOauthFieldsSchema: JsonSchema | undefined;
  apiKey: Partial<ApiKeyConfig> | undefined;
  awsSigv4: Partial<AwsSigV4Config> | undefined;
  connectionFieldsSchema?: JsonSchema | undefined;
  /** Set only when the provider comes from the built-in catalog (never by the API's CreateProvider). */
  catalogName?: string | undefined;
  mcp: McpInput | undefined;
  /** The service's API base URL, for a credential-injecting proxy; '' when unknown. */
  apiBaseUrl?: string | undefined;
}

export interface McpInput {
  serverUrl: string;
  clientId: string;
  /** Write-only; empty means "leave as is" on update. */
  clientSecret: string;
  defaultScopes: string[];
}

export interface OAuth2Input {
  clientId: string;
  /** Write-only; empty means "leave as is" on update. */
  clientSecret: string;
  authorizationUrl: string;
  tokenUrl: string;
  revocationUrl: string;
  issuer: string;
  /** Absent in inputs built before it existed: treated as empty. */
  expectedIssuer?: string;
  defaultScopes: string[];
  scopeSeparator: string;
  authorizeParams: Record<string, string>;
  clientAuthMethod: ClientAuthMethodName | undefined;
  tokenResponseFormat?: TokenResponseFormatName | undefined;
  tokenParams?: Record<string, string> | undefined;
  tokenResponsePaths?: TokenResponsePaths | undefined;
  refreshTokenRotation?: RefreshTokenRotationName | undefined;
  pkce?: PkceName | undefined;
  userinfoUrl?: string | undefined;
  userinfoPaths?: UserinfoPaths | undefined;
}

/** Fields an update mask may name. `oauth2` replaces the whole block; `oauth2.x` one setting. */
export const UPDATABLE_FIELDS = [
  'display_name',
  'description',
  'logo_url',
  'categories',
  'enabled',
  'oauth2',
  'oauth2.client_id',
  'oauth2.client_secret',
  'oauth2.authorization_url',
  'oauth2.token_url',
  'oauth2.revocation_url',
  'oauth2.issuer',
  'oauth2.expected_issuer',
  'oauth2.default_scopes',
  'oauth2.scope_separator',
  'oauth2.authorize_params',
  'oauth2.client_auth_method',
  'oauth2.token_response_format',
  'oauth2.token_params',
  'oauth2.token_response_paths',
  'oauth2.refresh_token_rotation',
  'oauth2.pkce',
  'oauth2.userinfo_url',
  'oauth2.userinfo_paths',
  'credential_schema',
  'post_oauth_fields_schema',
  'connection_fields_schema',
  'api_key',
  'aws_sigv4',
  'mcp',
  'mcp.server_url',
  'mcp.client_id',
  'mcp.client_secret',
  'mcp.default_scopes',
  'api_base_url',
] as const;
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number];

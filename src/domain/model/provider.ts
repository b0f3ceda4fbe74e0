export type AuthTypeName = 'OAUTH2' | 'API_KEY' | 'BASIC_AUTH' | 'AWS_SIGV4' | 'BEARER' | 'MCP';
export type ClientAuthMethodName = 'client_secret_basic' | 'client_secret_post' | 'none';

/** OAuth2 settings as stored: everything but the client secret. */
export interface OAuth2Config {
  clientId: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  issuer?: string;
  /** The issuer identifier of a provider configured by endpoints: the RFC 9207 `iss` callback parameter must equal it. */
  expectedIssuer?: string;
  defaultScopes: string[];
  scopeSeparator: string;
  authorizeParams: Record<string, string>;
  clientAuthMethod: ClientAuthMethodName;
  /** Quirks; absent in rows written before they existed, meaning the standard behaviour. */
  tokenResponseFormat?: TokenResponseFormatName;
  /** Extra token-request parameters (code exchange and refresh). */
  tokenParams?: Record<string, string>;
  /** Dot paths of tokens nested in the token response. */
  tokenResponsePaths?: TokenResponsePaths;
  /** Declared refresh-token rotation; absent: learned per connection from its refreshes. */
  refreshTokenRotation?: RefreshTokenRotationName;
  /**
   * PKCE on the authorize request: S256 (absent: the default) or
   * 'unsupported' for a server that refuses a code_challenge; then the
   * authorization code is bound by state alone.
   */
  pkce?: PkceName;
  /**
   * A userinfo endpoint for a provider that is not OpenID Connect (no
   * issuer): read with the new access token after the code exchange to
   * record who consented (provider_subject, provider_email).
   */
  userinfoUrl?: string;
  /** Dot paths of the subject and email in the userinfo JSON; absent: `sub` and `email`. */
  userinfoPaths?: UserinfoPaths;
}

export type TokenResponseFormatName = 'json' | 'form';
export type RefreshTokenRotationName = 'rotates' | 'stable';
export type PkceName = 'S256' | 'unsupported';

export interface UserinfoPaths {
  subject?: string;
  email?: string;
}

export interface TokenResponsePaths {
  accessToken?: string;
  refreshToken?: string;
  expiresIn?: string;
  scope?: string;
}

export interface ApiKeyConfig {
  location: 'header' | 'query';
  name: string;
  prefix: string;
  field: string;
}

/** MCP settings as stored: everything but the pre-registered client's secret (in client_secret_sealed). */
export interface McpConfig {
  serverUrl: string;
  /** A client registered by hand; empty means dynamic client registration. */
  clientId: string;
  defaultScopes: string[];
}

export interface AwsSigV4Config {
  service: string;
  defaultRegion: string;
}

export type JsonSchema = Record<string, unknown>;

export interface ProviderRow {
  id: string;
  projectId: string;
  name: string;
  displayName: string;
  description: string;
  logoUrl: string;
  categories: string[];
  authType: AuthTypeName;
  enabled: boolean;
  oauth2: OAuth2Config | null;
  /** The OAuth2 (or pre-registered MCP) client secret, sealed with AAD bound to this provider id. */
  clientSecretSealed: string | null;
  credentialSchema: JsonSchema | null;
  postOauthFieldsSchema: JsonSchema | null;
  apiKey: ApiKeyConfig | null;
  awsSigv4: AwsSigV4Config | null;
  /** The built-in catalog entry this provider was enabled from. */
  catalogName: string | null;
  /** Fields collected before the redirect; the OAuth2 URLs may use them as {name}. */
  connectionFieldsSchema: JsonSchema | null;
  mcp: McpConfig | null;
  /** The service's API base URL (a credential-injecting proxy's upstream); '' when unknown. */
  apiBaseUrl: string;
  createdAt: Date;
  updatedAt: Date;
}

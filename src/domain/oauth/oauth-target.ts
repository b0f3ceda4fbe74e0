import type * as oauth from 'oauth4webapi';
import type { ClientAuthMethodName, ProviderRow } from '../model/provider.js';
import type { FetchLike } from '../outbound/safe-fetch.js';

/**
 * Everything one OAuth call needs, however it was found: from an OAUTH2
 * provider's settings (and OIDC discovery), or from an MCP server's
 * discovery and client registration.
 */
export interface OAuthTarget {
  server: oauth.AuthorizationServer;
  clientId: string;
  clientSecret: string;
  clientAuthMethod: ClientAuthMethodName;
  authorizeParams: Record<string, string>;
  scopeSeparator: string;
  /** RFC 8707 resource indicator for the authorize URL (token requests carry it in tokenParams). */
  resource?: string;
  /** Extra parameters of token and refresh requests. */
  tokenParams: Record<string, string>;
  /** The fetch for token and refresh requests, which rewrites the answer to standard JSON (token-response.ts). */
  tokenFetch: (url: string, init: RequestInit) => Promise<Response>;
  /** The fetch for other calls (revocation); the global fetch when absent. MCP: the SSRF-safe one. */
  fetch?: FetchLike;
  /**
   * No issuer identifier is known (an OAUTH2 provider by endpoints without
   * expected_issuer): the RFC 9207 `iss` callback parameter cannot be
   * checked and is ignored rather than compared with an invented value.
   */
  issuerUnknown?: boolean;
  /** The server refuses PKCE (an OAUTH2 provider's `pkce: unsupported`): no code_challenge, no code_verifier. */
  noPkce?: boolean;
  /** Called when the token endpoint answers invalid_client (a registered client the server no longer knows). */
  onClientRejected?: () => Promise<void>;
}

/** Resolves the OAuth target of a provider type other than OAUTH2 (MCP). */
export interface OAuthTargetResolver {
  target(provider: ProviderRow, configuredSecret: string): Promise<OAuthTarget>;
}

import * as oauth from 'oauth4webapi';
import type { OAuth2Config, ProviderRow } from '../model/provider.js';
import { ProviderMisconfiguredError, ProviderUnavailableError, UrlNotAllowedError } from '../shared/errors.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import type { SafeFetch } from '../outbound/safe-fetch.js';
import { OAuthRejectedError, safeErrorCode } from './oauth-errors.js';
import type { OAuthTarget, OAuthTargetResolver } from './oauth-target.js';
import { ORIGINAL_TOKEN_TYPE, tokenResponseAdapter } from './token-response.js';
import type { TokenSet } from './token-set.js';
import { fillUrlTemplate } from './url-template.js';
import { systemClock, type Clock } from '../ports/clock.js';

/** Connection fields (pre-connect and post-OAuth) that fill the provider's URL templates. */
export type ConnectionFields = Record<string, unknown> | null | undefined;

export interface OAuthClientOptions {
  /** Upper bound on each call to an authorization server. */
  timeoutMs: number;
  /** Admit http:// endpoints (development and tests). */
  allowInsecureRequests: boolean;
  /** How long a discovery document is reused. */
  discoveryTtlMs?: number;
  /** Resolves MCP providers (discovery, client registration, resource indicator). */
  mcp?: OAuthTargetResolver;
  /** Which provider endpoints may be used at all (scheme, credentials, internal addresses). */
  policy: OutboundPolicy;
  /** The SSRF-safe fetch every call to an authorization server goes through. */
  fetch: SafeFetch;
  /** Token expiry (expires_in) and the discovery cache are measured on it (default: the system clock). */
  clock?: Clock | undefined;
}

interface CachedServer {
  server: oauth.AuthorizationServer;
  until: number;
}

/**
 * The OAuth 2.0 client side of Nexus, on oauth4webapi: discovery, the
 * authorization URL (PKCE S256 unless the provider refuses it), code exchange, refresh and RFC 7009
 * revocation. Every failure becomes either OAuthRejectedError (the server
 * said no) or ProviderUnavailableError (it could not answer), so callers can
 * tell a user problem from a transient one; an endpoint the outbound policy
 * refuses is UrlNotAllowedError (FAILED_PRECONDITION).
 *
 * Every call (discovery, token, refresh, revocation) goes through the
 * SSRF-safe fetch, and every endpoint, configured or discovered, must pass
 * the outbound policy before it is used or shown to a browser: https (http
 * only for NEXUS_OUTBOUND_ALLOWED_HOSTS outside production), no internal
 * address unless allow-listed. A client secret therefore never leaves for an
 * internal service, and a discovered `javascript:` authorization endpoint
 * never reaches a browser.
 */
export class OAuthClient {
  private readonly discovered = new Map<string, CachedServer>();

  private readonly now: Clock;

  constructor(private readonly options: OAuthClientOptions) {
    this.now = options.clock ?? systemClock;
  }

  async authorizationUrl(
    provider: ProviderRow,
    p: { redirectUri: string; scopes: string[]; state: string; codeChallenge: string; fields?: ConnectionFields },
  ): Promise<string> {
    const t = await this.target(provider, '', p.fields);
    const server = t.server;
    if (!server.authorization_endpoint) throw misconfigured('has no authorization endpoint');
    const url = new URL(server.authorization_endpoint);
    for (const [k, v] of Object.entries(t.authorizeParams)) url.searchParams.set(k, v);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', t.clientId);
    url.searchParams.set('redirect_uri', p.redirectUri);
    if (p.scopes.length > 0) url.searchParams.set('scope', p.scopes.join(t.scopeSeparator));
    if (t.resource) url.searchParams.set('resource', t.resource);
    url.searchParams.set('state', p.state);
    if (!t.noPkce) {
      url.searchParams.set('code_challenge', p.codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
    }
    return url.href;
  }

  /**
   * Resolves what the next call for this provider needs (MCP: discovery and
   * the registered client, which reads the database) ahead of a call made
   * while holding a row lock.
   */
  async prepare(provider: ProviderRow, clientSecret: string): Promise<void> {
    if (provider.authType === 'MCP') await this.target(provider, clientSecret);
  }

  /**
   * For an OpenID Connect provider (an OAUTH2 provider configured by its
   * issuer): the discovered metadata and client id that checking who
   * consented needs (see provider-identity.ts). Undefined otherwise.
   */
  async openIdTarget(provider: ProviderRow, fields?: ConnectionFields): Promise<{ server: oauth.AuthorizationServer; clientId: string } | undefined> {
    if (provider.authType !== 'OAUTH2' || !provider.oauth2?.issuer) return undefined;
    const t = await this.target(provider, '', fields);
    return { server: t.server, clientId: t.clientId };
  }

  /**
   * For an OAUTH2 provider that is not OpenID Connect but declares a
   * userinfo endpoint: that endpoint (template filled, outbound policy
   * passed) and where the subject and email are in its JSON (see
   * provider-identity.ts). Undefined otherwise.
   */
  async userinfoTarget(provider: ProviderRow, fields?: ConnectionFields): Promise<{ url: string; subjectPath: string; emailPath: string } | undefined> {
    if (provider.authType !== 'OAUTH2' || !provider.oauth2?.userinfoUrl || provider.oauth2.issuer) return undefined;
    const t = await this.target(provider, '', fields);
    const url = t.server.userinfo_endpoint;
    if (typeof url !== 'string') return undefined;
    const paths = provider.oauth2.userinfoPaths ?? {};
    return { url, subjectPath: paths.subject || 'sub', emailPath: paths.email || 'email' };
  }

  /** Exchanges the code from a callback whose state the caller has already verified. */
  async exchangeCode(
    provider: ProviderRow,
    clientSecret: string,
    p: { callbackParams: URLSearchParams; state: string; redirectUri: string; codeVerifier: string; fields?: ConnectionFields },
  ): Promise<TokenSet> {
    const t = await this.target(provider, clientSecret, p.fields);
    const server = t.server;
    const client: oauth.Client = { client_id: t.clientId };
    const params = this.authorizationResponse(t, p.callbackParams, p.state);
    return this.tokenCall(t, 'exchange the authorization code', async () => {
      const response = await oauth.authorizationCodeGrantRequest(
        server,
        client,
        clientAuth(t),
        params,
        p.redirectUri,
        t.noPkce ? oauth.nopkce : p.codeVerifier,
        this.tokenOptions(t),
      );
      return oauth.processAuthorizationCodeResponse(server, client, response);
    });
  }

  /**
   * The callback's parameters, checked: RFC 9207 `iss` against the issuer
   * (declared, discovered, or none known: then `iss` is ignored, never
   * compared with an invented issuer), then state and the server's error
   * (access_denied and the like pass through as the server's own code).
   */
  private authorizationResponse(t: OAuthTarget, callbackParams: URLSearchParams, state: string): URLSearchParams {
    const server = t.server;
    const given = new URLSearchParams(callbackParams);
    const iss = given.get('iss');
    if (t.issuerUnknown) given.delete('iss');
    else if (iss !== null && iss !== server.issuer) {
      throw new OAuthRejectedError('issuer_mismatch', 400, `the authorization response's iss is not the provider's issuer ${server.issuer} (RFC 9207)`);
    } else if (iss === null && server.authorization_response_iss_parameter_supported) {
      throw new OAuthRejectedError('issuer_missing', 400, `the authorization response lacks iss, which the issuer ${server.issuer} announces (RFC 9207)`);
    }
    try {
      return oauth.validateAuthResponse(server, { client_id: t.clientId }, given, state);
    } catch (err) {
      if (err instanceof oauth.AuthorizationResponseError) throw new OAuthRejectedError(safeErrorCode(err.error), 400);
      // oauth4webapi's messages name the failed check, never a value.
      throw new OAuthRejectedError('invalid_request', 400, `the authorization response is invalid: ${(err as Error).message}`);
    }
  }

  async refresh(provider: ProviderRow, clientSecret: string, refreshToken: string, fields?: ConnectionFields): Promise<TokenSet> {
    const t = await this.target(provider, clientSecret, fields);
    const server = t.server;
    const client: oauth.Client = { client_id: t.clientId };
    return this.tokenCall(t, 'refresh the token', async () => {
      const response = await oauth.refreshTokenGrantRequest(server, client, clientAuth(t), refreshToken, this.tokenOptions(t));
      return oauth.processRefreshTokenResponse(server, client, response);
    });
  }

  /** RFC 7009. Returns false when the provider has no revocation endpoint. */
  async revoke(
    provider: ProviderRow,
    clientSecret: string,
    token: string,
    hint: 'refresh_token' | 'access_token',
    fields?: ConnectionFields,
  ): Promise<boolean> {
    const t = await this.target(provider, clientSecret, fields);
    const server = t.server;
    if (!server.revocation_endpoint) return false;
    try {
      const response = await oauth.revocationRequest(server, { client_id: t.clientId }, clientAuth(t), token, {
        ...this.httpOptions(t),
        additionalParameters: { token_type_hint: hint },
      });
      await oauth.processRevocationResponse(response);
      return true;
    } catch (err) {
      throw this.classify('revoke the token', err);
    }
  }

  private async tokenCall(t: OAuthTarget, what: string, call: () => Promise<oauth.TokenEndpointResponse>): Promise<TokenSet> {
    let response: oauth.TokenEndpointResponse;
    try {
      response = await call();
    } catch (err) {
      const classified = this.classify(what, err);
      if (classified instanceof OAuthRejectedError && classified.error === 'invalid_client') await t.onClientRejected?.();
      throw classified;
    }
    return {
      accessToken: response.access_token,
      tokenType: typeof response[ORIGINAL_TOKEN_TYPE] === 'string' ? (response[ORIGINAL_TOKEN_TYPE] as string) : response.token_type,
      refreshToken: response.refresh_token,
      expiresAt: typeof response.expires_in === 'number' ? this.now() + response.expires_in * 1000 : undefined,
      scopes: typeof response.scope === 'string' ? response.scope.split(/[\s,]+/).filter(Boolean) : undefined,
      idToken: response.id_token,
    };
  }

  /** 4xx with an OAuth error body → rejected; anything else (5xx, timeout, garbage) → unavailable. */
  private classify(what: string, err: unknown): Error {
    if (err instanceof UrlNotAllowedError) return err.atUse();
    if (err instanceof oauth.ResponseBodyError && err.status >= 400 && err.status < 500) {
      return new OAuthRejectedError(safeErrorCode(err.error), err.status);
    }
    if (err instanceof ProviderUnavailableError || err instanceof ProviderMisconfiguredError) return err;
    const e = err as { name?: string; status?: number; code?: string };
    let detail = 'the response was not a valid token response';
    if (e.name === 'TimeoutError' || e.name === 'AbortError') detail = 'it timed out';
    else if (e instanceof oauth.ResponseBodyError || typeof e.status === 'number') detail = `HTTP ${e.status}`;
    else if (e.name === 'TypeError') detail = 'it could not be reached';
    else if (e.code === oauth.RESPONSE_IS_NOT_CONFORM && typeof (err as { cause?: Response }).cause?.status === 'number') {
      const status = (err as { cause: Response }).cause.status;
      // A 4xx without an OAuth error body is still the server refusing.
      if (status >= 400 && status < 500) return new OAuthRejectedError(`http_${status}`, status);
      detail = `HTTP ${status}`;
    }
    return new ProviderUnavailableError(what, detail);
  }

  /** Timeout, and the SSRF-safe fetch (the target's own when it has one). */
  private httpOptions(t?: OAuthTarget) {
    return {
      signal: () => AbortSignal.timeout(this.options.timeoutMs),
      [oauth.allowInsecureRequests]: this.options.allowInsecureRequests,
      [oauth.customFetch]: t?.fetch ?? this.options.fetch,
    };
  }

  /** Token requests: extra parameters (MCP: the resource), and the answer rewritten to standard JSON (see token-response.ts). */
  private tokenOptions(t: OAuthTarget) {
    return {
      ...this.httpOptions(t),
      [oauth.customFetch]: t.tokenFetch,
      ...(Object.keys(t.tokenParams).length ? { additionalParameters: t.tokenParams } : {}),
    };
  }

  /** Where and as whom an OAuth call goes: an OAUTH2 provider's own settings, or (MCP) what discovery found. */
  private async target(provider: ProviderRow, clientSecret: string, fields?: ConnectionFields): Promise<OAuthTarget> {
    if (provider.authType === 'MCP') {
      if (!this.options.mcp) throw misconfigured('is an MCP server, which this server is not set up for');
      return this.options.mcp.target(provider, clientSecret);
    }
    const cfg = oauth2Of(provider, fields);
    return {
      server: this.checkEndpoints(await this.server(cfg)),
      clientId: cfg.clientId,
      clientSecret,
      clientAuthMethod: cfg.clientAuthMethod,
      authorizeParams: cfg.authorizeParams,
      scopeSeparator: cfg.scopeSeparator,
      tokenParams: cfg.tokenParams ?? {},
      tokenFetch: tokenResponseAdapter(cfg, this.options.fetch),
      fetch: this.options.fetch,
      issuerUnknown: !cfg.issuer && !cfg.expectedIssuer,
      ...(cfg.pkce === 'unsupported' ? { noPkce: true } : {}),
    };
  }

  /**
   * Every endpoint of the server, configured (templates filled) or
   * discovered, passes the outbound policy. The authorization endpoint is
   * not fetched by Nexus but handed to a browser: it must be https (or
   * allow-listed http) like the rest, never `javascript:` or `data:`.
   */
  private checkEndpoints(server: oauth.AuthorizationServer): oauth.AuthorizationServer {
    for (const field of ['authorization_endpoint', 'token_endpoint', 'revocation_endpoint', 'userinfo_endpoint'] as const) {
      const value = server[field];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw new UrlNotAllowedError(field, 'is not a URL', 'failed_precondition');
      try {
        this.options.policy.checkUrl(value, field);
      } catch (err) {
        throw err instanceof UrlNotAllowedError ? err.atUse() : err;
      }
    }
    return server;
  }

  /** The authorization server: explicit endpoints, completed by discovery when an issuer is set. */
  private async server(cfg: OAuth2Config): Promise<oauth.AuthorizationServer> {
    if (!cfg.issuer) {
      return {
        // oauth4webapi needs an issuer identifier: the declared one, else a placeholder that is never compared (issuerUnknown).
        issuer: cfg.expectedIssuer ?? new URL(cfg.tokenUrl!).origin,
        authorization_endpoint: cfg.authorizationUrl,
        token_endpoint: cfg.tokenUrl,
        revocation_endpoint: cfg.revocationUrl,
        ...(cfg.userinfoUrl ? { userinfo_endpoint: cfg.userinfoUrl } : {}),
      };
    }
    const discovered = await this.discover(cfg.issuer);
    return {
      ...discovered,
      ...(cfg.authorizationUrl ? { authorization_endpoint: cfg.authorizationUrl } : {}),
      ...(cfg.tokenUrl ? { token_endpoint: cfg.tokenUrl } : {}),
      ...(cfg.revocationUrl ? { revocation_endpoint: cfg.revocationUrl } : {}),
      ...(cfg.userinfoUrl ? { userinfo_endpoint: cfg.userinfoUrl } : {}),
    };
  }

  private async discover(issuer: string): Promise<oauth.AuthorizationServer> {
    const cached = this.discovered.get(issuer);
    if (cached && cached.until > this.now()) return cached.server;
    const issuerUrl = new URL(issuer);
    let server: oauth.AuthorizationServer;
    try {
      const response = await oauth.discoveryRequest(issuerUrl, { algorithm: 'oidc', ...this.httpOptions() });
      server = await oauth.processDiscoveryResponse(issuerUrl, response);
    } catch (err) {
      if (err instanceof UrlNotAllowedError) throw err.atUse();
      const e = err as { name?: string };
      throw new ProviderUnavailableError('be discovered', e.name === 'TimeoutError' ? 'it timed out' : 'its OpenID configuration could not be read');
    }
    this.discovered.set(issuer, { server, until: this.now() + (this.options.discoveryTtlMs ?? 10 * 60_000) });
    return server;
  }
}

/** The provider's OAuth2 settings with its URL templates filled from the connection's fields. */
function oauth2Of(provider: ProviderRow, fields?: ConnectionFields): OAuth2Config {
  if (provider.authType !== 'OAUTH2' || !provider.oauth2) throw misconfigured('is not an OAUTH2 provider');
  const cfg = { ...provider.oauth2 };
  for (const key of ['authorizationUrl', 'tokenUrl', 'revocationUrl', 'userinfoUrl', 'issuer', 'expectedIssuer'] as const) {
    const template = cfg[key];
    if (template?.includes('{')) cfg[key] = fillUrlTemplate(`oauth2.${key}`, template, fields);
  }
  return cfg;
}

function clientAuth(t: OAuthTarget): oauth.ClientAuth {
  if (t.clientAuthMethod === 'none' || !t.clientSecret) return oauth.None();
  return t.clientAuthMethod === 'client_secret_post' ? oauth.ClientSecretPost(t.clientSecret) : oauth.ClientSecretBasic(t.clientSecret);
}

function misconfigured(problem: string): ProviderMisconfiguredError {
  return new ProviderMisconfiguredError(`the provider ${problem}`, 'failed_precondition');
}

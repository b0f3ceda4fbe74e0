import * as oauth from 'oauth4webapi';
import { McpDiscoveryFailedError, ProviderUnavailableError, UrlNotAllowedError } from '../shared/errors.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import { ResponseTooLargeError, type SafeFetch } from '../outbound/safe-fetch.js';
import { bearerChallengeParams } from './www-authenticate.js';
import { systemClock, type Clock } from '../ports/clock.js';

/** What discovery learns about an MCP server's authorization. */
export interface McpAuthorizationInfo {
  /** The RFC 8707 resource indicator: the server's canonical URL, as its metadata names it. */
  resource: string;
  /** Scopes the protected-resource metadata advertises (may be empty). */
  scopesSupported: string[];
  /** The authorization server's RFC 8414 / OpenID metadata, its endpoints checked against the outbound policy. */
  server: oauth.AuthorizationServer;
}

export interface McpDiscoveryOptions {
  policy: OutboundPolicy;
  fetch: SafeFetch;
  /** How long a result is reused (NEXUS_DISCOVERY_CACHE_SECONDS). */
  ttlMs: number;
  /** Most servers cached at once; the oldest entry goes first. */
  maxEntries?: number;
  allowInsecureRequests: boolean;
  /** Ages the cache; the system clock when unset. */
  clock?: Clock;
}

/**
 * OAuth discovery as the MCP authorization specification describes it:
 * 1. probe the server unauthenticated; a 401 whose `WWW-Authenticate: Bearer`
 *    challenge carries `resource_metadata` names the RFC 9728 metadata URL;
 *    otherwise the path-aware well-known URL
 *    (`/.well-known/oauth-protected-resource/<path>`), then the root one;
 * 2. the metadata's `resource` must be the server URL and
 *    `authorization_servers` must name at least one server;
 * 3. that server's metadata from RFC 8414 (path-aware) or OpenID discovery;
 *    PKCE S256 must be supported.
 * Every URL is fetched through the SSRF-safe fetch. Results are cached for
 * a bounded time in a bounded map. Failures are classified: a refused URL
 * (URL_NOT_ALLOWED), missing or malformed metadata (MCP_DISCOVERY_FAILED),
 * or a server that cannot answer (PROVIDER_UNAVAILABLE).
 */
export class McpDiscovery {
  private readonly cache = new Map<string, { info: McpAuthorizationInfo; until: number }>();

  private readonly clock: Clock;

  constructor(private readonly options: McpDiscoveryOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async discover(serverUrl: string): Promise<McpAuthorizationInfo> {
    const cached = this.cache.get(serverUrl);
    if (cached && cached.until > this.clock()) return cached.info;
    let info: McpAuthorizationInfo;
    try {
      info = await this.run(serverUrl);
    } catch (err) {
      throw classify(err);
    }
    this.remember(serverUrl, info);
    return info;
  }

  /** Drops a cached result, for example after its authorization server rejected our client. */
  forget(serverUrl: string): void {
    this.cache.delete(serverUrl);
  }

  private remember(serverUrl: string, info: McpAuthorizationInfo): void {
    this.cache.delete(serverUrl);
    const max = this.options.maxEntries ?? 256;
    while (this.cache.size >= max) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(serverUrl, { info, until: this.clock() + this.options.ttlMs });
  }

  private async run(serverUrl: string): Promise<McpAuthorizationInfo> {
    const server = this.options.policy.checkUrl(serverUrl, 'mcp.server_url');
    const metadata = await this.protectedResourceMetadata(server);
    const issuers = metadata.authorization_servers;
    if (!Array.isArray(issuers) || issuers.length === 0 || typeof issuers[0] !== 'string') {
      throw new McpDiscoveryFailedError('the protected-resource metadata names no authorization_servers');
    }
    const issuer = this.options.policy.checkUrl(issuers[0], 'authorization_servers');
    const as = await this.authorizationServer(issuer);
    const scopes = Array.isArray(metadata.scopes_supported) ? metadata.scopes_supported.filter((s) => typeof s === 'string') : [];
    return { resource: new URL(metadata.resource).href, scopesSupported: scopes, server: as };
  }

  private async protectedResourceMetadata(server: URL): Promise<oauth.ResourceServer> {
    const candidates: URL[] = [];
    const fromChallenge = await this.challengeMetadataUrl(server);
    if (fromChallenge) candidates.push(fromChallenge);
    const pathAware = new URL(server.href);
    pathAware.search = '';
    pathAware.pathname = `/.well-known/oauth-protected-resource${server.pathname === '/' ? '' : server.pathname}`;
    candidates.push(pathAware, new URL('/.well-known/oauth-protected-resource', server));
    let lastStatus = 0;
    for (const url of candidates) {
      const response = await this.options.fetch(this.options.policy.checkUrl(url.href, 'resource_metadata').href, {
        headers: { accept: 'application/json' },
      });
      if (response.status === 404 && url !== candidates[candidates.length - 1]) {
        lastStatus = 404;
        continue;
      }
      if (response.status >= 500) throw new ProviderUnavailableError('be discovered', `its protected-resource metadata answered HTTP ${response.status}`);
      if (response.status !== 200) {
        lastStatus = response.status;
        continue;
      }
      // RFC 9728 section 3.3: the metadata must be about exactly this resource.
      return oauth.processResourceDiscoveryResponse(server, response);
    }
    throw new McpDiscoveryFailedError(`the server publishes no protected-resource metadata (last answer HTTP ${lastStatus})`);
  }

  /** The `resource_metadata` of the server's 401 Bearer challenge, if it gives one. */
  private async challengeMetadataUrl(server: URL): Promise<URL | undefined> {
    const response = await this.options.fetch.head(server.href, {
      method: 'POST',
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
    });
    if (response.status >= 500) throw new ProviderUnavailableError('be discovered', `the MCP server answered HTTP ${response.status}`);
    if (response.status !== 401) return undefined;
    // No usable challenge: fall back to the well-known URLs.
    const value = bearerChallengeParams(response.headers.get('www-authenticate'))?.resource_metadata;
    if (!value) return undefined;
    try {
      return new URL(value, server);
    } catch {
      throw new McpDiscoveryFailedError('the WWW-Authenticate resource_metadata is not a URL');
    }
  }

  private async authorizationServer(issuer: URL): Promise<oauth.AuthorizationServer> {
    const http = {
      [oauth.customFetch]: this.options.fetch,
      [oauth.allowInsecureRequests]: this.options.allowInsecureRequests,
    };
    let as: oauth.AuthorizationServer | undefined;
    let lastError: unknown;
    for (const algorithm of ['oauth2', 'oidc'] as const) {
      const response = await oauth.discoveryRequest(issuer, { algorithm, ...http });
      if (response.status >= 500) throw new ProviderUnavailableError('be discovered', `its authorization server answered HTTP ${response.status}`);
      try {
        as = await oauth.processDiscoveryResponse(issuer, response);
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (!as) throw lastError;
    for (const field of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint'] as const) {
      const value = as[field];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw new McpDiscoveryFailedError(`the authorization server's ${field} is not a string`);
      this.options.policy.checkUrl(value, field);
    }
    if (!as.authorization_endpoint || !as.token_endpoint) {
      throw new McpDiscoveryFailedError('the authorization server metadata lacks authorization_endpoint or token_endpoint');
    }
    // The MCP specification: no advertised S256, no authorization.
    if (!Array.isArray(as.code_challenge_methods_supported) || !as.code_challenge_methods_supported.includes('S256')) {
      throw new McpDiscoveryFailedError('the authorization server does not advertise PKCE S256 (code_challenge_methods_supported)');
    }
    return as;
  }
}

/** Our own errors pass; oauth4webapi's and the network's become the three reasons callers can act on. */
export function classify(err: unknown): Error {
  if (err instanceof UrlNotAllowedError) return err.atUse();
  if (err instanceof McpDiscoveryFailedError || err instanceof ProviderUnavailableError) return err;
  if (err instanceof ResponseTooLargeError) return new McpDiscoveryFailedError(err.message);
  if (err instanceof oauth.OperationProcessingError) {
    const status = (err.cause as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number' && status >= 500) return new ProviderUnavailableError('be discovered', `HTTP ${status}`);
    return new McpDiscoveryFailedError(describe(err));
  }
  const e = err as { name?: string; code?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new ProviderUnavailableError('be discovered', 'it timed out');
  if (e?.code === 'ERR_INVALID_ARG_VALUE' || e?.code === 'ERR_INVALID_ARG_TYPE') return new McpDiscoveryFailedError('the metadata is malformed');
  if (e?.name === 'TypeError' || typeof e?.code === 'string') {
    return new ProviderUnavailableError('be discovered', 'it could not be reached');
  }
  return new McpDiscoveryFailedError('the metadata could not be read');
}

/** oauth4webapi's messages name the failing property and never include the body. */
function describe(err: oauth.OperationProcessingError): string {
  const message = err.message.replace(/"response"( body)?/g, 'the metadata').replace(/\s+/g, ' ');
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

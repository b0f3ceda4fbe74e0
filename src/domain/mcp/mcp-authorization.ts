import type { McpConfig, ProviderRow } from '../model/provider.js';
import { ProviderMisconfiguredError } from '../shared/errors.js';
import type { OAuthTarget, OAuthTargetResolver } from '../oauth/oauth-target.js';
import { tokenResponseAdapter } from '../oauth/token-response.js';
import type { FetchLike } from '../outbound/safe-fetch.js';
import type { McpClients } from './mcp-clients.js';
import type { McpDiscovery } from './mcp-discovery.js';
import { systemClock, type Clock } from '../ports/clock.js';

const RESOLVED_TTL_MS = 60_000;

/**
 * The OAuth target of an MCP provider: endpoints from discovery, the client
 * configured or registered, the server's resource indicator, and the
 * SSRF-safe fetch for every call.
 */
export class McpAuthorization implements OAuthTargetResolver {
  private readonly clock: Clock;

  /**
   * Resolved targets, briefly: a refresh or revocation runs inside a
   * transaction holding the connection's row lock, and must not need a
   * second database connection (the embedded database has one) to read the
   * registered client. The caller resolves first (OAuthClient.prepare); the
   * call under the lock finds the result here.
   */
  private readonly resolved = new Map<string, { target: OAuthTarget; until: number; version: number }>();

  constructor(private readonly deps: { discovery: McpDiscovery; clients: McpClients; fetch: FetchLike; redirectUri: string; clock?: Clock }) {
    this.clock = deps.clock ?? systemClock;
  }

  async target(provider: ProviderRow, configuredSecret: string): Promise<OAuthTarget> {
    if (provider.authType !== 'MCP' || !provider.mcp) {
      throw new ProviderMisconfiguredError('the provider is not an MCP provider', 'failed_precondition');
    }
    const hit = this.resolved.get(provider.id);
    if (hit && hit.until > this.clock() && hit.version === provider.updatedAt.getTime()) return hit.target;
    const target = await this.resolve(provider, provider.mcp, configuredSecret);
    if (this.resolved.size >= 1024) this.resolved.delete(this.resolved.keys().next().value!);
    this.resolved.set(provider.id, { target, until: this.clock() + RESOLVED_TTL_MS, version: provider.updatedAt.getTime() });
    return target;
  }

  private async resolve(provider: ProviderRow, mcp: McpConfig, configuredSecret: string): Promise<OAuthTarget> {
    const info = await this.deps.discovery.discover(mcp.serverUrl);
    const client = await this.deps.clients.clientFor(provider, configuredSecret, info.server, this.deps.redirectUri);
    const registrationId = client.registrationId;
    const serverUrl = mcp.serverUrl;
    return {
      server: info.server,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      clientAuthMethod: client.authMethod,
      authorizeParams: {},
      scopeSeparator: ' ',
      resource: info.resource,
      tokenParams: { resource: info.resource },
      // Standard JSON answers; an ID token is dropped (no issuer keys are checked for MCP servers).
      tokenFetch: tokenResponseAdapter(
        { clientId: client.clientId, defaultScopes: [], scopeSeparator: ' ', authorizeParams: {}, clientAuthMethod: client.authMethod },
        this.deps.fetch,
      ),
      fetch: this.deps.fetch,
      onClientRejected: registrationId
        ? async () => {
            this.resolved.delete(provider.id);
            this.deps.discovery.forget(serverUrl);
            // Not awaited: a refresh calls this under a row lock, and the delete needs its own connection.
            void this.deps.clients.forget(provider.projectId, registrationId).catch(() => undefined);
          }
        : undefined,
    };
  }
}

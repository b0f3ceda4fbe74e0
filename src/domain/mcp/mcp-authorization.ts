import type { ProviderRow } from '../../storage/entities/provider.js';
import { ProviderMisconfiguredError } from '../errors.js';
import type { OAuthTarget, OAuthTargetResolver } from '../oauth/oauth-target.js';
import { tokenResponseAdapter } from '../oauth/token-response.js';
import type { FetchLike } from '../outbound/safe-fetch.js';
import type { McpClients } from './mcp-clients.js';
import type { McpDiscovery } from './mcp-discovery.js';

/**
 * The OAuth target of an MCP provider: endpoints from discovery, the client
 * configured or registered, the server's resource indicator, and the
 * SSRF-safe fetch for every call.
 */
export class McpAuthorization implements OAuthTargetResolver {
  constructor(
    private readonly deps: { discovery: McpDiscovery; clients: McpClients; fetch: FetchLike; redirectUri: string },
  ) {}

  async target(provider: ProviderRow, configuredSecret: string): Promise<OAuthTarget> {
    if (provider.authType !== 'MCP' || !provider.mcp) {
      throw new ProviderMisconfiguredError('the provider is not an MCP provider', 'failed_precondition');
    }
    const info = await this.deps.discovery.discover(provider.mcp.serverUrl);
    const client = await this.deps.clients.clientFor(provider, configuredSecret, info.server, this.deps.redirectUri);
    const registrationId = client.registrationId;
    const serverUrl = provider.mcp.serverUrl;
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
            await this.deps.clients.forget(provider.projectId, registrationId);
            this.deps.discovery.forget(serverUrl);
          }
        : undefined,
    };
  }
}

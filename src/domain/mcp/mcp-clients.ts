import * as oauth from 'oauth4webapi';
import { newId, open as openSealed, seal, type KeyRing } from '../../crypto/index.js';
import type { OAuthClientRegistrationRow } from '../model/oauth-client-registration.js';
import type { ClientAuthMethodName, ProviderRow } from '../model/provider.js';
import { McpDiscoveryFailedError, ProviderUnavailableError } from '../shared/errors.js';
import { safeErrorCode } from '../oauth/oauth-errors.js';
import type { SafeFetch } from '../outbound/safe-fetch.js';
import { classify } from './mcp-discovery.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence } from '../ports/persistence.js';
import { registrationSecretAad } from '../keys/sealed-secrets.js';

/** The OAuth client Nexus uses at an MCP server's authorization server. */
export interface McpClient {
  clientId: string;
  clientSecret: string;
  authMethod: ClientAuthMethodName;
  /** Set when the client was registered dynamically: the row to drop if the server rejects it. */
  registrationId?: string;
}

/**
 * The client for an MCP provider: the one an admin configured, or one
 * registered dynamically (RFC 7591) on first use, stored (secret sealed)
 * and reused by every later connection. Registration runs under the
 * provider's row lock, so concurrent first connections register once.
 * A registration whose secret has expired, or that the authorization
 * server rejected (invalid_client), is replaced on next use.
 */
export class McpClients {
  /** Registrations the server rejected, known at once even before their row is deleted. */
  private readonly rejected = new Set<string>();

  constructor(
    private readonly deps: {
      store: Persistence;
      keyRing: KeyRing;
      fetch: SafeFetch;
      allowInsecureRequests: boolean;
      /** The client_name sent at registration. */
      clientName: string;
      /** Decides when a registered secret has expired; the system clock when unset. */
      clock?: Clock;
    },
  ) {}

  async clientFor(provider: ProviderRow, configuredSecret: string, as: oauth.AuthorizationServer, redirectUri: string): Promise<McpClient> {
    if (provider.mcp?.clientId) {
      return { clientId: provider.mcp.clientId, clientSecret: configuredSecret, authMethod: pickAuthMethod(as, Boolean(configuredSecret)) };
    }
    const key = { projectId: provider.projectId, providerId: provider.id, issuer: as.issuer, redirectUri };
    const existing = await this.deps.store.clientRegistrations.find(key);
    if (existing && this.usable(existing)) return this.toClient(existing);
    return this.deps.store.transaction(async (tx) => {
      // Serialize registrations per provider; whoever waited finds the winner's client.
      await this.deps.store.providers.lockById(provider.projectId, provider.id, tx);
      const current = await this.deps.store.clientRegistrations.find(key, tx);
      if (current && this.usable(current)) return this.toClient(current);
      if (current) await this.deps.store.clientRegistrations.delete(current.projectId, current.id, tx);
      const registered = await this.register(as, redirectUri);
      const id = newId('ocr');
      const row = await this.deps.store.clientRegistrations.insert(
        {
          id,
          ...key,
          clientId: registered.clientId,
          clientSecretSealed: registered.clientSecret ? seal(this.deps.keyRing, registered.clientSecret, registrationSecretAad(id)) : null,
          clientSecretExpiresAt: registered.expiresAt,
          tokenEndpointAuthMethod: registered.authMethod,
        },
        tx,
      );
      return this.toClient(row);
    });
  }

  /** The authorization server said invalid_client: register again next time. */
  async forget(projectId: string, registrationId: string): Promise<void> {
    this.rejected.add(registrationId);
    await this.deps.store.clientRegistrations.delete(projectId, registrationId);
  }

  /** Reused until rejected or until its secret expires (with a minute of margin). */
  private usable(row: OAuthClientRegistrationRow): boolean {
    if (this.rejected.has(row.id)) return false;
    return !row.clientSecretExpiresAt || row.clientSecretExpiresAt.getTime() - 60_000 > (this.deps.clock ?? systemClock)();
  }

  private toClient(row: OAuthClientRegistrationRow): McpClient {
    const secret = row.clientSecretSealed ? openSealed(this.deps.keyRing, row.clientSecretSealed, registrationSecretAad(row.id)).toString('utf8') : '';
    return { clientId: row.clientId, clientSecret: secret, authMethod: row.tokenEndpointAuthMethod, registrationId: row.id };
  }

  private async register(
    as: oauth.AuthorizationServer,
    redirectUri: string,
  ): Promise<{ clientId: string; clientSecret: string; expiresAt: Date | null; authMethod: ClientAuthMethodName }> {
    if (!as.registration_endpoint) {
      throw new McpDiscoveryFailedError('the authorization server supports no dynamic client registration; configure mcp.client_id on the provider');
    }
    const authMethod = pickAuthMethod(as, true);
    let client: Awaited<ReturnType<typeof oauth.processDynamicClientRegistrationResponse>>;
    try {
      const response = await oauth.dynamicClientRegistrationRequest(
        as,
        {
          client_name: this.deps.clientName,
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: authMethod,
        },
        { [oauth.customFetch]: this.deps.fetch, [oauth.allowInsecureRequests]: this.deps.allowInsecureRequests },
      );
      client = await oauth.processDynamicClientRegistrationResponse(response);
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) {
        if (err.status >= 500) throw new ProviderUnavailableError('register a client', `HTTP ${err.status}`);
        throw new McpDiscoveryFailedError(`dynamic client registration was refused (${safeErrorCode(err.error)})`);
      }
      const classified = classify(err);
      throw classified instanceof McpDiscoveryFailedError
        ? new McpDiscoveryFailedError(`the client registration response is malformed: ${classified.message.replace(/^MCP OAuth discovery failed: /, '')}`)
        : classified;
    }
    if (typeof client.client_id !== 'string' || !client.client_id) throw new McpDiscoveryFailedError('the registration response has no client_id');
    const secret = typeof client.client_secret === 'string' ? client.client_secret : '';
    const expires =
      typeof client.client_secret_expires_at === 'number' && client.client_secret_expires_at > 0 ? new Date(client.client_secret_expires_at * 1000) : null;
    const granted = client.token_endpoint_auth_method;
    const method: ClientAuthMethodName = !secret ? 'none' : granted === 'client_secret_basic' || granted === 'client_secret_post' ? granted : authMethod;
    return { clientId: client.client_id, clientSecret: secret, expiresAt: expires, authMethod: method };
  }
}

/** client_secret_basic unless the server lists methods without it (RFC 8414's default is basic). */
function pickAuthMethod(as: oauth.AuthorizationServer, hasSecret: boolean): ClientAuthMethodName {
  if (!hasSecret) return 'none';
  const supported = as.token_endpoint_auth_methods_supported;
  if (!Array.isArray(supported) || supported.includes('client_secret_basic')) return 'client_secret_basic';
  if (supported.includes('client_secret_post')) return 'client_secret_post';
  return supported.includes('none') ? 'none' : 'client_secret_basic';
}

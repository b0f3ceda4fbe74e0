import type { KeyRing } from '../../crypto/index.js';
import type { ConnectionRow } from '../model/connection.js';
import type { ProviderRow } from '../model/provider.js';
import { checkConnectionId } from '../connections/connection-id.js';
import { openCredentials } from '../connections/sealed-credentials.js';
import { ConnectionNotFoundError, echo, InvalidFieldError, ProxyNotConfiguredError, StaticCredentialError } from '../shared/errors.js';
import { isMcpBearer, type McpBearerCredential } from '../mcp/mcp-bearer.js';
import type { TokenSet } from '../oauth/token-set.js';
import type { Principal } from '../shared/principal.js';
import { requireOwnRow } from '../shared/workspace-scope.js';
import { fillUrlTemplate } from '../oauth/url-template.js';
import type { IssuedCredential } from '../model/issued-credential.js';
import type { Refresher } from './refresher.js';
import { isFresh, usabilityError } from './refresh-decision.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { staticCredential } from './static-credentials.js';
import type { TokenCache } from './token-cache.js';
import type { Persistence, Tx } from '../ports/persistence.js';

export const DEFAULT_MIN_REMAINING_MS = 60_000;
export const MAX_MIN_REMAINING_MS = 3_600_000;

export interface TokenServiceDeps {
  store: Persistence;
  keyRing: KeyRing;
  /** The one refresh path, shared with the background worker. */
  refresher: Refresher;
  /** Opened credentials kept per process; invalidated by connection events (see TokenCache). */
  cache?: TokenCache;
  /** Expiry checks read the time here (default: the system clock). */
  clock?: Clock | undefined;
}

/**
 * Hands out credentials and refreshes OAuth tokens on demand, through the
 * Refresher (refresher.ts): concurrent callers in this process share one
 * refresh, and across replicas a write-ahead lease on the row makes sure one
 * attempt runs while the others wait for its result.
 */
export class TokenService {
  private readonly now: Clock;

  constructor(private readonly deps: TokenServiceDeps) {
    this.now = deps.clock ?? systemClock;
  }

  async getToken(caller: Principal, connectionId: string, minRemainingMs: number | undefined): Promise<IssuedCredential> {
    const margin = checkMargin(minRemainingMs);
    checkConnectionId('connection_id', connectionId);
    const { cache } = this.deps;
    // A user token must pass the workspace check in readToken first: no cache hits for it.
    const cached = caller.user ? undefined : cache?.get(caller.projectId, connectionId, margin, this.now());
    if (cached) return cached;
    const mark = cache?.mark() ?? 0;
    const credential = await this.readToken(caller, connectionId, margin);
    cache?.set(caller.projectId, connectionId, credential, mark, this.now());
    return credential;
  }

  private async readToken(caller: Principal, connectionId: string, margin: number): Promise<IssuedCredential> {
    const { connection, provider } = await this.requireUsable(caller, connectionId);
    if (provider.authType !== 'OAUTH2' && provider.authType !== 'MCP') {
      return staticCredential(provider, openCredentials(this.deps.keyRing, connection));
    }
    const tokens = openCredentials<TokenSet | McpBearerCredential>(this.deps.keyRing, connection);
    if (isMcpBearer(tokens)) return { type: 'bearer', token: tokens.mcpBearerToken, extra: {} };
    if (isFresh(tokens, margin, this.now())) return issued(tokens);
    return issued(await this.refresh(connection, margin, false));
  }

  async refreshToken(caller: Principal, connectionId: string): Promise<IssuedCredential> {
    const { connection, provider } = await this.requireUsable(caller, connectionId);
    if (provider.authType !== 'OAUTH2' && provider.authType !== 'MCP') throw new StaticCredentialError(connection.id);
    if (provider.authType === 'MCP' && isMcpBearer(openCredentials(this.deps.keyRing, connection))) {
      throw new StaticCredentialError(connection.id);
    }
    // The cached token is the one being replaced; later GetTokens must not see it.
    this.deps.cache?.invalidate(connection.id);
    const mark = this.deps.cache?.mark() ?? 0;
    const credential = issued(await this.refresh(connection, 0, true));
    this.deps.cache?.set(caller.projectId, connection.id, credential, mark, this.now());
    return credential;
  }

  /**
   * The proxy's view of a connection: its credential (as GetToken gives it,
   * or freshly refreshed when `force`, after the provider refused the last
   * one) and where its provider's API is (api_base_url with the
   * connection's fields filled in). Same checks as GetToken: the caller's
   * own project and workspace, a usable connection.
   */
  async forProxy(caller: Principal, connectionId: string, force: boolean): Promise<{ credential: IssuedCredential; apiBaseUrl: string; refreshable: boolean }> {
    const { connection, provider } = await this.requireUsable(caller, connectionId);
    if (!provider.apiBaseUrl) throw new ProxyNotConfiguredError(provider.name);
    const apiBaseUrl = provider.apiBaseUrl.includes('{') ? fillUrlTemplate('api_base_url', provider.apiBaseUrl, connection.fields) : provider.apiBaseUrl;
    const refreshable = provider.authType === 'OAUTH2';
    const credential = force && refreshable ? await this.refreshToken(caller, connectionId) : await this.getToken(caller, connectionId, undefined);
    return { credential, apiBaseUrl, refreshable };
  }

  private async refresh(connection: ConnectionRow, margin: number, force: boolean): Promise<TokenSet> {
    try {
      return await this.deps.refresher.refresh(connection, margin, force);
    } catch (err) {
      // The connection may now need attention: no caller here gets its old token from the cache either.
      this.deps.cache?.invalidate(connection.id);
      throw err;
    }
  }

  /** The connection (the caller's own, usable) and its provider, read together (a connection always has one: ON DELETE CASCADE). */
  private async requireUsable(caller: Principal, id: string): Promise<{ connection: ConnectionRow; provider: ProviderRow }> {
    checkConnectionId('connection_id', id);
    const found = await this.deps.store.connections.findWithProvider(caller.projectId, id);
    const row = requireOwnRow(caller, found?.connection ?? null, `connection "${echo(id)}"`);
    if (!row || !found) throw new ConnectionNotFoundError(id);
    const unusable = usabilityError(row);
    if (unusable) throw unusable;
    return found;
  }
}

function checkMargin(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_MIN_REMAINING_MS;
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MIN_REMAINING_MS) {
    throw new InvalidFieldError('min_remaining', 'must be between 0 and 1 hour');
  }
  return ms;
}

function issued(tokens: TokenSet): IssuedCredential {
  return {
    type: 'oauth2',
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    scopes: tokens.scopes ?? [],
    expiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : undefined,
  };
}

import type { KeyRing } from '../../crypto/index.js';
import type { Tx } from '../../storage/data-source.js';
import type { ConnectionRow } from '../../storage/entities/connection.js';
import type { ProviderRow } from '../../storage/entities/provider.js';
import type { Store } from '../../storage/store.js';
import { checkConnectionId } from '../connections/connection-id.js';
import { openCredentials, sealCredentials } from '../connections/sealed-credentials.js';
import {
  AttentionRequiredError,
  ConnectionNotActiveError,
  ConnectionNotFoundError,
  InvalidFieldError,
  StaticCredentialError,
} from '../errors.js';
import type { ConnectionEvents } from '../connections/connection-events.js';
import type { OAuthClient } from '../oauth/oauth-client.js';
import { OAuthRejectedError } from '../oauth/oauth-errors.js';
import type { TokenSet } from '../oauth/token-set.js';
import type { Principal } from '../principal.js';
import { requireOwnRow } from '../workspace-scope.js';
import type { ProviderService } from '../providers/provider-service.js';
import type { IssuedCredential } from './issued-credential.js';
import { NO_OBSERVER, type RefreshObserver } from './refresh-observer.js';
import { SingleFlight } from './single-flight.js';
import { staticCredential } from './static-credentials.js';
import type { TokenCache } from './token-cache.js';

export const DEFAULT_MIN_REMAINING_MS = 60_000;
export const MAX_MIN_REMAINING_MS = 3_600_000;

export interface TokenServiceDeps {
  store: Store;
  keyRing: KeyRing;
  providers: ProviderService;
  oauth: OAuthClient;
  /** Told the outcome of every refresh attempt (metrics). */
  observer?: RefreshObserver;
  /** Opened credentials kept per process; invalidated by connection events (see TokenCache). */
  cache?: TokenCache;
  /** Refreshes and rejections are published in their transaction (WatchConnection(s)). */
  events: ConnectionEvents;
}

type RefreshOutcome = { ok: true; tokens: TokenSet } | { ok: false; error: Error };

/**
 * Hands out credentials and refreshes OAuth tokens on demand.
 *
 * A refresh token is used at most once: concurrent callers in this process
 * share one refresh (SingleFlight); across processes the refresh runs under
 * a row lock and re-reads the row after acquiring it, so a second process
 * finds the token already fresh and returns it instead of refreshing again.
 */
export class TokenService {
  private readonly flights = new SingleFlight<RefreshOutcome>();

  constructor(private readonly deps: TokenServiceDeps) {}

  async getToken(caller: Principal, connectionId: string, minRemainingMs: number | undefined): Promise<IssuedCredential> {
    const margin = checkMargin(minRemainingMs);
    checkConnectionId('connection_id', connectionId);
    const { cache } = this.deps;
    // A user token must pass the workspace check in readToken first: no cache hits for it.
    const cached = caller.user ? undefined : cache?.get(caller.projectId, connectionId, margin);
    if (cached) return cached;
    const mark = cache?.mark() ?? 0;
    const credential = await this.readToken(caller, connectionId, margin);
    cache?.set(caller.projectId, connectionId, credential, mark);
    return credential;
  }

  private async readToken(caller: Principal, connectionId: string, margin: number): Promise<IssuedCredential> {
    const connection = await this.requireUsable(caller, connectionId);
    const provider = await this.deps.providers.require(caller.projectId, connection.providerId);
    if (provider.authType !== 'OAUTH2') {
      return staticCredential(provider, openCredentials(this.deps.keyRing, connection));
    }
    const tokens = openCredentials<TokenSet>(this.deps.keyRing, connection);
    if (isFresh(tokens, margin)) return issued(tokens);
    return issued(await this.refresh(connection, provider, margin, false));
  }

  async refreshToken(caller: Principal, connectionId: string): Promise<IssuedCredential> {
    const connection = await this.requireUsable(caller, connectionId);
    const provider = await this.deps.providers.require(caller.projectId, connection.providerId);
    if (provider.authType !== 'OAUTH2') throw new StaticCredentialError(connection.id);
    // The cached token is the one being replaced; later GetTokens must not see it.
    this.deps.cache?.invalidate(connection.id);
    const mark = this.deps.cache?.mark() ?? 0;
    const credential = issued(await this.refresh(connection, provider, 0, true));
    this.deps.cache?.set(caller.projectId, connection.id, credential, mark);
    return credential;
  }

  private async refresh(connection: ConnectionRow, provider: ProviderRow, margin: number, force: boolean): Promise<TokenSet> {
    const outcome = await this.flights.run(connection.id, () => this.refreshLocked(connection, provider, margin, force));
    if (!outcome.ok) {
      // The connection may now need attention: no caller here gets its old token from the cache either.
      this.deps.cache?.invalidate(connection.id);
      throw outcome.error;
    }
    return outcome.tokens;
  }

  /**
   * Runs inside a transaction holding the connection's row lock. A rejection
   * is committed (ATTENTION_REQUIRED) and then reported; an unavailable
   * provider rolls back, leaving the status as it was.
   */
  private async refreshLocked(connection: ConnectionRow, provider: ProviderRow, margin: number, force: boolean): Promise<RefreshOutcome> {
    const { store, keyRing, oauth, providers, events } = this.deps;
    const observer = this.deps.observer ?? NO_OBSERVER;
    const publish = (tx: Tx, type: 'ATTENTION_REQUIRED' | 'REFRESHED', row: ConnectionRow) =>
      events.publish(tx, type, { ...row, providerName: provider.name });
    return store.transaction(async (tx) => {
      const locked = await store.connections.findByIdForUpdate(connection.projectId, connection.id, tx);
      if (!locked) return { ok: false, error: new ConnectionNotFoundError(connection.id) };
      const unusable = usabilityError(locked);
      if (unusable) return { ok: false, error: unusable };
      const current = openCredentials<TokenSet>(keyRing, locked);
      // Another caller (or replica) may have refreshed while we waited for the lock.
      if (!force && isFresh(current, margin)) return { ok: true, tokens: current };
      if (force && locked.updatedAt.getTime() > connection.updatedAt.getTime()) return { ok: true, tokens: current };
      if (!current.refreshToken) {
        // Nothing to refresh with: hand out what is left, and once it has
        // expired only the user can fix it by reconnecting.
        if (current.expiresAt === undefined || current.expiresAt > Date.now()) return { ok: true, tokens: current };
        observer.refreshed('no_refresh_token', 'on_demand', 0);
        const row = await store.connections.update(locked.projectId, locked.id, { status: 'ATTENTION_REQUIRED', statusReason: 'no_refresh_token' }, tx);
        await publish(tx, 'ATTENTION_REQUIRED', row);
        return { ok: false, error: new AttentionRequiredError(locked.id) };
      }

      let fresh: TokenSet;
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        fresh = await oauth.refresh(provider, providers.clientSecret(provider), current.refreshToken, locked.fields);
      } catch (err) {
        observer.refreshed(err instanceof OAuthRejectedError ? 'rejected' : 'transient_failure', 'on_demand', seconds());
        if (err instanceof OAuthRejectedError) {
          const row = await store.connections.update(
            locked.projectId,
            locked.id,
            { status: 'ATTENTION_REQUIRED', statusReason: err.error },
            tx,
          );
          await publish(tx, 'ATTENTION_REQUIRED', row);
          return { ok: false, error: new AttentionRequiredError(locked.id) };
        }
        throw err; // unavailable: the transaction rolls back, nothing changes
      }
      observer.refreshed('success', 'on_demand', seconds());
      // A provider that does not rotate refresh tokens returns none: keep the old one.
      const merged: TokenSet = { ...fresh, refreshToken: fresh.refreshToken ?? current.refreshToken, scopes: fresh.scopes ?? current.scopes };
      const row = await store.connections.update(
        locked.projectId,
        locked.id,
        {
          credentialsSealed: sealCredentials(keyRing, locked.id, merged),
          tokenExpiresAt: merged.expiresAt ? new Date(merged.expiresAt) : null,
        },
        tx,
      );
      await publish(tx, 'REFRESHED', row);
      return { ok: true, tokens: merged };
    });
  }

  private async requireUsable(caller: Principal, id: string): Promise<ConnectionRow> {
    checkConnectionId('connection_id', id);
    const row = requireOwnRow(caller, await this.deps.store.connections.findById(caller.projectId, id), `connection "${id}"`);
    if (!row) throw new ConnectionNotFoundError(id);
    const unusable = usabilityError(row);
    if (unusable) throw unusable;
    return row;
  }
}

function usabilityError(row: ConnectionRow): Error | undefined {
  if (row.status === 'ATTENTION_REQUIRED') return new AttentionRequiredError(row.id);
  if (row.status !== 'ACTIVE' || !row.credentialsSealed) return new ConnectionNotActiveError(row.id, row.status);
  return undefined;
}

function isFresh(tokens: TokenSet, marginMs: number): boolean {
  return tokens.expiresAt === undefined || tokens.expiresAt - Date.now() > marginMs;
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

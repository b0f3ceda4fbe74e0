import { newId, open as openSealed, pkceChallengeS256, pkceVerifier, seal, type KeyRing } from '../../crypto/index.js';
import type { ConnectionRow, ConnectionStatusName, ConnectionView } from '../model/connection.js';
import type { ProviderRow } from '../model/provider.js';
import { defaultCredentialSchema, validateAgainst } from '../providers/credential-schema.js';
import {
  ConnectionNotFoundError,
  echo,
  InvalidFieldError,
  NoPendingFieldsError,
  ProviderDisabledError,
  ScopesInvalidError,
  StateAlreadyUsedError,
  UrlNotAllowedError,
} from '../shared/errors.js';
import { checkMcpBearerToken, isMcpBearer, type McpBearerCredential } from '../mcp/mcp-bearer.js';
import { OAuthClient } from '../oauth/oauth-client.js';
import { OAuthRejectedError } from '../oauth/oauth-errors.js';
import type { TokenSet } from '../oauth/token-set.js';
import { IdentityInvalidError, type ProviderIdentities, type ProviderIdentity } from '../oauth/provider-identity.js';
import { decodePageToken, encodePageToken, pageSize } from '../shared/page-token.js';
import type { Principal } from '../shared/principal.js';
import { requireOwnRow, workspaceFor } from '../shared/workspace-scope.js';
import type { ProviderService } from '../providers/provider-service.js';
import { scope as checkScope } from '../providers/provider-validation.js';
import type { UrlAllowList } from '../shared/url-allow-list.js';
import { checkConnectionId } from './connection-id.js';
import type { ConnectionEvents } from './connection-events.js';
import { returnUrlWith } from './connection-urls.js';
import { codeVerifierAad } from '../keys/sealed-secrets.js';
import { ConsentLinks, newSecret, type BindingCookie, type CookieReader } from './consent-links.js';
import { openCredentials, sealCredentials } from './sealed-credentials.js';
import { STATE_TTL_SECONDS, StateTokens } from './state-tokens.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence, Tx } from '../ports/persistence.js';

export interface CreateConnectionInput {
  workspaceId: string;
  providerId: string;
  providerName: string;
  scopes: string[];
  returnUrl: string;
  /** Values for the provider's connection_fields_schema; undefined when none were sent. */
  fields?: Record<string, unknown> | undefined;
  /** MCP only: a bearer token the user already has; the connection is ACTIVE at once. */
  mcpBearerToken?: string;
}

/** Where the callback sends the browser: the app's return_url, or an error page when it cannot be trusted. */
export type CallbackOutcome = { redirectUrl: string; connection: ConnectionView /** The spent binding cookie, to clear. */; bindingCookie: string };

export interface CreatedConnection {
  connection: ConnectionView;
  authUrl: string;
  state: string;
  /** Set for a flow started by a web session: the cookie that binds it to that browser (the handler sets it). */
  bindingCookie?: BindingCookie;
}

export interface ConnectionServiceDeps {
  store: Persistence;
  keyRing: KeyRing;
  providers: ProviderService;
  oauth: OAuthClient;
  /** Reads who consented (OIDC sub/email) after the code exchange; unset: nothing is recorded. */
  identities?: ProviderIdentities;
  /** Every status change is published in its own transaction (WatchConnection(s)). */
  events: ConnectionEvents;
  /** The return URLs the caller's project accepts (its own list, else the installation's). */
  returnUrls: (projectId: string) => Promise<UrlAllowList>;
  /** Public base URL; the OAuth redirect URI is BASE_URL/oauth/callback. */
  baseUrl: string;
  /** Best-effort failures that must not fail the caller (revocation at the provider). */
  warn: (message: string, context: Record<string, unknown>) => void;
  /** State, consent-link and credential expiry are decided by it; the system clock when unset. */
  clock?: Clock;
}

const FIELDS_REQUIRED = 'fields_required';

/**
 * The connection life cycle: start (OAuth consent or static capture), the
 * OAuth callback, post-OAuth fields, reads and deletion. Every read and
 * write is scoped by the caller's project.
 */
export class ConnectionService {
  private readonly state: StateTokens;
  readonly consent: ConsentLinks;

  private readonly clock: Clock;

  constructor(private readonly deps: ConnectionServiceDeps) {
    this.clock = deps.clock ?? systemClock;
    this.state = new StateTokens(deps.store, deps.keyRing, this.clock);
    this.consent = new ConsentLinks(deps.store, deps.providers, deps.baseUrl, this.clock);
  }

  get redirectUri(): string {
    return `${this.deps.baseUrl}/oauth/callback`;
  }

  async create(caller: Principal, input: CreateConnectionInput): Promise<CreatedConnection> {
    const workspaceId = checkWorkspaceId(workspaceFor(caller, input.workspaceId));
    const bearer = input.mcpBearerToken ? checkMcpBearerToken(input.mcpBearerToken) : '';
    // No browser round trip with a bearer token, so nowhere to return to.
    if (!input.returnUrl && !bearer) throw new InvalidFieldError('return_url', 'is required');
    if (input.returnUrl) (await this.deps.returnUrls(caller.projectId)).check(input.returnUrl);
    const ref = input.providerId || input.providerName;
    if (!ref) throw new InvalidFieldError('provider', 'provider_id or provider_name is required');
    const provider = await this.deps.providers.require(caller.projectId, ref);
    if (!provider.enabled) throw new ProviderDisabledError(provider.name);
    if (bearer) {
      if (provider.authType !== 'MCP') throw new InvalidFieldError('mcp_bearer_token', 'applies to MCP providers only');
      return this.createWithBearer(caller, workspaceId, provider, bearer, input.returnUrl);
    }
    if (input.scopes.length > 100) throw new ScopesInvalidError('at most 100 scopes');
    for (const s of input.scopes) {
      try {
        checkScope('scopes', s);
      } catch {
        throw new ScopesInvalidError('each scope must be 1-256 printable characters without spaces');
      }
    }
    const fields = connectionFields(provider, input.fields);
    const oauth2 = provider.authType === 'OAUTH2' || provider.authType === 'MCP';
    const defaults = provider.oauth2?.defaultScopes ?? provider.mcp?.defaultScopes ?? [];
    const scopes = oauth2 ? (input.scopes.length ? [...new Set(input.scopes)] : defaults) : [];

    const connectionId = newId('conn');
    const stateId = newId('st');
    const kind = oauth2 ? 'oauth' : 'capture';
    const state = await this.state.sign({ jti: stateId, sub: connectionId, prj: caller.projectId, kind });
    let authUrl: string;
    let providerUrl: string | null = null;
    let verifier: string | undefined;
    // OAuth: the person confirms on Nexus's page before the provider (see consent-links.ts).
    const link = oauth2 ? newSecret() : undefined;
    // A web session's flow is bound at once to the browser that started it.
    const binding = oauth2 && caller.user?.webSession ? newSecret() : undefined;
    if (oauth2) {
      verifier = pkceVerifier();
      // Built before anything is stored: a provider whose discovery fails leaves no row behind.
      providerUrl = await this.deps.oauth.authorizationUrl(provider, {
        redirectUri: this.redirectUri,
        scopes,
        state,
        codeChallenge: pkceChallengeS256(verifier),
        fields,
      });
      authUrl = this.consent.link(link!.secret);
    } else {
      authUrl = `${this.deps.baseUrl}/manage/capture?state=${encodeURIComponent(state)}`;
    }
    const connection = await this.deps.store.transaction(async (tx) => {
      const row = await this.deps.store.connections.insert(
        {
          id: connectionId,
          projectId: caller.projectId,
          workspaceId,
          providerId: provider.id,
          status: 'PENDING',
          statusReason: oauth2 ? 'consent_required' : 'credentials_required',
          scopes,
          returnUrl: input.returnUrl,
          fields,
          supersededBy: null,
          credentialsSealed: null,
          tokenExpiresAt: null,
        },
        tx,
      );
      await this.deps.store.authStates.insert(
        {
          id: stateId,
          projectId: caller.projectId,
          connectionId,
          kind,
          codeVerifierSealed: verifier ? seal(this.deps.keyRing, verifier, codeVerifierAad(stateId)) : null,
          expiresAt: new Date(this.clock() + STATE_TTL_SECONDS * 1000),
          linkHash: link?.hash ?? null,
          providerUrl,
          clientId: caller.user?.clientId ?? null,
          browserBindingHash: binding?.hash ?? null,
        },
        tx,
      );
      await this.deps.events.publish(tx, 'CREATED', view(row, provider));
      return row;
    });
    return {
      connection: view(connection, provider),
      authUrl,
      state,
      ...(binding ? { bindingCookie: this.consent.bindingCookie(stateId, binding.secret, STATE_TTL_SECONDS) } : {}),
    };
  }

  /** An MCP connection from a token the user already has: sealed, ACTIVE, superseding older ones. */
  private async createWithBearer(caller: Principal, workspaceId: string, provider: ProviderRow, token: string, returnUrl: string): Promise<CreatedConnection> {
    const id = newId('conn');
    const credential: McpBearerCredential = { mcpBearerToken: token };
    const connection = await this.deps.store.transaction(async (tx) => {
      const row = await this.deps.store.connections.insert(
        {
          id,
          projectId: caller.projectId,
          workspaceId,
          providerId: provider.id,
          status: 'PENDING',
          statusReason: '',
          scopes: [],
          returnUrl,
          fields: null,
          supersededBy: null,
          credentialsSealed: null,
          tokenExpiresAt: null,
        },
        tx,
      );
      return this.activate(row, provider, { credentialsSealed: sealCredentials(this.deps.keyRing, id, credential) }, tx);
    });
    return { connection: view(connection, provider), authUrl: '', state: '' };
  }

  /**
   * GET /oauth/callback. Invalid, expired and replayed states throw (the
   * route shows an error page and nothing changes); from a valid state on,
   * the outcome is a redirect to the app's return_url. Only the browser that
   * confirmed the consent link (or started the flow in the web app) gets
   * that far: any other is refused before the state is consumed.
   */
  async handleCallback(params: URLSearchParams, cookies: CookieReader): Promise<CallbackOutcome> {
    const stateToken = params.get('state') ?? '';
    const { claims, row: stateRow } = await this.state.check(stateToken, 'oauth');
    this.consent.checkCallback(stateRow, cookies);
    const bindingCookie = this.consent.bindingCookieName(stateRow.id);
    // Consumed first, before talking to the provider: a code is exchanged at most once.
    if (!(await this.deps.store.authStates.consume(stateRow.id))) throw new StateAlreadyUsedError();
    const connection = await this.deps.store.connections.findById(claims.prj, claims.sub);
    if (!connection || connection.status !== 'PENDING') throw new StateAlreadyUsedError();
    const provider = await this.deps.providers.require(claims.prj, connection.providerId);

    const fail = async (reason: string): Promise<CallbackOutcome> => {
      const failed = await this.setStatus(connection, provider, 'FAILED', reason);
      return {
        connection: view(failed, provider),
        redirectUrl: returnUrlWith(connection.returnUrl, { status: 'error', error: reason, connection_id: connection.id }),
        bindingCookie,
      };
    };

    let tokens: TokenSet;
    try {
      const verifier = openSealed(this.deps.keyRing, stateRow.codeVerifierSealed!, codeVerifierAad(stateRow.id)).toString('utf8');
      tokens = await this.deps.oauth.exchangeCode(provider, this.deps.providers.clientSecret(provider), {
        callbackParams: params,
        state: stateToken,
        redirectUri: this.redirectUri,
        codeVerifier: verifier,
        fields: connection.fields,
      });
    } catch (err) {
      if (err instanceof OAuthRejectedError) {
        if (err.detail) this.deps.warn('authorization response refused', { connection_id: connection.id, error: err.error, detail: err.detail });
        return fail(err.error);
      }
      this.deps.warn('code exchange failed', { connection_id: connection.id, error: (err as Error).message });
      // A token endpoint the outbound policy refuses is the provider's configuration, not a passing outage.
      return fail(err instanceof UrlNotAllowedError ? 'url_not_allowed' : 'temporarily_unavailable');
    }

    // Who consented, as the provider asserts it: recorded so the app can check it is who it expected.
    let identity: ProviderIdentity | undefined;
    try {
      identity = await this.deps.identities?.of(provider, tokens, connection.fields);
    } catch (err) {
      this.deps.warn('reading who consented failed', { connection_id: connection.id, error: (err as Error).message });
      return fail(err instanceof IdentityInvalidError ? err.callbackReason : 'temporarily_unavailable');
    }

    const needsFields = provider.postOauthFieldsSchema !== null;
    const updated = await this.deps.store.transaction(async (tx) => {
      const patch = {
        credentialsSealed: sealCredentials(this.deps.keyRing, connection.id, tokens),
        tokenExpiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : null,
        providerSubject: identity?.subject ?? null,
        providerEmail: identity?.email ?? null,
      };
      if (needsFields) {
        const row = await this.deps.store.connections.update(connection.projectId, connection.id, { ...patch, statusReason: FIELDS_REQUIRED }, tx);
        await this.deps.events.publish(tx, 'UPDATED', view(row, provider));
        return row;
      }
      return this.activate(connection, provider, patch, tx);
    });
    return {
      connection: view(updated, provider),
      redirectUrl: returnUrlWith(connection.returnUrl, {
        status: needsFields ? 'pending' : 'success',
        connection_id: connection.id,
      }),
      bindingCookie,
    };
  }

  /** The capture form, with whose workspace it is and which app asks (shown to the person, see SECURITY.md "Consent links"). */
  async getCredentialSchema(
    stateToken: string,
  ): Promise<{ schema: Record<string, unknown>; provider: ProviderRow; connectionId: string; workspaceId: string; appName: string }> {
    const { claims, row } = await this.state.check(stateToken, 'capture');
    const connection = await this.requireConnection(claims.prj, claims.sub);
    const provider = await this.deps.providers.require(claims.prj, connection.providerId);
    return {
      schema: credentialSchemaOf(provider),
      provider,
      connectionId: connection.id,
      workspaceId: connection.workspaceId,
      appName: await this.consent.appName(row),
    };
  }

  /** Validates before consuming the state, so a user who mistyped can submit again. */
  async submitCredentials(stateToken: string, credentials: unknown): Promise<{ connection: ConnectionView; redirectUrl: string }> {
    const { claims, row: stateRow } = await this.state.check(stateToken, 'capture');
    const connection = await this.requireConnection(claims.prj, claims.sub);
    const provider = await this.deps.providers.require(claims.prj, connection.providerId);
    if (JSON.stringify(credentials ?? {}).length > 16_384) {
      throw new InvalidFieldError('credentials', 'must be at most 16 KiB');
    }
    validateAgainst(credentialSchemaOf(provider), credentials ?? {}, 'credentials');
    const activated = await this.deps.store.transaction(async (tx) => {
      if (!(await this.deps.store.authStates.consume(stateRow.id, tx))) throw new StateAlreadyUsedError();
      const locked = await this.deps.store.connections.findByIdForUpdate(claims.prj, claims.sub, tx);
      if (!locked || locked.status !== 'PENDING') throw new StateAlreadyUsedError();
      return this.activate(locked, provider, { credentialsSealed: sealCredentials(this.deps.keyRing, locked.id, credentials), tokenExpiresAt: null }, tx);
    });
    return {
      connection: view(activated, provider),
      redirectUrl: returnUrlWith(activated.returnUrl, { status: 'success', connection_id: activated.id }),
    };
  }

  async getPendingFields(caller: Principal, id: string): Promise<Record<string, unknown>> {
    const connection = await this.requireConnection(caller, id);
    const provider = await this.deps.providers.require(caller.projectId, connection.providerId);
    if (!awaitsFields(connection) || !provider.postOauthFieldsSchema) throw new NoPendingFieldsError(connection.id);
    return provider.postOauthFieldsSchema;
  }

  async finalize(caller: Principal, id: string, fields: unknown): Promise<{ connection: ConnectionView; redirectUrl: string }> {
    const connection = await this.requireConnection(caller, id);
    const provider = await this.deps.providers.require(caller.projectId, connection.providerId);
    if (!awaitsFields(connection) || !provider.postOauthFieldsSchema) throw new NoPendingFieldsError(connection.id);
    if (JSON.stringify(fields ?? {}).length > 16_384) throw new InvalidFieldError('fields', 'must be at most 16 KiB');
    validateAgainst(provider.postOauthFieldsSchema, fields ?? {}, 'fields');
    const activated = await this.deps.store.transaction(async (tx) => {
      const locked = await this.deps.store.connections.findByIdForUpdate(caller.projectId, id, tx);
      if (!locked || !awaitsFields(locked)) throw new NoPendingFieldsError(id);
      // Schemas of the two kinds of fields never overlap (checked on provider write).
      return this.activate(locked, provider, { fields: { ...locked.fields, ...(fields as Record<string, unknown>) } }, tx);
    });
    return {
      connection: view(activated, provider),
      redirectUrl: returnUrlWith(activated.returnUrl, { status: 'success', connection_id: activated.id }),
    };
  }

  async get(caller: Principal, id: string): Promise<ConnectionView> {
    const connection = await this.requireConnection(caller, id);
    const provider = await this.deps.providers.require(caller.projectId, connection.providerId);
    return view(connection, provider);
  }

  async list(
    caller: Principal,
    q: { pageSize: number; pageToken: string; workspaceId: string; provider: string; status: ConnectionStatusName | undefined },
  ): Promise<{ connections: ConnectionView[]; nextPageToken: string }> {
    q = { ...q, workspaceId: workspaceFor(caller, q.workspaceId) };
    const limit = pageSize(q.pageSize);
    const filters = { p: caller.projectId, w: q.workspaceId, v: q.provider, s: q.status };
    const beforeId = decodePageToken(q.pageToken, filters);
    let providerId: string | undefined;
    if (q.provider) {
      const provider = await this.deps.store.providers.findByIdOrName(caller.projectId, q.provider);
      if (!provider) return { connections: [], nextPageToken: '' };
      providerId = provider.id;
    }
    const rows = await this.deps.store.connections.list({
      projectId: caller.projectId,
      workspaceId: q.workspaceId || undefined,
      providerId,
      status: q.status,
      beforeId,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const names = await this.providerNames(caller.projectId, page);
    return {
      connections: page.map((r) => ({ ...r, providerName: names.get(r.providerId) ?? '' })),
      nextPageToken: rows.length > limit ? encodePageToken(page[page.length - 1]!.id, filters) : '',
    };
  }

  /**
   * Revokes at the provider (best effort, RFC 7009) while holding the row
   * lock, so no refresh can slip a new token in between; then erases the
   * sealed credentials. Deleting twice is harmless.
   */
  async delete(caller: Principal, id: string): Promise<{ connection: ConnectionView; revokedAtProvider: boolean }> {
    const existing = await this.requireConnection(caller, id);
    const provider = await this.deps.providers.require(caller.projectId, existing.providerId);
    // Revocation runs under the row lock: resolve the provider's OAuth target first (see OAuthClient.prepare).
    await this.deps.oauth.prepare(provider, this.deps.providers.clientSecret(provider)).catch(() => undefined);
    return this.deps.store.transaction(async (tx) => {
      const locked = (await this.deps.store.connections.findByIdForUpdate(caller.projectId, id, tx))!;
      if (locked.status === 'REVOKED') return { connection: view(locked, provider), revokedAtProvider: false };
      const revokedAtProvider = await this.revokeAtProvider(locked, provider);
      const updated = await this.deps.store.connections.update(
        caller.projectId,
        id,
        { status: 'REVOKED', statusReason: 'deleted', credentialsSealed: null, tokenExpiresAt: null },
        tx,
      );
      await this.deps.events.publish(tx, 'DELETED', view(updated, provider));
      return { connection: view(updated, provider), revokedAtProvider };
    });
  }

  /** Used by DeleteProvider with force: every connection not yet REVOKED is deleted as DeleteConnection would. */
  async deleteAllForProvider(projectId: string, providerId: string): Promise<void> {
    const caller: Principal = { projectId, keyId: 'internal', scopes: new Set(['admin']) };
    for (const status of ['PENDING', 'ACTIVE', 'ATTENTION_REQUIRED', 'FAILED'] as const) {
      for (;;) {
        const rows = await this.deps.store.connections.list({ projectId, providerId, status, limit: 100 });
        if (rows.length === 0) break;
        for (const row of rows) await this.delete(caller, row.id);
      }
    }
  }

  private async revokeAtProvider(connection: ConnectionRow, provider: ProviderRow): Promise<boolean> {
    if ((provider.authType !== 'OAUTH2' && provider.authType !== 'MCP') || !connection.credentialsSealed) return false;
    try {
      const tokens = openCredentials<TokenSet | McpBearerCredential>(this.deps.keyRing, connection);
      // A token the user brought was not issued to Nexus: not ours to revoke.
      if (isMcpBearer(tokens)) return false;
      const [token, hint] = tokens.refreshToken ? [tokens.refreshToken, 'refresh_token' as const] : [tokens.accessToken, 'access_token' as const];
      return await this.deps.oauth.revoke(provider, this.deps.providers.clientSecret(provider), token, hint, connection.fields);
    } catch (err) {
      this.deps.warn('revocation at the provider failed; credentials are erased anyway', {
        connection_id: connection.id,
        error: (err as Error).message,
      });
      return false;
    }
  }

  /**
   * ACTIVE, and every older live connection of the same workspace and
   * provider superseded. The events come last: all row locks are taken by then.
   */
  private async activate(connection: ConnectionRow, provider: ProviderRow, patch: Partial<ConnectionRow>, tx: Tx): Promise<ConnectionRow> {
    const updated = await this.deps.store.connections.update(connection.projectId, connection.id, { ...patch, status: 'ACTIVE', statusReason: '' }, tx);
    const superseded = await this.deps.store.connections.supersede(connection.projectId, connection.workspaceId, connection.providerId, connection.id, tx);
    await this.deps.events.publish(tx, 'ACTIVE', view(updated, provider));
    for (const row of superseded) await this.deps.events.publish(tx, 'REVOKED', view(row, provider));
    return updated;
  }

  private setStatus(connection: ConnectionRow, provider: ProviderRow, status: 'FAILED', reason: string): Promise<ConnectionRow> {
    return this.deps.store.transaction(async (tx) => {
      const row = await this.deps.store.connections.update(connection.projectId, connection.id, { status, statusReason: reason }, tx);
      await this.deps.events.publish(tx, status, view(row, provider));
      return row;
    });
  }

  /** By the caller (a user token only reaches its own workspace), or by project id for state-authorized calls. */
  private async requireConnection(caller: Principal | string, id: string): Promise<ConnectionRow> {
    checkConnectionId('connection_id', id);
    const projectId = typeof caller === 'string' ? caller : caller.projectId;
    let row = await this.deps.store.connections.findById(projectId, id);
    if (typeof caller !== 'string') row = requireOwnRow(caller, row, `connection "${echo(id)}"`);
    if (!row) throw new ConnectionNotFoundError(id);
    return row;
  }

  private async providerNames(projectId: string, rows: ConnectionRow[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    for (const id of new Set(rows.map((r) => r.providerId))) {
      const p = await this.deps.store.providers.findById(projectId, id);
      if (p) names.set(id, p.name);
    }
    return names;
  }
}

export function credentialSchemaOf(provider: ProviderRow): Record<string, unknown> {
  return provider.credentialSchema ?? defaultCredentialSchema(provider.authType) ?? { type: 'object', properties: {} };
}

/** Connection fields are checked against the provider's schema before anything is built from them. */
function connectionFields(provider: ProviderRow, fields: Record<string, unknown> | undefined): Record<string, unknown> | null {
  const schema = provider.connectionFieldsSchema;
  if (!schema) {
    if (fields && Object.keys(fields).length > 0) throw new InvalidFieldError('fields', `provider "${provider.name}" takes no connection fields`);
    return null;
  }
  if (JSON.stringify(fields ?? {}).length > 16_384) throw new InvalidFieldError('fields', 'must be at most 16 KiB');
  validateAgainst(schema, fields ?? {}, 'fields');
  return fields ?? {};
}

function awaitsFields(c: ConnectionRow): boolean {
  return c.status === 'PENDING' && c.statusReason === FIELDS_REQUIRED;
}

function view(row: ConnectionRow, provider: ProviderRow): ConnectionView {
  return { ...row, providerName: provider.name };
}

function checkWorkspaceId(value: string): string {
  if (!value) throw new InvalidFieldError('workspace_id', 'is required');
  if (value.length > 256) throw new InvalidFieldError('workspace_id', 'must be at most 256 characters');
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidFieldError('workspace_id', 'must not contain control characters');
  return value;
}

/**
 * The persistence ports: what the domain needs from storage, and nothing of
 * how storage does it. src/storage/ implements them (src/storage/store.ts is
 * the Persistence over PostgreSQL); unit tests pass fakes.
 */
import type { AccountRow } from '../model/account.js';
import type { AuditChainHead, AuditEventRow } from '../model/audit-event.js';
import type { ApiKeyRow } from '../model/api-key.js';
import type { AuthSessionRow } from '../model/auth-session.js';
import type { AuthStateRow } from '../model/auth-state.js';
import type { ConnectionRow, ConnectionStatusName, RefreshState } from '../model/connection.js';
import type { ConnectionEventRow, ConnectionEventTypeName, ConnectionSnapshot } from '../model/connection-event.js';
import type { OAuthClientRow } from '../model/oauth-client.js';
import type { OAuthClientRegistrationRow } from '../model/oauth-client-registration.js';
import type { OneTimeCodeKind, OneTimeCodeRow } from '../model/one-time-code.js';
import type { ProjectRow } from '../model/project.js';
import type { ProjectQuotaRow, QuotaOverride } from '../model/project-quotas.js';
import type { ProviderRow } from '../model/provider.js';
import type { RefreshTokenRow } from '../model/refresh-token.js';
import type { SigningKeyRow } from '../model/signing-key.js';
import type { WebhookDeliveryRow, WebhookDeliveryStatus, WebhookEndpointRow, WebhookEventType, WebhookPayload } from '../model/webhook.js';

/**
 * A transaction handle. The domain passes it through without looking inside;
 * only the store that opened it knows what it is.
 */
export type Tx = object;

export interface ProviderListQuery {
  projectId: string;
  enabledOnly: boolean;
  category?: string | undefined;
  /** Keyset cursor: names strictly after this one. */
  afterName?: string | undefined;
  limit: number;
}

export interface ConnectionListQuery {
  projectId: string;
  workspaceId?: string | undefined;
  providerId?: string | undefined;
  status?: ConnectionStatusName | undefined;
  /** Keyset cursor: ids strictly before this one (ids grow with time). */
  beforeId?: string | undefined;
  limit: number;
}

export type ConnectionPatch = Partial<Omit<ConnectionRow, 'id' | 'projectId' | 'createdAt' | 'updatedAt'>>;

export type ConsentColumns = 'linkHash' | 'providerUrl' | 'clientId' | 'browserBindingHash' | 'confirmedAt';

/**
 * What every replica hears at commit, on the events channel: `<project id>:<event id>`,
 * `<project id>:providers`, or `<project id>:<credential id>:revoked` (an API key
 * or a user session was revoked).
 */
export const PROVIDERS_CHANGED_SUFFIX = ':providers';
export const CREDENTIAL_REVOKED_SUFFIX = ':revoked';

export interface EventFilter {
  projectId: string;
  workspaceId?: string | undefined;
  providerId?: string | undefined;
  connectionId?: string | undefined;
}
export interface NewConnectionEvent {
  type: ConnectionEventTypeName;
  connection: ConnectionSnapshot;
}

export type OAuthClientInsert = Omit<OAuthClientRow, 'createdAt' | 'updatedAt'>;
export type OAuthClientPatch = Partial<Omit<OAuthClientRow, 'id' | 'projectId' | 'type' | 'secretHash' | 'createdAt' | 'updatedAt'>>;

export interface RegistrationKey {
  projectId: string;
  providerId: string;
  issuer: string;
  redirectUri: string;
}

export type ProjectInsert = Pick<ProjectRow, 'id' | 'name'> & Partial<Pick<ProjectRow, 'displayName' | 'allowedReturnUrls' | 'corsOrigins' | 'branding'>>;
export type ProjectPatch = Partial<Pick<ProjectRow, 'displayName' | 'allowedReturnUrls' | 'corsOrigins' | 'branding'>>;

export interface ProjectsPort {
  findById(id: string, tx?: Tx): Promise<ProjectRow | null>;
  findByName(name: string, tx?: Tx): Promise<ProjectRow | null>;
  /** Inserts the project unless one with that name exists; returns the stored one. */
  ensure(id: string, name: string, tx?: Tx): Promise<ProjectRow>;
  /** Inserts a project; null when the name (or id) is taken. */
  insert(row: ProjectInsert, tx?: Tx): Promise<ProjectRow | null>;
  /** By id, keyset-paged: ids strictly after `afterId`. */
  list(q: { afterId?: string | undefined; limit: number }, tx?: Tx): Promise<ProjectRow[]>;
  update(id: string, patch: ProjectPatch, tx?: Tx): Promise<ProjectRow | null>;
  /** Deletes the project and, by cascade, every row of it. False when there was none. */
  delete(id: string, tx?: Tx): Promise<boolean>;
  /** Every project's CORS origins (for the server's allow-list). */
  listCorsOrigins(tx?: Tx): Promise<string[]>;
  /** Connections of the project that are not REVOKED. */
  countLiveConnections(id: string, tx?: Tx): Promise<number>;
}

/** A project's quota overrides (project_quotas): one row per project that has any. */
export interface ProjectQuotasPort {
  find(projectId: string, tx?: Tx): Promise<ProjectQuotaRow | null>;
  findMany(projectIds: string[], tx?: Tx): Promise<ProjectQuotaRow[]>;
  /** Writes the project's overrides (all four fields: null clears one). */
  upsert(projectId: string, override: QuotaOverride, tx?: Tx): Promise<ProjectQuotaRow>;
}

export interface ApiKeysPort {
  insert(row: Omit<ApiKeyRow, 'createdAt' | 'revokedAt' | 'expiresAt' | 'lastUsedAt'> & { expiresAt?: Date | null }, tx?: Tx): Promise<void>;
  /** Serializes start-up registrations of the operator's key in a project, until the transaction ends. */
  lockBootstrap(projectId: string, tx: Tx): Promise<void>;
  listByProject(projectId: string, tx?: Tx): Promise<ApiKeyRow[]>;
  /** Oldest first (ids are time-ordered), keyset-paged: ids strictly after `afterId`. */
  page(q: { projectId: string; afterId?: string | undefined; limit: number }, tx?: Tx): Promise<ApiKeyRow[]>;
  findById(projectId: string, id: string, tx?: Tx): Promise<ApiKeyRow | null>;
  findByHash(keyHash: string, tx?: Tx): Promise<ApiKeyRow | null>;
  /** Active keys of the project with this name, except the one with `keepHash`. */
  listActiveNamed(projectId: string, name: string, keepHash: string, tx?: Tx): Promise<ApiKeyRow[]>;
  /** Revokes an active key; every replica hears of it at commit (their key caches drop it). False when there was no active key. */
  revoke(projectId: string, id: string, tx?: Tx): Promise<boolean>;
  /** Brings an unrevoked key's expiry forward to `at` (never later); every replica hears of it at commit. False when there was no unrevoked key. */
  expireBy(projectId: string, id: string, at: Date, tx?: Tx): Promise<boolean>;
  /** Records the keys' last use (only ever moves it forward). */
  touch(uses: ReadonlyMap<string, Date>, tx?: Tx): Promise<void>;
}

export interface ProvidersPort {
  insert(row: Omit<ProviderRow, 'createdAt' | 'updatedAt'>, tx?: Tx): Promise<ProviderRow>;
  save(row: ProviderRow, tx?: Tx): Promise<ProviderRow>;
  findById(projectId: string, id: string, tx?: Tx): Promise<ProviderRow | null>;
  findByName(projectId: string, name: string, tx?: Tx): Promise<ProviderRow | null>;
  /** Ids start with `prv_`, which no valid name does, so the two never collide. */
  findByIdOrName(projectId: string, idOrName: string, tx?: Tx): Promise<ProviderRow | null>;
  list(query: ProviderListQuery, tx?: Tx): Promise<ProviderRow[]>;
  delete(projectId: string, id: string, tx?: Tx): Promise<void>;
  /** Takes the provider's row lock for the rest of the transaction (serializes per-provider work such as client registration). */
  lockById(projectId: string, id: string, tx: Tx): Promise<void>;
  /** Every provider with a sealed secret, for key rotation. */
  listWithSecrets(tx?: Tx): Promise<ProviderRow[]>;
}

export interface ConnectionsPort {
  insert(row: Omit<ConnectionRow, 'createdAt' | 'updatedAt' | keyof RefreshState>, tx?: Tx): Promise<ConnectionRow>;
  findById(projectId: string, id: string, tx?: Tx): Promise<ConnectionRow | null>;
  /**
   * The connection and its provider in one round trip: GetToken's path when
   * its cache misses (and for every user-token call), where a second query
   * would double the database time.
   */
  findWithProvider(projectId: string, id: string, tx?: Tx): Promise<{ connection: ConnectionRow; provider: ProviderRow } | null>;
  /**
   * Reads the row and locks it until the transaction ends: the database-wide
   * mutex that makes a refresh single-flight across processes.
   */
  findByIdForUpdate(projectId: string, id: string, tx: Tx): Promise<ConnectionRow | null>;
  list(query: ConnectionListQuery, tx?: Tx): Promise<ConnectionRow[]>;
  update(projectId: string, id: string, patch: ConnectionPatch, tx?: Tx): Promise<ConnectionRow>;
  /**
   * Revokes the workspace's other ACTIVE / ATTENTION_REQUIRED connections to
   * the provider in favour of `newId`, erasing their credentials locally.
   * Returns the revoked rows as they are now.
   */
  supersede(projectId: string, workspaceId: string, providerId: string, newId: string, tx: Tx): Promise<ConnectionRow[]>;
  countLive(projectId: string, providerId: string, tx?: Tx): Promise<number>;
  /** Every row holding sealed credentials, for key rotation. */
  listWithCredentials(tx?: Tx): Promise<ConnectionRow[]>;
}

export interface AuthStatesPort {
  insert(row: Omit<AuthStateRow, 'createdAt' | 'consumedAt' | ConsentColumns> & Partial<Pick<AuthStateRow, ConsentColumns>>, tx?: Tx): Promise<void>;
  findById(id: string, tx?: Tx): Promise<AuthStateRow | null>;
  findByLinkHash(linkHash: string, tx?: Tx): Promise<AuthStateRow | null>;
  /**
   * Records the person's confirmation on the consent page. Exactly one
   * caller gets `true`: conditional on the state being unconfirmed, unused
   * and unexpired, and (when `expectedBindingHash` is given: a flow bound at
   * creation to a web session's browser) on that binding.
   */
  confirm(id: string, bindingHash: string, expectedBindingHash: string | null, tx?: Tx): Promise<boolean>;
  /**
   * Marks the state used. Exactly one caller ever gets `true`: the update is
   * conditional on the row being unused, so concurrent replays lose.
   */
  consume(id: string, tx?: Tx): Promise<boolean>;
  /** Drops states that expired more than a day ago. */
  purgeExpired(tx?: Tx): Promise<number>;
}
export interface ConnectionEventsPort {
  /**
   * Appends an event and queues its NOTIFY, inside the caller's transaction:
   * both become visible at commit, or never. A per-project advisory lock,
   * held until commit, makes ids grow in commit order within a project, so
   * "every event after id N" is a complete answer for a resume cursor (with
   * a bare sequence, a transaction that drew a smaller id could commit after
   * a larger one was already delivered). Call it last in the transaction,
   * after every row lock is taken, so the lock is held only for the commit.
   */
  append(event: NewConnectionEvent, tx: Tx): Promise<ConnectionEventRow>;
  /**
   * Tells every replica, at commit, that the project's providers changed:
   * caches of what was built from them (GetToken's) are dropped. Not an
   * event row: nobody replays or watches it; a replica that misses it has
   * lost its listening session and clears everything on reconnect anyway.
   */
  notifyProvidersChanged(projectId: string, tx: Tx): Promise<void>;
  /** Events with these ids, oldest first. */
  findByIds(ids: string[], tx?: Tx): Promise<ConnectionEventRow[]>;
  /** One page of the events after `afterId` that match the filter, oldest first. */
  listAfter(filter: EventFilter, afterId: string, limit: number, tx?: Tx): Promise<ConnectionEventRow[]>;
  /** The project's newest event visible to this transaction, or undefined when it has none. */
  latest(projectId: string, tx?: Tx): Promise<ConnectionEventRow | null>;
  /** Deletes events older than the cutoff; returns how many. */
  pruneBefore(cutoff: Date, tx?: Tx): Promise<number>;
}

export interface OAuthClientsPort {
  insert(row: OAuthClientInsert, tx?: Tx): Promise<OAuthClientRow>;
  findById(projectId: string, id: string, tx?: Tx): Promise<OAuthClientRow | null>;
  /** By id alone: client authentication is where the project is learnt. */
  findAnyById(id: string, tx?: Tx): Promise<OAuthClientRow | null>;
  /** Newest first, keyset-paged by id (ids are time-ordered). */
  list(q: { projectId: string; beforeId?: string | undefined; limit: number }, tx?: Tx): Promise<OAuthClientRow[]>;
  update(projectId: string, id: string, patch: OAuthClientPatch, tx?: Tx): Promise<OAuthClientRow | null>;
  delete(projectId: string, id: string, tx?: Tx): Promise<boolean>;
}

export interface AccountsPort {
  /** The project's account for the address, created on first sign-in (concurrent first sign-ins get one row). */
  upsert(row: Omit<AccountRow, 'createdAt' | 'lastSignInAt'>, now: Date, tx?: Tx): Promise<AccountRow>;
  findById(projectId: string, id: string, tx?: Tx): Promise<AccountRow | null>;
}

export interface AuthSessionsPort {
  insert(row: Omit<AuthSessionRow, 'createdAt' | 'revokedAt' | 'revokeReason'>, tx?: Tx): Promise<AuthSessionRow>;
  findById(id: string, tx?: Tx): Promise<AuthSessionRow | null>;
  /** Locks the session row: refresh rotation and reuse detection serialize on it. */
  findByIdForUpdate(id: string, tx: Tx): Promise<AuthSessionRow | null>;
  /** Ends the session; every replica hears of it at commit (its open streams end). False when it had already ended. */
  revoke(id: string, reason: string, now: Date, tx?: Tx): Promise<boolean>;
  updateScopes(id: string, scopes: string[], tx?: Tx): Promise<void>;
}

export interface RefreshTokensPort {
  insert(row: Omit<RefreshTokenRow, 'createdAt' | 'usedAt'>, tx?: Tx): Promise<void>;
  findByHash(tokenHash: string, tx?: Tx): Promise<RefreshTokenRow | null>;
  /** Marks the token rotated away; true for exactly one caller. */
  markUsed(tokenHash: string, now: Date, tx?: Tx): Promise<boolean>;
  /** Drops refresh tokens past their expiry by a day (their session has ended by then). */
  purgeExpired(tx?: Tx): Promise<number>;
}

export interface OneTimeCodesPort {
  insert(row: Omit<OneTimeCodeRow, 'usedAt'>, tx?: Tx): Promise<void>;
  findByHash(kind: OneTimeCodeKind, codeHash: string, tx?: Tx): Promise<OneTimeCodeRow | null>;
  /** Unused, unexpired codes of a kind for one client, counted up to `cap` (the count stops there). */
  countLive(kind: OneTimeCodeKind, clientId: string, now: Date, cap: number, tx?: Tx): Promise<number>;
  /** Marks the code used. Exactly one caller gets `true`: concurrent replays lose. */
  markUsed(kind: OneTimeCodeKind, codeHash: string, now: Date, tx?: Tx): Promise<boolean>;
  /** Drops codes that expired more than a day ago (kept a day so a late replay still gets "already used"/"expired"). */
  purgeExpired(tx?: Tx): Promise<number>;
}

export interface SigningKeysPort {
  insert(row: Omit<SigningKeyRow, 'createdAt' | 'retiredAt'>, tx?: Tx): Promise<void>;
  /** Every key, newest first (retired ones too: they still verify recent tokens). */
  listAll(tx?: Tx): Promise<SigningKeyRow[]>;
  /** Serializes key creation across replicas for the rest of the transaction. */
  lock(tx: Tx): Promise<void>;
  retireAllExcept(id: string, now: Date, tx?: Tx): Promise<void>;
  updateSealed(id: string, privateKeySealed: string, tx?: Tx): Promise<void>;
}

/** The refresh bookkeeping columns of connections, and the background worker's queries over them. */
export interface RefreshStatePort {
  /**
   * Locks up to `limit` connections that are due (token expiring before
   * `dueBefore`, no backoff pending, no live lease), soonest first, skipping
   * rows another transaction holds: replicas claiming at the same moment get
   * disjoint batches. The locks last until `tx` ends.
   */
  claimDue(p: { dueBefore: Date; now: Date; limit: number }, tx: Tx): Promise<ConnectionRow[]>;
  /** Due connections (all replicas) and those of them waiting out a backoff, for the gauges. */
  countDue(p: { dueBefore: Date; now: Date }, tx?: Tx): Promise<{ due: number; backingOff: number }>;
  /**
   * Writes refresh bookkeeping without touching updated_at: a lease or a
   * backoff is not a change of the connection anyone watches.
   */
  setState(id: string, patch: Partial<RefreshState>, tx: Tx): Promise<void>;
}

export interface ClientRegistrationsPort {
  find(key: RegistrationKey, tx?: Tx): Promise<OAuthClientRegistrationRow | null>;
  /** The newest registration of a provider (for display), whatever its authorization server. */
  findLatestForProvider(projectId: string, providerId: string, tx?: Tx): Promise<OAuthClientRegistrationRow | null>;
  insert(row: Omit<OAuthClientRegistrationRow, 'createdAt'>, tx?: Tx): Promise<OAuthClientRegistrationRow>;
  delete(projectId: string, id: string, tx?: Tx): Promise<void>;
  deleteForProvider(projectId: string, providerId: string, tx?: Tx): Promise<void>;
  /** Every registration with a sealed secret, for key rotation. */
  listWithSecrets(tx?: Tx): Promise<OAuthClientRegistrationRow[]>;
  updateSecret(id: string, clientSecretSealed: string, tx?: Tx): Promise<void>;
}

/** One outbox message for the matching endpoints of a project (webhooks/events.ts). */
export interface WebhookMessage {
  projectId: string;
  connectionId: string;
  /** The connection event's id ('0' for a message with no event: a failed refresh). */
  eventId: string;
  /** The message id without its endpoint: each delivery's `webhook-id` is `<messageKey>_<endpoint id>`. */
  messageKey: string;
  type: WebhookEventType;
  payload: WebhookPayload;
  /** When the deliveries are created and first due. */
  now: Date;
}

export type WebhookEndpointInsert = Omit<WebhookEndpointRow, 'createdAt' | 'updatedAt'>;
export type WebhookEndpointPatch = Partial<Pick<WebhookEndpointRow, 'url' | 'description' | 'eventTypes' | 'enabled' | 'secrets'>>;

export interface WebhookDeliveryQuery {
  projectId: string;
  endpointId: string;
  status?: WebhookDeliveryStatus | undefined;
  /** Keyset cursor: ids strictly before this one (newest first). */
  beforeId?: string | undefined;
  limit: number;
}

/** A project's webhook endpoints, and the outbox rows the API shows and redelivers. */
export interface WebhookEndpointsPort {
  insert(row: WebhookEndpointInsert, tx?: Tx): Promise<WebhookEndpointRow>;
  findById(projectId: string, id: string, tx?: Tx): Promise<WebhookEndpointRow | null>;
  /** Locks the endpoint row until the transaction ends (rotations serialize on it). */
  findByIdForUpdate(projectId: string, id: string, tx: Tx): Promise<WebhookEndpointRow | null>;
  /** Oldest first (ids are time-ordered), keyset-paged: ids strictly after `afterId`. */
  list(q: { projectId: string; afterId?: string | undefined; limit: number }, tx?: Tx): Promise<WebhookEndpointRow[]>;
  countByProject(projectId: string, tx?: Tx): Promise<number>;
  /** Serializes endpoint creation in the project until the transaction ends (the per-project cap holds under concurrency). */
  lockProject(projectId: string, tx: Tx): Promise<void>;
  update(projectId: string, id: string, patch: WebhookEndpointPatch, tx?: Tx): Promise<WebhookEndpointRow | null>;
  /** Deletes the endpoint and, by cascade, its deliveries. False when there was none. */
  delete(projectId: string, id: string, tx?: Tx): Promise<boolean>;
  /** Every endpoint, for key rotation. */
  listAll(tx?: Tx): Promise<WebhookEndpointRow[]>;
  /**
   * The outbox insert, in the caller's transaction: one pending delivery per
   * enabled endpoint of the project whose event filter is empty or names the
   * type. Returns how many were queued.
   */
  enqueue(message: WebhookMessage, tx: Tx): Promise<number>;
  /** An endpoint's deliveries, newest first. */
  listDeliveries(q: WebhookDeliveryQuery, tx?: Tx): Promise<WebhookDeliveryRow[]>;
  findDelivery(projectId: string, id: string, tx?: Tx): Promise<WebhookDeliveryRow | null>;
  /**
   * Queues a new pending delivery copying `original` (same endpoint, message
   * id and payload: the receiver dedupes on the id), created and due at
   * `now`, with no attempts yet: the worker's maximum age runs anew. The
   * original row stays as history.
   */
  redeliver(original: WebhookDeliveryRow, now: Date, tx?: Tx): Promise<WebhookDeliveryRow>;
}

/** Every port over one database, and the transactions that span them. */
export interface Persistence {
  readonly projects: ProjectsPort;
  readonly projectQuotas: ProjectQuotasPort;
  readonly apiKeys: ApiKeysPort;
  readonly providers: ProvidersPort;
  readonly connections: ConnectionsPort;
  readonly authStates: AuthStatesPort;
  readonly events: ConnectionEventsPort;
  readonly clients: OAuthClientsPort;
  readonly accounts: AccountsPort;
  readonly sessions: AuthSessionsPort;
  readonly refreshTokens: RefreshTokensPort;
  readonly oneTimeCodes: OneTimeCodesPort;
  readonly signingKeys: SigningKeysPort;
  readonly refresh: RefreshStatePort;
  readonly clientRegistrations: ClientRegistrationsPort;
  readonly audit: AuditEventsPort;
  readonly webhooks: WebhookEndpointsPort;
  /** `repeatableRead` gives every read in `work` one consistent snapshot. */
  transaction<T>(work: (tx: Tx) => Promise<T>, options?: { repeatableRead?: boolean }): Promise<T>;
}

export interface ListenerHandlers {
  /** A NOTIFY payload on the events channel. */
  notify(payload: string): void;
  /** The listening session was lost and is back: notifications in between are gone, catch up from the table. */
  reconnected(): void;
}

/** Receives the connection-event notifications of every replica (src/storage/event-listener.ts). */
export interface EventListener {
  start(handlers: ListenerHandlers): Promise<void>;
  stop(): Promise<void>;
}

/** Filters of ListAuditEvents and the export; the project always comes from the caller. */
export interface AuditQuery {
  projectId: string;
  /** Keyset cursor: events with a seq strictly greater. */
  afterSeq: number;
  since?: Date | undefined;
  until?: Date | undefined;
  actorId?: string | undefined;
  /** An exact action ('token.read'), or a prefix ending in '.' ('token.'). */
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  outcome?: string | undefined;
  limit: number;
}

/** The audit log's storage: an append-only, hash-chained table per project, and its chain heads. */
export interface AuditEventsPort {
  /**
   * In one transaction: locks the project's chain head (creating it at seq 0),
   * asks `build` for the rows that follow it, inserts them and moves the
   * head. The lock keeps the chain linear across replicas.
   */
  appendChain(projectId: string, build: (head: { seq: number; hash: string }) => AuditEventRow[]): Promise<AuditEventRow[]>;
  /** One project's chain head, or every project's. */
  heads(projectId?: string): Promise<AuditChainHead[]>;
  /** Events matching the query, ascending seq. */
  query(q: AuditQuery): Promise<AuditEventRow[]>;
  /**
   * Deletes the project's events older than `cutoff` (a prefix of the chain)
   * and records the last deleted one as the anchor; returns how many went.
   * The only delete of the audit log.
   */
  prune(projectId: string, cutoff: Date): Promise<number>;
}

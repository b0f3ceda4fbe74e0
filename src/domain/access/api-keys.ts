import { displayPrefixOf, generateApiKey, hashSecret, newId, secretMatches } from '../../crypto/index.js';
import type { ApiKeyRow, ApiKeyScope } from '../model/api-key.js';
import type { ConnectionEvents, CredentialRevocation } from '../connections/connection-events.js';
import { UnauthenticatedError } from '../shared/errors.js';
import type { Principal } from '../shared/principal.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence } from '../ports/persistence.js';

const CACHE_TTL_MS = 10_000;
const CACHE_MAX = 10_000;

/** What an operator sees of a key: never the key, nor enough of it to help guess it. */
export type ApiKeyListing = Omit<ApiKeyRow, 'keyHash'>;

export type RevokeOutcome = 'revoked' | 'already-revoked' | 'not-found';

/** The operator configured a key that was revoked: starting with it would leave an admin key that does not work. */
// Not a NexusError: startup only (registerBootstrap runs when the server starts; the process stops with it).
export class BootstrapKeyRevokedError extends Error {
  constructor(name: string) {
    super(
      `${name} is a revoked key (revoked with "nexus api-keys revoke", or retired when another ${name} was configured): set a new key`,
    );
  }
}

/**
 * Resolves API keys to principals. Keys are stored as SHA-256 hashes only.
 * Lookups are cached for a few seconds because every GetToken authenticates.
 * A revocation (from any replica) reaches every process's cache through the
 * connection-events channel at commit, so a revoked key is refused everywhere
 * within the notification's round trip; CACHE_TTL_MS only bounds a revocation
 * missed while a process's listening session was down (it clears the cache
 * when the session is back).
 */
export class ApiKeys {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  /**
   * Bumped by every revocation heard. A lookup notes it before reading the
   * row and caches its result only if it has not moved, so a row read just
   * before a revocation committed is never cached after hearing of it.
   */
  private generation = 0;

  constructor(
    private readonly store: Persistence,
    /** Ages the cache of looked-up keys; the system clock when unset. */
    private readonly clock: Clock = systemClock,
  ) {}

  /** Drops cached keys as revocations are heard (this replica's and every other's). */
  hearRevocations(events: ConnectionEvents): () => void {
    return events.onCredentialRevoked((revocation) => this.forget(revocation));
  }

  async create(projectId: string, name: string, scopes: ApiKeyScope[]): Promise<{ id: string; key: string }> {
    const { key, prefix } = generateApiKey();
    const id = newId('key');
    await this.store.apiKeys.insert({ id, projectId, name, displayPrefix: prefix, keyHash: hashSecret(key), scopes });
    return { id, key };
  }

  /**
   * Registers the key chosen by the operator (NEXUS_ADMIN_API_KEY) and
   * retires (revokes) every other active key registered under the same name
   * in the project: changing the variable replaces the key rather than adding
   * one. A configured key that was revoked is refused, so a revocation is
   * never undone by a restart. Serialized per project, so replicas starting
   * at once agree on the survivor. Returns the ids of the retired keys.
   */
  async registerBootstrap(projectId: string, name: string, key: string, scopes: ApiKeyScope[]): Promise<string[]> {
    if (key.length < 16) throw new Error(`${name} must be at least 16 characters`);
    const keyHash = hashSecret(key);
    const retired = await this.store.transaction(async (tx) => {
      await this.store.apiKeys.lockBootstrap(projectId, tx);
      const existing = await this.store.apiKeys.findByHash(keyHash, tx);
      if (existing?.revokedAt) throw new BootstrapKeyRevokedError(name);
      if (!existing) {
        await this.store.apiKeys.insert({ id: newId('key'), projectId, name, displayPrefix: displayPrefixOf(key), keyHash, scopes }, tx);
      }
      const older = await this.store.apiKeys.listActiveNamed(projectId, name, keyHash, tx);
      for (const row of older) await this.store.apiKeys.revoke(projectId, row.id, tx);
      return older.map((row) => row.id);
    });
    for (const id of retired) this.forget({ projectId, credentialId: id });
    return retired;
  }

  /** Every key of the project, oldest first, revoked ones included. */
  async list(projectId: string): Promise<ApiKeyListing[]> {
    return (await this.store.apiKeys.listByProject(projectId)).map(({ keyHash: _hash, ...listing }) => listing);
  }

  /** Revokes a key of the project: every replica refuses it once the revocation commits. */
  async revoke(projectId: string, id: string): Promise<RevokeOutcome> {
    if (await this.store.apiKeys.revoke(projectId, id)) {
      this.forget({ projectId, credentialId: id });
      return 'revoked';
    }
    return (await this.store.apiKeys.findById(projectId, id)) ? 'already-revoked' : 'not-found';
  }

  /** Undefined when no key was presented; throws when a presented key is unknown. */
  async authenticate(presented: string | undefined): Promise<Principal | undefined> {
    if (presented === undefined) return undefined;
    if (presented.length === 0 || presented.length > 512) throw new UnauthenticatedError('API key is not valid');
    const hash = hashSecret(presented);
    const now = this.clock();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.principal;
    const generation = this.generation;
    const row = await this.store.apiKeys.findActiveByHash(hash);
    // The lookup is by hash; the constant-time comparison guards against a
    // store that ever matches loosely (collation, truncation).
    if (!row || !secretMatches(presented, row.keyHash)) throw new UnauthenticatedError('API key is not valid');
    const principal: Principal = { projectId: row.projectId, keyId: row.id, scopes: new Set(row.scopes) };
    if (generation === this.generation) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(hash, { principal, until: now + CACHE_TTL_MS });
    }
    return principal;
  }

  private forget(revocation: CredentialRevocation): void {
    this.generation++;
    if (revocation === undefined) {
      this.cache.clear();
      return;
    }
    for (const [hash, entry] of this.cache) if (entry.principal.keyId === revocation.credentialId) this.cache.delete(hash);
  }
}

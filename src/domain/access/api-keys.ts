import { displayPrefixOf, generateApiKey, hashSecret, newId, secretMatches } from '../../crypto/index.js';
import type { ApiKeyRow, ApiKeyScope } from '../model/api-key.js';
import type { ConnectionEvents, CredentialRevocation } from '../connections/connection-events.js';
import { ApiKeyExpiredError, ApiKeyNotActiveError, ApiKeyNotFoundError, ApiKeyRefusedError, InvalidFieldError } from '../shared/errors.js';
import { decodePageToken, encodePageToken, pageSize } from '../shared/page-token.js';
import { OPERATOR_PROJECT_ID, type Principal } from '../shared/principal.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence } from '../ports/persistence.js';

/**
 * How long a replica trusts a key it looked up. Revocations and rotations
 * reach every cache at once through LISTEN/NOTIFY; this bounds the case
 * where a replica's listening session is down (one lookup per key per
 * second and replica: measured free in bench/RESULTS.md).
 */
export const CACHE_TTL_MS = 1_000;
const CACHE_MAX = 10_000;
/** A key's last use is written at most this often per process (GetToken never waits for it). */
export const LAST_USED_WRITE_MS = 60_000;
export const NAME_MAX_CHARS = 200;
/** Bounds of a key's lifetime (CreateApiKey ttl) and of a rotation's overlap. */
export const TTL_MIN_MS = 60_000;
export const TTL_MAX_MS = 10 * 365 * 86_400_000;
export const OVERLAP_MAX_MS = 30 * 86_400_000;
export const DEFAULT_OVERLAP_MS = 3_600_000;

/** What an operator sees of a key: never the key, nor enough of it to help guess it. */
export type ApiKeyListing = Omit<ApiKeyRow, 'keyHash'>;

export type RevokeOutcome = 'revoked' | 'already-revoked' | 'not-found';

export interface ApiKeysOptions {
  /** The clock of expiry, the cache and last use (tests move it); the system clock when unset. */
  clock?: Clock;
  /** Where a failed last-use write is reported. */
  warn?: (message: string, context: Record<string, unknown>) => void;
}

export interface CreatedKey {
  id: string;
  key: string;
  listing: ApiKeyListing;
}

/** The operator configured a key that was revoked: starting with it would leave an admin key that does not work. */
// Not a NexusError: startup only (registerBootstrap runs when the server starts; the process stops with it).
export class BootstrapKeyRevokedError extends Error {
  constructor(name: string) {
    super(`${name} is a revoked key (revoked with "nexus api-keys revoke", or retired when another ${name} was configured): set a new key`);
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

  /** When this process last wrote each key's last use. */
  private readonly lastUseWritten = new Map<string, number>();
  private readonly clock: Clock;

  private readonly options: ApiKeysOptions;

  /** `options` may be a bare Clock (the system clock when unset). */
  constructor(
    private readonly store: Persistence,
    options: ApiKeysOptions | Clock = {},
  ) {
    this.options = typeof options === 'function' ? { clock: options } : options;
    this.clock = this.options.clock ?? systemClock;
  }

  private now(): Date {
    return new Date(this.clock());
  }

  /** Drops cached keys as revocations are heard (this replica's and every other's). */
  hearRevocations(events: ConnectionEvents): () => void {
    return events.onCredentialRevoked((revocation) => this.forget(revocation));
  }

  /**
   * Creates a key. `operator` is refused outside the installation project;
   * who may grant what is the caller's business (ApiKeyAdmin).
   */
  async create(projectId: string, name: string, scopes: ApiKeyScope[], options: { ttlMs?: number | undefined } = {}): Promise<CreatedKey> {
    const trimmed = name.trim();
    if (!trimmed) throw new InvalidFieldError('name', 'is required');
    if (trimmed.length > NAME_MAX_CHARS) throw new InvalidFieldError('name', `must be at most ${NAME_MAX_CHARS} characters`);
    if (scopes.length === 0) throw new InvalidFieldError('scopes', 'at least one scope is required');
    if (scopes.includes('operator') && projectId !== OPERATOR_PROJECT_ID) {
      throw new InvalidFieldError('scopes', `"operator" is only for keys of the installation project (${OPERATOR_PROJECT_ID})`);
    }
    if (options.ttlMs !== undefined && (options.ttlMs < TTL_MIN_MS || options.ttlMs > TTL_MAX_MS)) {
      throw new InvalidFieldError('ttl', 'must be between 1 minute and 10 years');
    }
    const now = this.now();
    const expiresAt = options.ttlMs === undefined ? null : new Date(now.getTime() + options.ttlMs);
    const { key, prefix } = generateApiKey();
    const id = newId('key');
    await this.store.apiKeys.insert({ id, projectId, name: trimmed, displayPrefix: prefix, keyHash: hashSecret(key), scopes: [...new Set(scopes)], expiresAt });
    const row = await this.store.apiKeys.findById(projectId, id);
    return { id, key, listing: listingOf(row!) };
  }

  /** One key of the project, never its hash. */
  async get(projectId: string, id: string): Promise<ApiKeyListing> {
    const row = await this.store.apiKeys.findById(projectId, id);
    if (!row) throw new ApiKeyNotFoundError(id);
    return listingOf(row);
  }

  /** A page of the project's keys, oldest first, revoked ones included. */
  async page(projectId: string, req: { pageSize: number; pageToken: string }): Promise<{ keys: ApiKeyListing[]; nextPageToken: string }> {
    const limit = pageSize(req.pageSize);
    const filters = { projectId };
    const afterId = decodePageToken(req.pageToken, filters);
    const rows = await this.store.apiKeys.page({ projectId, afterId, limit: limit + 1 });
    const keys = rows.slice(0, limit).map(listingOf);
    return { keys, nextPageToken: rows.length > limit ? encodePageToken(keys[keys.length - 1]!.id, filters) : '' };
  }

  /**
   * Replaces a key: a new one with the same name, scopes and lifetime, and
   * the old one expiring at the end of the overlap (never later than it
   * would have). Every replica hears of the old key's new expiry at commit.
   */
  async rotate(projectId: string, id: string, overlapMs: number = DEFAULT_OVERLAP_MS): Promise<{ created: CreatedKey; previous: ApiKeyListing }> {
    if (overlapMs < 0 || overlapMs > OVERLAP_MAX_MS) throw new InvalidFieldError('overlap', 'must be between 0 and 30 days');
    const now = this.now();
    const old = await this.store.apiKeys.findById(projectId, id);
    if (!old) throw new ApiKeyNotFoundError(id);
    if (old.revokedAt) throw new ApiKeyNotActiveError(id, 'revoked');
    if (old.expiresAt && old.expiresAt <= now) throw new ApiKeyNotActiveError(id, 'expired');
    const { key, prefix } = generateApiKey();
    const newIdValue = newId('key');
    const lifetime = old.expiresAt ? old.expiresAt.getTime() - old.createdAt.getTime() : undefined;
    await this.store.transaction(async (tx) => {
      // A concurrent revocation or rotation wins: nothing is created for a key no longer active.
      if (!(await this.store.apiKeys.expireBy(projectId, id, new Date(now.getTime() + overlapMs), tx))) throw new ApiKeyNotActiveError(id, 'revoked');
      await this.store.apiKeys.insert(
        {
          id: newIdValue,
          projectId,
          name: old.name,
          displayPrefix: prefix,
          keyHash: hashSecret(key),
          scopes: old.scopes,
          expiresAt: lifetime === undefined ? null : new Date(now.getTime() + lifetime),
        },
        tx,
      );
    });
    this.forget({ projectId, credentialId: id });
    const [created, previous] = await Promise.all([this.store.apiKeys.findById(projectId, newIdValue), this.store.apiKeys.findById(projectId, id)]);
    return { created: { id: newIdValue, key, listing: listingOf(created!) }, previous: listingOf(previous!) };
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
    return (await this.store.apiKeys.listByProject(projectId)).map(listingOf);
  }

  /** Revokes a key of the project: every replica refuses it once the revocation commits. */
  async revoke(projectId: string, id: string): Promise<RevokeOutcome> {
    if (await this.store.apiKeys.revoke(projectId, id)) {
      this.forget({ projectId, credentialId: id });
      return 'revoked';
    }
    return (await this.store.apiKeys.findById(projectId, id)) ? 'already-revoked' : 'not-found';
  }

  /** Undefined when no key was presented; throws when a presented key is unknown, revoked or expired. */
  async authenticate(presented: string | undefined): Promise<Principal | undefined> {
    if (presented === undefined) return undefined;
    if (presented.length === 0 || presented.length > 512) throw new ApiKeyRefusedError({ state: 'unknown', prefix: displayPrefixOf(presented) });
    const hash = hashSecret(presented);
    const wall = this.clock();
    const cached = this.cache.get(hash);
    let principal: Principal;
    if (cached && cached.until > wall) {
      principal = cached.principal;
    } else {
      const generation = this.generation;
      // Revoked rows too (one lookup either way), so the audit log can name a revoked key's owner.
      const row = await this.store.apiKeys.findByHash(hash);
      // The lookup is by hash; the constant-time comparison guards against a
      // store that ever matches loosely (collation, truncation).
      if (!row || !secretMatches(presented, row.keyHash)) throw new ApiKeyRefusedError({ state: 'unknown', prefix: displayPrefixOf(presented) });
      if (row.revokedAt) throw new ApiKeyRefusedError({ state: 'revoked', projectId: row.projectId, keyId: row.id });
      principal = { projectId: row.projectId, keyId: row.id, scopes: new Set(row.scopes), ...(row.expiresAt ? { expiresAt: row.expiresAt } : {}) };
      if (generation === this.generation) {
        if (this.cache.size >= CACHE_MAX) this.cache.clear();
        this.cache.set(hash, { principal, until: wall + CACHE_TTL_MS });
      }
    }
    // Judged on every call, cached or not, against the injected clock: a key expires on time everywhere.
    const now = this.now();
    if (principal.expiresAt && principal.expiresAt.getTime() <= now.getTime())
      throw new ApiKeyExpiredError({ projectId: principal.projectId, keyId: principal.keyId });
    this.noteUse(principal.keyId, now);
    return principal;
  }

  /** Writes a key's last use at most once a minute per process, off the request path. */
  private noteUse(keyId: string, now: Date): void {
    const last = this.lastUseWritten.get(keyId);
    if (last !== undefined && now.getTime() - last < LAST_USED_WRITE_MS) return;
    if (this.lastUseWritten.size >= CACHE_MAX) this.lastUseWritten.clear();
    this.lastUseWritten.set(keyId, now.getTime());
    this.store.apiKeys.touch(new Map([[keyId, now]])).catch((err: unknown) => {
      this.options.warn?.("recording an API key's last use failed", { key_id: keyId, error: (err as Error).message });
    });
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

function listingOf({ keyHash: _hash, ...listing }: ApiKeyRow): ApiKeyListing {
  return listing;
}

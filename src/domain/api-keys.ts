import { generateApiKey, hashSecret, newId, secretMatches } from '../crypto/index.js';
import type { ApiKeyScope } from '../storage/entities/api-key.js';
import type { Store } from '../storage/store.js';
import { UnauthenticatedError } from './errors.js';
import type { Principal } from './principal.js';

const CACHE_TTL_MS = 10_000;
const CACHE_MAX = 10_000;

/**
 * Resolves API keys to principals. Keys are stored as SHA-256 hashes only.
 * Lookups are cached for a few seconds because every GetToken authenticates;
 * a revoked key therefore stops working within CACHE_TTL_MS.
 */
export class ApiKeys {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly store: Store) {}

  async create(projectId: string, name: string, scopes: ApiKeyScope[]): Promise<{ id: string; key: string }> {
    const { key, prefix } = generateApiKey();
    const id = newId('key');
    await this.store.apiKeys.insert({ id, projectId, name, displayPrefix: prefix, keyHash: hashSecret(key), scopes });
    return { id, key };
  }

  /** Registers a key chosen by the operator (NEXUS_ADMIN_API_KEY); a no-op when it is already known. */
  async register(projectId: string, name: string, key: string, scopes: ApiKeyScope[]): Promise<void> {
    if (key.length < 16) throw new Error(`${name} must be at least 16 characters`);
    await this.store.apiKeys.insertIfAbsent({
      id: newId('key'),
      projectId,
      name,
      displayPrefix: key.slice(0, 8),
      keyHash: hashSecret(key),
      scopes,
    });
  }

  /** Undefined when no key was presented; throws when a presented key is unknown. */
  async authenticate(presented: string | undefined): Promise<Principal | undefined> {
    if (presented === undefined) return undefined;
    if (presented.length === 0 || presented.length > 512) throw new UnauthenticatedError('API key is not valid');
    const hash = hashSecret(presented);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.principal;
    const row = await this.store.apiKeys.findActiveByHash(hash);
    // The lookup is by hash; the constant-time comparison guards against a
    // store that ever matches loosely (collation, truncation).
    if (!row || !secretMatches(presented, row.keyHash)) throw new UnauthenticatedError('API key is not valid');
    const principal: Principal = { projectId: row.projectId, keyId: row.id, scopes: new Set(row.scopes) };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { principal, until: now + CACHE_TTL_MS });
    return principal;
  }
}

import { LRUCache } from 'lru-cache';
import type { ConnectionEvents } from '../connections/connection-events.js';
import type { IssuedCredential } from '../model/issued-credential.js';

export interface TokenCacheOptions {
  /** Most entries kept (least recently used go first); 0 turns the cache off. */
  maxEntries: number;
  /**
   * Longest an entry is served without reading the row again. Invalidation
   * normally comes from connection events within milliseconds; this bounds
   * how long a missed notification can keep a changed connection served.
   */
  maxAgeMs: number;
  /** Told of every lookup (metrics). */
  onLookup?: (hit: boolean) => void;
}

interface Entry {
  projectId: string;
  credential: IssuedCredential;
  /** Epoch ms of the access token's expiry; undefined for static credentials. */
  expiresAt: number | undefined;
  /** Epoch ms after which it is not served (maxAgeMs after it was stored), on the caller's clock. */
  staleAt: number;
}

/**
 * Per-process cache of opened, still-valid credentials, so a hot GetToken
 * needs no database round trip and no decryption.
 *
 * Correct across replicas only together with invalidation: every status or
 * credential change is published as a connection event, and each process
 * drops the entry (`invalidate`) or everything when it may have missed
 * events (`clear`). An entry is never served past its token's expiry minus
 * the caller's margin, nor past `maxAgeMs`.
 *
 * Entries are keyed by connection id and remember their project: a caller
 * from another project never gets one (it falls through to the database,
 * which answers NOT_FOUND).
 */
export class TokenCache {
  private readonly entries: LRUCache<string, Entry> | undefined;
  /**
   * Bumped by every invalidation. A reader notes it before going to the
   * database and stores its result only if it has not moved, so a value read
   * before a change can never be cached after the change's invalidation.
   */
  private generation = 0;

  constructor(private readonly options: TokenCacheOptions) {
    if (options.maxEntries > 0) {
      // Ages are checked against the caller's clock (`now`), not the LRU's own timer, so a test sets the time.
      this.entries = new LRUCache<string, Entry>({ max: options.maxEntries });
    }
  }

  get enabled(): boolean {
    return this.entries !== undefined;
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** The cached credential, if it belongs to the project and stays valid for `marginMs` more. */
  get(projectId: string, connectionId: string, marginMs: number, now = Date.now()): IssuedCredential | undefined {
    if (!this.entries) return undefined;
    const found = this.entries.get(connectionId);
    if (found !== undefined && found.staleAt <= now) this.entries.delete(connectionId);
    const entry = found !== undefined && found.staleAt > now ? found : undefined;
    const usable = entry !== undefined && entry.projectId === projectId && (entry.expiresAt === undefined || entry.expiresAt - now > marginMs);
    this.options.onLookup?.(usable);
    return usable ? entry.credential : undefined;
  }

  /** Call before reading the row; pass the value to `set`. */
  mark(): number {
    return this.generation;
  }

  set(projectId: string, connectionId: string, credential: IssuedCredential, mark: number, now = Date.now()): void {
    if (!this.entries || mark !== this.generation) return;
    const expiresAt = credential.type === 'oauth2' ? credential.expiresAt?.getTime() : undefined;
    if (expiresAt !== undefined && expiresAt <= now) return;
    this.entries.set(connectionId, { projectId, credential, expiresAt, staleAt: now + this.options.maxAgeMs });
  }

  /** The connection changed (status, credentials, deleted) somewhere. */
  invalidate(connectionId: string): void {
    this.generation++;
    this.entries?.delete(connectionId);
  }

  /** A provider of the project changed (a static credential's shape comes from it): forget the project's entries. */
  invalidateProject(projectId: string): void {
    this.generation++;
    if (!this.entries) return;
    for (const [connectionId, entry] of this.entries.entries()) if (entry.projectId === projectId) this.entries.delete(connectionId);
  }

  /** Events may have been missed (the event listener reconnected): forget everything. */
  clear(): void {
    this.generation++;
    this.entries?.clear();
  }
}

/**
 * Keeps the cache in step with every replica's changes: this process's own
 * changes drop their entry at publish time, every committed event (from any
 * replica, via LISTEN/NOTIFY) drops it again, and when the hub may have
 * missed events (its listening session was lost) the whole cache goes.
 */
export function invalidateOnEvents(cache: TokenCache, events: ConnectionEvents): () => void {
  const offPublish = events.onPublish((connectionId) => cache.invalidate(connectionId));
  const unsubscribe = events.subscribe({
    filter: {},
    onEvent: (event) => cache.invalidate(event.connectionId),
    onResync: () => cache.clear(),
    onProvidersChanged: (projectId) => cache.invalidateProject(projectId),
    onClose: () => cache.clear(),
  });
  return () => {
    offPublish();
    unsubscribe();
  };
}

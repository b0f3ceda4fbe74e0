/**
 * What a key may do. `operator` is the installation-level role: it manages
 * every project (ProjectService, other projects' keys) and is granted only to
 * keys of the installation project (DEFAULT_PROJECT_ID); it implies `admin`
 * in its own project. `admin` implies every project-level scope, never
 * `operator`.
 */
export type ApiKeyScope = 'admin' | 'connections' | 'tokens' | 'operator';

/** An API key, stored only as the SHA-256 of the key. */
export interface ApiKeyRow {
  id: string;
  projectId: string;
  name: string;
  /** The first characters of the key, to recognise it in listings. */
  displayPrefix: string;
  keyHash: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  revokedAt: Date | null;
  /** When the key stops working by itself (creation with an expiry, or the end of a rotation's overlap); null: never. */
  expiresAt: Date | null;
  /** When the key last authenticated, to within a minute (written at most once a minute per key and process). */
  lastUsedAt: Date | null;
}

export type ApiKeyScope = 'admin' | 'connections' | 'tokens';

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
}

// `nexus api-keys list|create|revoke|rotate`. Each command is a function of the open
// services, so it runs the same in a one-shot process or behind a control socket.
import type { ApiKeys, ApiKeyListing } from '../domain/access/api-keys.js';
import type { ApiKeyScope } from '../domain/model/api-key.js';
import type { Store } from '../storage/store.js';

export interface ApiKeyServices {
  store: Store;
  apiKeys: ApiKeys;
}

async function requireProject(services: ApiKeyServices, projectId: string): Promise<void> {
  if (!(await services.store.projects.findById(projectId))) throw new Error(`project ${projectId} does not exist`);
}

/** The project's keys as a table: id, name, a short non-secret prefix, scopes, creation, status, expiry and last use. */
export async function listApiKeys(services: ApiKeyServices, projectId: string): Promise<string> {
  await requireProject(services, projectId);
  const keys = await services.apiKeys.list(projectId);
  if (keys.length === 0) return `project ${projectId} has no API keys`;
  const now = Date.now();
  const rows = [['ID', 'NAME', 'KEY', 'SCOPES', 'CREATED', 'STATUS', 'EXPIRES', 'LAST USED'], ...keys.map((k) => row(k, now))];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

function row(key: ApiKeyListing, now: number): string[] {
  return [
    key.id,
    key.name,
    // Operator-chosen keys keep no prefix at all: theirs could be most of a short key.
    key.displayPrefix ? `${key.displayPrefix}…` : '-',
    key.scopes.join(','),
    key.createdAt.toISOString(),
    key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : key.expiresAt && key.expiresAt.getTime() <= now ? 'expired' : 'active',
    key.expiresAt ? key.expiresAt.toISOString() : 'never',
    key.lastUsedAt ? key.lastUsedAt.toISOString() : '-',
  ];
}

export async function createApiKey(services: ApiKeyServices, projectId: string, name: string, scopes: ApiKeyScope[], ttlMs?: number): Promise<string> {
  await requireProject(services, projectId);
  const { id, key, listing } = await services.apiKeys.create(projectId, name, scopes, { ttlMs });
  const expiry = listing.expiresAt ? `, expires ${listing.expiresAt.toISOString()}` : '';
  return `created ${id} (${scopes.join(', ')}${expiry}):\n${key}`;
}

/** Replaces a key: prints the new one once; the old one works until the overlap ends. */
export async function rotateApiKey(services: ApiKeyServices, projectId: string, id: string, overlapMs?: number): Promise<string> {
  await requireProject(services, projectId);
  const { created, previous } = await services.apiKeys.rotate(projectId, id, overlapMs);
  return `created ${created.id} to replace ${id}, which stops working at ${previous.expiresAt!.toISOString()}:\n${created.key}`;
}

/** `30d`, `12h`, `90m`, `45s` in milliseconds. */
export function parseDuration(value: string, option: string): number {
  const match = /^(\d{1,9})([smhd])$/.exec(value.trim());
  if (!match) throw new Error(`${option} must be a number followed by s, m, h or d (e.g. 30d, 12h), not "${value.slice(0, 32)}"`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

/** Revokes a key: every replica refuses it within about a second (its cache hears the revocation). */
export async function revokeApiKey(services: ApiKeyServices, projectId: string, id: string): Promise<string> {
  await requireProject(services, projectId);
  const outcome = await services.apiKeys.revoke(projectId, id);
  if (outcome === 'not-found') throw new Error(`project ${projectId} has no API key ${id} (see "nexus api-keys list")`);
  if (outcome === 'already-revoked') return `${id} was already revoked`;
  const adminLeft = (await services.apiKeys.list(projectId)).some((k) => !k.revokedAt && k.scopes.includes('admin'));
  const hint = adminLeft ? '' : `\nproject ${projectId} has no active admin key left: create one with "nexus api-keys create --scopes admin"`;
  return `revoked ${id}${hint}`;
}

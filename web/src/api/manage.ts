import { AuthType, type Provider } from '../../../gen/ts/nexus/v1/provider_pb.js';
import { ConnectionStatus, type Connection } from '../../../gen/ts/nexus/v1/connection_pb.js';
import type { Api } from './client.js';
import type { JsonSchema } from '../schema.js';

const MAX_PAGES = 20;

/** Every enabled provider of the project (ListProviders, all pages). */
export async function listAllProviders(api: Api, projectId: string): Promise<Provider[]> {
  const out: Provider[] = [];
  let pageToken = '';
  for (let i = 0; i < MAX_PAGES; i++) {
    const res = await api.providers.listProviders({ projectId, pageSize: 200, pageToken });
    out.push(...res.providers);
    if (!res.nextPageToken) break;
    pageToken = res.nextPageToken;
  }
  return out.sort((a, b) => label(a).localeCompare(label(b)));
}

/** The workspace's connections, newest first (ListConnections, all pages). */
export async function listAllConnections(api: Api, workspaceId: string): Promise<Connection[]> {
  const out: Connection[] = [];
  let pageToken = '';
  for (let i = 0; i < MAX_PAGES; i++) {
    const res = await api.connections.listConnections({ workspaceId, pageSize: 200, pageToken });
    out.push(...res.connections);
    if (!res.nextPageToken) break;
    pageToken = res.nextPageToken;
  }
  return out;
}

/**
 * What the user sees as "your connections": every ACTIVE or
 * ATTENTION_REQUIRED connection, and a provider's newest FAILED attempt when
 * nothing newer works. PENDING rows (abandoned consent or forms) and REVOKED
 * ones (deleted, superseded) are history, not something to manage.
 */
export function visibleConnections(connections: Connection[]): Connection[] {
  const newestFirst = [...connections].sort((a, b) => Number(b.createTime?.seconds ?? 0n) - Number(a.createTime?.seconds ?? 0n));
  const seen = new Set<string>();
  return newestFirst.filter((c) => {
    const first = !seen.has(c.providerId);
    if (c.status === ConnectionStatus.ACTIVE || c.status === ConnectionStatus.ATTENTION_REQUIRED) {
      seen.add(c.providerId);
      return true;
    }
    if (c.status === ConnectionStatus.FAILED && first) {
      seen.add(c.providerId);
      return true;
    }
    return false;
  });
}

export function label(p: Provider): string {
  return p.displayName || p.name;
}

/**
 * Whether connecting goes through the provider's consent page (OAuth, and
 * MCP servers, which use OAuth). For the others CreateConnection's auth_url is
 * Nexus's own capture page, whose form this app shows in place instead.
 */
export function usesConsent(p: Provider): boolean {
  return p.authType === AuthType.OAUTH2 || p.authType === AuthType.MCP;
}

/** The provider's connection fields schema, when it has fields to ask for before connecting. */
export function connectionFieldsSchema(p: Provider): JsonSchema | undefined {
  const schema = p.connectionFieldsSchema as JsonSchema | undefined;
  return schema && Object.keys(schema.properties ?? {}).length > 0 ? schema : undefined;
}

/** Case-insensitive match on name, display name, description and categories; then the category filter. */
export function filterProviders(providers: Provider[], query: string, category: string): Provider[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return providers.filter((p) => {
    if (category && !p.categories.includes(category)) return false;
    const haystack = [p.name, p.displayName, p.description, ...p.categories.map(categoryLabel)].join(' ').toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

/** The distinct category slugs, in the order of their labels. */
export function categoriesOf(providers: Provider[]): string[] {
  return [...new Set(providers.flatMap((p) => p.categories))].sort((a, b) => categoryLabel(a).localeCompare(categoryLabel(b)));
}

/** Categories are lowercase slugs (`developer-tools`); shown as words (`Developer tools`). */
export function categoryLabel(slug: string): string {
  const words = slug.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const STATUS_TEXT: Record<ConnectionStatus, string> = {
  [ConnectionStatus.UNSPECIFIED]: 'Unknown',
  [ConnectionStatus.PENDING]: 'Pending',
  [ConnectionStatus.ACTIVE]: 'Active',
  [ConnectionStatus.ATTENTION_REQUIRED]: 'Needs attention',
  [ConnectionStatus.FAILED]: 'Failed',
  [ConnectionStatus.REVOKED]: 'Disconnected',
};

/** A sentence for a provider's error code in a failed OAuth return (`status=error&error=…`). */
export function oauthErrorText(error: string): string {
  switch (error) {
    case 'access_denied':
      return 'access was denied at the provider';
    case 'temporarily_unavailable':
      return 'the provider did not answer in time';
    case 'invalid_grant':
      return 'the provider refused the authorization';
    default:
      return error ? `the provider answered "${error}"` : 'the provider returned an error';
  }
}

import type { ApiKeys } from './api-keys.js';
import { ALL_SCOPES } from '../shared/principal.js';
import { DEFAULT_PROJECT_ID } from '../shared/workspace-scope.js';
import type { Persistence } from '../ports/persistence.js';

export const DEFAULT_PROJECT_NAME = 'default';

export interface BootstrapResult {
  /** A freshly generated admin key, to print once; undefined when none was made. */
  generatedAdminKey: string | undefined;
  /** Ids of earlier NEXUS_ADMIN_API_KEY keys this start revoked because the variable changed. */
  retiredAdminKeys: string[];
}

/**
 * Ensures the default project exists and has an admin key: the operator's
 * NEXUS_ADMIN_API_KEY when given (it replaces the one configured before),
 * else one generated on the very first start.
 */
export async function bootstrap(
  store: Persistence,
  apiKeys: ApiKeys,
  adminApiKey: string | undefined,
  /** Only `nexus start` generates one, because only it can show the key to someone. */
  generateAdminKey: boolean,
): Promise<BootstrapResult> {
  await store.projects.ensure(DEFAULT_PROJECT_ID, DEFAULT_PROJECT_NAME);
  if (adminApiKey) {
    const retiredAdminKeys = await apiKeys.registerBootstrap(DEFAULT_PROJECT_ID, 'NEXUS_ADMIN_API_KEY', adminApiKey, [...ALL_SCOPES]);
    return { generatedAdminKey: undefined, retiredAdminKeys };
  }
  if (!generateAdminKey) return { generatedAdminKey: undefined, retiredAdminKeys: [] };
  const existing = await store.apiKeys.listByProject(DEFAULT_PROJECT_ID);
  if (existing.some((k) => k.scopes.includes('admin') && !k.revokedAt)) return { generatedAdminKey: undefined, retiredAdminKeys: [] };
  const { key } = await apiKeys.create(DEFAULT_PROJECT_ID, 'generated admin key', ['admin', 'operator']);
  return { generatedAdminKey: key, retiredAdminKeys: [] };
}

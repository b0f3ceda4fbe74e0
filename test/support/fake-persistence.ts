import type { ApiKeyRow } from '../../src/domain/model/api-key.js';
import type { ConnectionRow, RefreshState } from '../../src/domain/model/connection.js';
import type { ProviderRow } from '../../src/domain/model/provider.js';
import type {
  ApiKeysPort,
  ConnectionsPort,
  Persistence,
  ProvidersPort,
  RefreshStatePort,
  Tx,
} from '../../src/domain/ports/persistence.js';

/*
 * In-memory persistence ports for the unit tier: the domain services run
 * against these instead of a database. Only what the unit tests reach is
 * faked; a port method nobody faked throws, naming itself, so a test never
 * passes by silently reading nothing. Transactions run the work at once
 * (one test, one caller: there is nothing to isolate).
 */

const NO_REFRESH: RefreshState = {
  refreshAttemptId: null,
  refreshAttemptBy: null,
  refreshStartedAt: null,
  refreshLeaseUntil: null,
  refreshFailures: 0,
  refreshNextAttemptAt: null,
  refreshTokenRotates: null,
};

export interface FakePersistence extends Persistence {
  rows: { apiKeys: Map<string, ApiKeyRow>; providers: Map<string, ProviderRow>; connections: Map<string, ConnectionRow> };
}

function unfaked<T extends object>(port: string, faked: Partial<T>): T {
  return new Proxy(faked, {
    get(target, name) {
      if (name in target) return target[name as keyof typeof target];
      if (typeof name === 'symbol' || name === 'then') return undefined;
      return () => {
        throw new Error(`fake persistence: ${port}.${name} is not faked`);
      };
    },
  }) as T;
}

export function fakePersistence(clock: () => number = Date.now): FakePersistence {
  const apiKeys = new Map<string, ApiKeyRow>();
  const providers = new Map<string, ProviderRow>();
  const connections = new Map<string, ConnectionRow>();
  const now = () => new Date(clock());
  const own = <T extends { projectId: string }>(row: T | undefined, projectId: string) =>
    row && row.projectId === projectId ? structuredClone(row) : null;

  const store: Partial<FakePersistence> = {
    rows: { apiKeys, providers, connections },
    transaction: <T>(work: (tx: Tx) => Promise<T>) => work({}),
    apiKeys: unfaked<ApiKeysPort>('apiKeys', {
      async insert(row) {
        apiKeys.set(row.id, { ...row, createdAt: now(), revokedAt: null });
      },
      async findActiveByHash(keyHash) {
        return [...apiKeys.values()].find((k) => k.keyHash === keyHash && !k.revokedAt) ?? null;
      },
    }),
    providers: unfaked<ProvidersPort>('providers', {
      async insert(row) {
        const stored = { ...row, createdAt: now(), updatedAt: now() };
        providers.set(row.id, stored);
        return structuredClone(stored);
      },
      async findById(projectId, id) {
        return own(providers.get(id), projectId);
      },
      async findByName(projectId, name) {
        return own([...providers.values()].find((p) => p.projectId === projectId && p.name === name), projectId);
      },
      async findByIdOrName(projectId, idOrName) {
        return own(providers.get(idOrName) ?? [...providers.values()].find((p) => p.projectId === projectId && p.name === idOrName), projectId);
      },
      async list(q) {
        return [...providers.values()]
          .filter((p) => p.projectId === q.projectId && (!q.enabledOnly || p.enabled))
          .filter((p) => !q.category || p.categories.includes(q.category))
          .filter((p) => q.afterName === undefined || p.name > q.afterName)
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .slice(0, q.limit)
          .map((p) => structuredClone(p));
      },
      async save(row) {
        const stored = { ...row, updatedAt: now() };
        providers.set(row.id, stored);
        return structuredClone(stored);
      },
      async delete(projectId, id) {
        if (providers.get(id)?.projectId === projectId) providers.delete(id);
      },
    }),
    connections: unfaked<ConnectionsPort>('connections', {
      async insert(row) {
        const stored = { ...row, ...NO_REFRESH, createdAt: now(), updatedAt: now() };
        connections.set(row.id, stored);
        return structuredClone(stored);
      },
      async findById(projectId, id) {
        return own(connections.get(id), projectId);
      },
      async findByIdForUpdate(projectId, id) {
        return own(connections.get(id), projectId);
      },
      async findWithProvider(projectId, id) {
        const connection = own(connections.get(id), projectId);
        const provider = connection && own(providers.get(connection.providerId), projectId);
        return connection && provider ? { connection, provider } : null;
      },
      async countLive(projectId, providerId) {
        return [...connections.values()].filter((c) => c.projectId === projectId && c.providerId === providerId && c.status !== 'REVOKED').length;
      },
      async update(projectId, id, patch) {
        const row = connections.get(id);
        if (!row || row.projectId !== projectId) throw new Error(`fake persistence: no connection ${id}`);
        Object.assign(row, patch, { updatedAt: now() });
        return structuredClone(row);
      },
    }),
    refresh: unfaked<RefreshStatePort>('refresh', {
      async setState(id, patch) {
        const row = connections.get(id);
        if (row) Object.assign(row, patch);
      },
    }),
  };
  for (const port of ['projects', 'projectQuotas', 'authStates', 'events', 'clients', 'accounts', 'sessions', 'refreshTokens', 'oneTimeCodes', 'signingKeys', 'clientRegistrations', 'audit'] as const) {
    (store as Record<string, unknown>)[port] = unfaked(port, {});
  }
  return store as FakePersistence;
}

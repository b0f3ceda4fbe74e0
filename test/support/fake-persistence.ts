import type { AccountRow } from '../../src/domain/model/account.js';
import type { AuditChainHead, AuditEventRow } from '../../src/domain/model/audit-event.js';
import type { WebhookEndpointRow } from '../../src/domain/model/webhook.js';
import type { ApiKeyRow } from '../../src/domain/model/api-key.js';
import type { AuthSessionRow } from '../../src/domain/model/auth-session.js';
import type { AuthStateRow } from '../../src/domain/model/auth-state.js';
import type { ConnectionRow, RefreshState } from '../../src/domain/model/connection.js';
import type { OAuthClientRow } from '../../src/domain/model/oauth-client.js';
import type { OneTimeCodeRow } from '../../src/domain/model/one-time-code.js';
import type { ProjectRow } from '../../src/domain/model/project.js';
import type { RefreshTokenRow } from '../../src/domain/model/refresh-token.js';
import type { SigningKeyRow } from '../../src/domain/model/signing-key.js';
import type { ProviderRow } from '../../src/domain/model/provider.js';
import type {
  AccountsPort,
  ApiKeysPort,
  AuthSessionsPort,
  AuditEventsPort,
  WebhookEndpointsPort,
  AuthStatesPort,
  ClientRegistrationsPort,
  ConnectionsPort,
  OAuthClientsPort,
  OneTimeCodesPort,
  Persistence,
  ProjectsPort,
  ProvidersPort,
  RefreshStatePort,
  RefreshTokensPort,
  SigningKeysPort,
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
  rows: {
    apiKeys: Map<string, ApiKeyRow>;
    providers: Map<string, ProviderRow>;
    connections: Map<string, ConnectionRow>;
    authStates: Map<string, AuthStateRow>;
    clients: Map<string, OAuthClientRow>;
    signingKeys: Map<string, SigningKeyRow>;
    accounts: Map<string, AccountRow>;
    sessions: Map<string, AuthSessionRow>;
    oneTimeCodes: Map<string, OneTimeCodeRow>;
    refreshTokens: Map<string, RefreshTokenRow>;
    projects: Map<string, ProjectRow>;
    /** Each project's audit chain, ascending seq. */
    audit: Map<string, AuditEventRow[]>;
  };
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
  const authStates = new Map<string, AuthStateRow>();
  const clients = new Map<string, OAuthClientRow>();
  const projects = new Map<string, ProjectRow>();
  const signingKeys = new Map<string, SigningKeyRow>();
  const accounts = new Map<string, AccountRow>();
  const sessions = new Map<string, AuthSessionRow>();
  const oneTimeCodes = new Map<string, OneTimeCodeRow>();
  const refreshTokens = new Map<string, RefreshTokenRow>();
  const audit = new Map<string, AuditEventRow[]>();
  const auditHeads = new Map<string, AuditChainHead>();
  const copy = <T>(row: T | undefined): T | null => (row ? structuredClone(row) : null);
  const now = () => new Date(clock());
  const own = <T extends { projectId: string }>(row: T | undefined, projectId: string) => (row && row.projectId === projectId ? structuredClone(row) : null);

  const store: Partial<FakePersistence> = {
    rows: { apiKeys, providers, connections, authStates, clients, signingKeys, accounts, sessions, oneTimeCodes, refreshTokens, projects, audit },
    transaction: <T>(work: (tx: Tx) => Promise<T>) => work({}),
    projects: unfaked<ProjectsPort>('projects', {
      async ensure(id, name) {
        const existing = [...projects.values()].find((p) => p.name === name);
        if (existing) return structuredClone(existing);
        const row: ProjectRow = { id, name, displayName: '', allowedReturnUrls: [], corsOrigins: [], branding: {}, createdAt: now(), updatedAt: now() };
        projects.set(id, row);
        return structuredClone(row);
      },
      async findById(id) {
        return copy(projects.get(id));
      },
      async findByName(name) {
        return copy([...projects.values()].find((p) => p.name === name));
      },
      async insert(row) {
        if (projects.has(row.id) || [...projects.values()].some((p) => p.name === row.name)) return null;
        const stored: ProjectRow = { displayName: '', allowedReturnUrls: [], corsOrigins: [], branding: {}, ...row, createdAt: now(), updatedAt: now() };
        projects.set(row.id, stored);
        return structuredClone(stored);
      },
      async list(q) {
        return [...projects.values()]
          .filter((p) => q.afterId === undefined || p.id > q.afterId)
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .slice(0, q.limit)
          .map((p) => structuredClone(p));
      },
      async update(id, patch) {
        const row = projects.get(id);
        if (!row) return null;
        Object.assign(row, patch, { updatedAt: now() });
        return structuredClone(row);
      },
      async delete(id) {
        if (!projects.delete(id)) return false;
        // The database's cascade: every row of the project goes with it.
        for (const table of [apiKeys, providers, connections, clients] as Map<string, { projectId: string }>[]) {
          for (const [key, row] of table) if (row.projectId === id) table.delete(key);
        }
        return true;
      },
      async listCorsOrigins() {
        return [...new Set([...projects.values()].flatMap((p) => p.corsOrigins))];
      },
      async countLiveConnections(id) {
        return [...connections.values()].filter((c) => c.projectId === id && c.status !== 'REVOKED').length;
      },
    }),
    apiKeys: unfaked<ApiKeysPort>('apiKeys', {
      async insert(row) {
        apiKeys.set(row.id, { ...row, expiresAt: row.expiresAt ?? null, createdAt: now(), revokedAt: null, lastUsedAt: null });
      },
      async findById(projectId, id) {
        return own(apiKeys.get(id), projectId);
      },
      async findByHash(keyHash) {
        const row = [...apiKeys.values()].find((k) => k.keyHash === keyHash);
        return row ? structuredClone(row) : null;
      },
      async lockBootstrap() {},
      async listByProject(projectId) {
        return [...apiKeys.values()].filter((k) => k.projectId === projectId).map((k) => structuredClone(k));
      },
      async page(q) {
        return [...apiKeys.values()]
          .filter((k) => k.projectId === q.projectId && (q.afterId === undefined || k.id > q.afterId))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .slice(0, q.limit)
          .map((k) => structuredClone(k));
      },
      async listActiveNamed(projectId, name, keepHash) {
        return [...apiKeys.values()]
          .filter((k) => k.projectId === projectId && k.name === name && k.keyHash !== keepHash && !k.revokedAt)
          .map((k) => structuredClone(k));
      },
      async revoke(projectId, id) {
        const row = apiKeys.get(id);
        if (!row || row.projectId !== projectId || row.revokedAt) return false;
        row.revokedAt = now();
        return true;
      },
      async expireBy(projectId, id, at) {
        const row = apiKeys.get(id);
        if (!row || row.projectId !== projectId || row.revokedAt) return false;
        if (!row.expiresAt || row.expiresAt > at) row.expiresAt = at;
        return true;
      },
      async touch(uses) {
        for (const [id, at] of uses) {
          const row = apiKeys.get(id);
          if (row && (!row.lastUsedAt || row.lastUsedAt < at)) row.lastUsedAt = at;
        }
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
        return own(
          [...providers.values()].find((p) => p.projectId === projectId && p.name === name),
          projectId,
        );
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
      async listWithSecrets() {
        return [...providers.values()].filter((p) => p.clientSecretSealed !== null).map((p) => structuredClone(p));
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
      async list(q) {
        return [...connections.values()]
          .filter((c) => c.projectId === q.projectId && (!q.workspaceId || c.workspaceId === q.workspaceId))
          .filter((c) => (!q.providerId || c.providerId === q.providerId) && (!q.status || c.status === q.status))
          .filter((c) => q.beforeId === undefined || c.id < q.beforeId)
          .sort((a, b) => (a.id < b.id ? 1 : -1))
          .slice(0, q.limit)
          .map((c) => structuredClone(c));
      },
      async supersede(projectId, workspaceId, providerId, newId) {
        const older = [...connections.values()].filter(
          (c) =>
            c.projectId === projectId &&
            c.workspaceId === workspaceId &&
            c.providerId === providerId &&
            c.id !== newId &&
            (c.status === 'ACTIVE' || c.status === 'ATTENTION_REQUIRED'),
        );
        for (const row of older) {
          Object.assign(row, {
            status: 'REVOKED',
            statusReason: 'superseded',
            supersededBy: newId,
            credentialsSealed: null,
            tokenExpiresAt: null,
            updatedAt: now(),
          });
        }
        return older.map((row) => structuredClone(row));
      },
      async listWithCredentials() {
        return [...connections.values()].filter((c) => c.credentialsSealed !== null).map((c) => structuredClone(c));
      },
      async update(projectId, id, patch) {
        const row = connections.get(id);
        if (!row || row.projectId !== projectId) throw new Error(`fake persistence: no connection ${id}`);
        Object.assign(row, patch, { updatedAt: now() });
        return structuredClone(row);
      },
    }),
    authStates: unfaked<AuthStatesPort>('authStates', {
      async insert(row) {
        authStates.set(row.id, {
          ...row,
          linkHash: row.linkHash ?? null,
          providerUrl: row.providerUrl ?? null,
          clientId: row.clientId ?? null,
          browserBindingHash: row.browserBindingHash ?? null,
          confirmedAt: row.confirmedAt ?? null,
          consumedAt: null,
          createdAt: now(),
        });
      },
      async findById(id) {
        const row = authStates.get(id);
        return row ? structuredClone(row) : null;
      },
      async findByLinkHash(linkHash) {
        const row = [...authStates.values()].find((s) => s.linkHash === linkHash);
        return row ? structuredClone(row) : null;
      },
      async consume(id) {
        const row = authStates.get(id);
        if (!row || row.consumedAt) return false;
        row.consumedAt = now();
        return true;
      },
    }),
    clients: unfaked<OAuthClientsPort>('clients', {
      async insert(row) {
        const stored = { ...row, createdAt: now(), updatedAt: now() } as OAuthClientRow;
        clients.set(row.id, stored);
        return structuredClone(stored);
      },
      async findById(projectId, id) {
        return own(clients.get(id), projectId);
      },
      async findAnyById(id) {
        const row = clients.get(id);
        return row ? structuredClone(row) : null;
      },
      async list(q) {
        return [...clients.values()]
          .filter((c) => c.projectId === q.projectId && (q.beforeId === undefined || c.id < q.beforeId))
          .sort((a, b) => (a.id < b.id ? 1 : -1))
          .slice(0, q.limit)
          .map((c) => structuredClone(c));
      },
      async update(projectId, id, patch) {
        const row = clients.get(id);
        if (!row || row.projectId !== projectId) return null;
        Object.assign(row, patch, { updatedAt: now() });
        return structuredClone(row);
      },
      async delete(projectId, id) {
        return clients.get(id)?.projectId === projectId && clients.delete(id);
      },
    }),
    signingKeys: unfaked<SigningKeysPort>('signingKeys', {
      async insert(row) {
        signingKeys.set(row.id, { ...row, createdAt: now(), retiredAt: null });
      },
      async listAll() {
        return [...signingKeys.values()].reverse().map((k) => structuredClone(k));
      },
      async lock() {},
      async retireAllExcept(id, at) {
        for (const row of signingKeys.values()) if (row.id !== id && !row.retiredAt) row.retiredAt = at;
      },
      async updateSealed(id, privateKeySealed) {
        const row = signingKeys.get(id);
        if (row) row.privateKeySealed = privateKeySealed;
      },
    }),
    accounts: unfaked<AccountsPort>('accounts', {
      async upsert(row, at) {
        const existing = [...accounts.values()].find((a) => a.projectId === row.projectId && a.address === row.address);
        if (existing) {
          existing.lastSignInAt = at;
          return structuredClone(existing);
        }
        const stored = { ...row, createdAt: at, lastSignInAt: at };
        accounts.set(row.id, stored);
        return structuredClone(stored);
      },
      async findById(projectId, id) {
        return own(accounts.get(id), projectId);
      },
    }),
    sessions: unfaked<AuthSessionsPort>('sessions', {
      async insert(row) {
        const stored = { ...row, createdAt: now(), revokedAt: null, revokeReason: null };
        sessions.set(row.id, stored);
        return structuredClone(stored);
      },
      async findById(id) {
        return copy(sessions.get(id));
      },
      async findByIdForUpdate(id) {
        return copy(sessions.get(id));
      },
      async revoke(id, reason, at) {
        const row = sessions.get(id);
        if (!row || row.revokedAt) return false;
        Object.assign(row, { revokedAt: at, revokeReason: reason });
        return true;
      },
      async updateScopes(id, scopes) {
        const row = sessions.get(id);
        if (row) row.scopes = scopes;
      },
    }),
    oneTimeCodes: unfaked<OneTimeCodesPort>('oneTimeCodes', {
      async insert(row) {
        oneTimeCodes.set(`${row.kind}:${row.codeHash}`, { ...row, usedAt: null });
      },
      async findByHash(kind, codeHash) {
        return copy(oneTimeCodes.get(`${kind}:${codeHash}`));
      },
      async countLive(kind, clientId, at, cap) {
        const live = [...oneTimeCodes.values()].filter((c) => c.kind === kind && c.clientId === clientId && !c.usedAt && c.expiresAt > at);
        return Math.min(live.length, cap);
      },
      async markUsed(kind, codeHash, at) {
        const row = oneTimeCodes.get(`${kind}:${codeHash}`);
        if (!row || row.usedAt) return false;
        row.usedAt = at;
        return true;
      },
      async purgeExpired() {
        return 0;
      },
    }),
    refreshTokens: unfaked<RefreshTokensPort>('refreshTokens', {
      async insert(row) {
        refreshTokens.set(row.tokenHash, { ...row, createdAt: now(), usedAt: null });
      },
      async findByHash(tokenHash) {
        return copy(refreshTokens.get(tokenHash));
      },
      async markUsed(tokenHash, at) {
        const row = refreshTokens.get(tokenHash);
        if (!row || row.usedAt) return false;
        row.usedAt = at;
        return true;
      },
      async purgeExpired() {
        return 0;
      },
    }),
    // Dynamic (MCP) client registrations: none in the unit tier.
    clientRegistrations: unfaked<ClientRegistrationsPort>('clientRegistrations', {
      async listWithSecrets() {
        return [];
      },
    }),
    refresh: unfaked<RefreshStatePort>('refresh', {
      async setState(id, patch) {
        const row = connections.get(id);
        if (row) Object.assign(row, patch);
      },
    }),
  };
  // The audit log: each project's chain, as the repository keeps it (one head per project, appends after it).
  (store as { audit: AuditEventsPort }).audit = unfaked<AuditEventsPort>('audit', {
    async appendChain(projectId, build) {
      const head = auditHeads.get(projectId) ?? { projectId, seq: 0, hash: '', anchorSeq: 0, anchorHash: '' };
      const rows = build({ seq: head.seq, hash: head.hash });
      const chainRows = audit.get(projectId) ?? [];
      chainRows.push(...rows.map((r) => structuredClone(r)));
      audit.set(projectId, chainRows);
      const last = rows[rows.length - 1];
      auditHeads.set(projectId, last ? { ...head, seq: last.seq, hash: last.hash } : head);
      return rows;
    },
    async heads(projectId) {
      return [...auditHeads.values()].filter((h) => projectId === undefined || h.projectId === projectId).map((h) => ({ ...h }));
    },
    async query(q) {
      return (audit.get(q.projectId) ?? [])
        .filter((e) => e.seq > q.afterSeq && (!q.since || e.time >= q.since) && (!q.until || e.time < q.until))
        .filter((e) => (!q.actorId || e.actorId === q.actorId) && (!q.outcome || e.outcome === q.outcome))
        .filter((e) => !q.action || (q.action.endsWith('.') ? e.action.startsWith(q.action) : e.action === q.action))
        .filter((e) => (!q.targetType || e.targetType === q.targetType) && (!q.targetId || e.targetId === q.targetId))
        .slice(0, q.limit)
        .map((e) => structuredClone(e));
    },
  });
  // Webhook endpoints as the repository keeps them (the outbox and deliveries: see the integration tier).
  const webhookEndpoints = new Map<string, WebhookEndpointRow>();
  const endpointsOf = (projectId: string) => [...webhookEndpoints.values()].filter((e) => e.projectId === projectId).sort((a, b) => (a.id < b.id ? -1 : 1));
  (store as { webhooks: WebhookEndpointsPort }).webhooks = unfaked<WebhookEndpointsPort>('webhooks', {
    async insert(row) {
      const stored: WebhookEndpointRow = { ...structuredClone(row), createdAt: now(), updatedAt: now() };
      webhookEndpoints.set(row.id, stored);
      return structuredClone(stored);
    },
    async findById(projectId, id) {
      return own(webhookEndpoints.get(id), projectId);
    },
    async findByIdForUpdate(projectId, id) {
      return own(webhookEndpoints.get(id), projectId);
    },
    async list(q) {
      return endpointsOf(q.projectId)
        .filter((e) => q.afterId === undefined || e.id > q.afterId)
        .slice(0, q.limit)
        .map((e) => structuredClone(e));
    },
    async countByProject(projectId) {
      return endpointsOf(projectId).length;
    },
    async lockProject() {},
    async update(projectId, id, patch) {
      const row = webhookEndpoints.get(id);
      if (!row || row.projectId !== projectId) return null;
      Object.assign(row, structuredClone(patch), { updatedAt: now() });
      return structuredClone(row);
    },
    async delete(projectId, id) {
      const row = webhookEndpoints.get(id);
      return row?.projectId === projectId && webhookEndpoints.delete(id);
    },
    async listAll() {
      return [...webhookEndpoints.values()].map((e) => structuredClone(e));
    },
  });
  for (const port of ['projectQuotas', 'events'] as const) {
    (store as Record<string, unknown>)[port] = unfaked(port, {});
  }
  return store as FakePersistence;
}

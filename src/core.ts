import type { Logger } from 'pino';
import { loadAuditConfig, loadLoadConfig, type Config } from './config/config.js';
import { ProjectQuotas } from './domain/quotas/project-quotas.js';
import { AuditRecorder } from './domain/audit/audit-recorder.js';
import { AuditReader } from './domain/audit/audit-reader.js';
import { ApiKeyAdmin } from './domain/access/api-key-admin.js';
import { ApiKeys } from './domain/access/api-keys.js';
import { WEB_APP_PATH } from './domain/auth/auth-service.js';
import { ClientRegistry } from './domain/auth/client-registry.js';
import { SigningKeys } from './domain/auth/signing-keys.js';
import { ProviderCatalog } from './domain/catalog/provider-catalog.js';
import { ConnectionEvents } from './domain/connections/connection-events.js';
import { ConnectionService } from './domain/connections/connection-service.js';
import { ProviderRemoval } from './domain/connections/provider-removal.js';
import { mcpAuthorization } from './domain/mcp/index.js';
import { OAuthClient } from './domain/oauth/oauth-client.js';
import { ProviderIdentities } from './domain/oauth/provider-identity.js';
import { OutboundPolicy, type Resolver } from './domain/outbound/outbound-policy.js';
import { createSafeFetch } from './domain/outbound/safe-fetch.js';
import { bootstrap } from './domain/access/projects.js';
import { ProviderService } from './domain/providers/provider-service.js';
import { CorsOrigins } from './domain/projects/cors-origins.js';
import { ProjectAdmin, projectReturnUrls } from './domain/projects/project-admin.js';
import { openDatabase, type Database } from './storage/data-source.js';
import { createEventListener } from './storage/event-listener.js';
import { Store } from './storage/store.js';
import { hostedApp } from './hosted-command.js';
import type { Clock } from './domain/ports/clock.js';
import { WebhookService } from './domain/webhooks/webhook-service.js';

/**
 * What every command needs: the migrated database, the store, the domain
 * services and the keys. No HTTP, no Connect, no background work: one-shot
 * CLI commands (`nexus migrate`, `providers apply`, `keys:*`,
 * `api-keys:create`) use this alone, and the server (app.ts) builds on it.
 */
export interface Core {
  config: Config;
  database: Database;
  store: Store;
  catalog: ProviderCatalog;
  apiKeys: ApiKeys;
  /** ApiKeyService and `nexus api-keys`: who may manage which project's keys. */
  apiKeyAdmin: ApiKeyAdmin;
  /** ProjectService and `nexus projects` (the installation operator). */
  projects: ProjectAdmin;
  /** Each project's call quotas: the installation defaults (NEXUS_QUOTA_*) and the project's own. */
  projectQuotas: ProjectQuotas;
  /** The browser origins allowed to call the API: NEXUS_CORS_ORIGINS and every project's. */
  corsOrigins: CorsOrigins;
  providers: ProviderService;
  connections: ConnectionService;
  /** DeleteProvider: the provider's connections first, then the provider. */
  providerRemoval: ProviderRemoval;
  oauth: OAuthClient;
  /** What outbound calls may reach (NEXUS_OUTBOUND_ALLOWED_HOSTS; SSRF rules); the proxy's streaming fetch uses it too. */
  outbound: OutboundPolicy;
  /** Connection events: published inside status-changing transactions; heard only once the server starts them. */
  events: ConnectionEvents;
  /** User-token signing keys (loaded by the server: SigningKeys.ensure). */
  signingKeys: SigningKeys;
  clients: ClientRegistry;
  /**
   * The audit log (src/domain/audit/): `record` an event, never a secret.
   * RPCs are recorded by the audit interceptor; HTTP routes, background work
   * and domain events call it themselves.
   */
  audit: AuditRecorder;
  /** Reads the audit log: verify, list, export. */
  auditReader: AuditReader;
  /** WebhookService and `nexus webhooks`: a project's webhook endpoints and their deliveries. */
  webhooks: WebhookService;
  /** Set when this start generated the default project's admin key. */
  generatedAdminKey: string | undefined;
  close(): Promise<void>;
}

export interface CoreOptions {
  /** Generate (and report) an admin key when the default project has none: `nexus start` only. */
  generateAdminKey?: boolean;
  /**
   * The domain's clock (src/domain/ports/clock.ts): end-user auth (token, code,
   * nonce and handoff expiry), signing keys, OAuth state and consent-link
   * expiry, API-key and MCP caches, event pruning and stream heartbeats.
   * The system clock when unset; tests move it instead of sleeping.
   */
  clock?: Clock;
  /** The DNS resolver of outbound calls; the system's by default (tests map made-up names to loopback). */
  outboundResolver?: Resolver;
  /** The call quotas' clock, monotonic milliseconds (tests move it instead of sleeping). */
  quotaClock?: () => number;
}

/** Opens the database (migrations run), makes sure the default project exists, and wires the domain services. */
export async function createCore(config: Config, logger: Logger, options: CoreOptions = {}): Promise<Core> {
  // A CLI command run by the server for its control socket (src/control/) uses the server's own core.
  const hosted = hostedApp<Core>(config);
  if (hosted) return hosted;
  const { clock } = options;
  // An empty data directory keeps the embedded database in memory (tests).
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir || undefined, poolSize: config.dbPoolSize });
  try {
    const store = new Store(database.dataSource);
    const events = new ConnectionEvents(store, createEventListener(database, logger), {
      retentionMs: config.eventRetentionMs,
      log: logger,
      ...(clock ? { clock } : {}),
    });
    const auditConfig = config.audit ?? loadAuditConfig({});
    const audit = new AuditRecorder(store.audit, {
      flushMs: auditConfig.flushMs,
      maxBuffered: auditConfig.maxBuffered,
      warn: (message, context) => logger.warn(context, message),
      ...(clock ? { clock } : {}),
    });
    const apiKeys = new ApiKeys(store, {
      clock,
      warn: (message, context) => logger.warn(context, message),
    });
    apiKeys.hearRevocations(events);
    const { generatedAdminKey, retiredAdminKeys } = await bootstrap(store, apiKeys, config.adminApiKey, options.generateAdminKey ?? false);
    if (retiredAdminKeys.length > 0) logger.warn({ retired: retiredAdminKeys }, 'NEXUS_ADMIN_API_KEY changed: the previous key is revoked');
    const outbound = new OutboundPolicy({
      production: config.production,
      allowedHosts: config.outboundAllowedHosts,
      ...(options.outboundResolver ? { resolver: options.outboundResolver } : {}),
    });
    // One SSRF-safe fetch for every call to a provider, an MCP server or an authorization server.
    const outboundFetch = createSafeFetch(outbound, { timeoutMs: config.providerTimeoutMs });
    const oauth = new OAuthClient({
      timeoutMs: config.providerTimeoutMs,
      allowInsecureRequests: !config.production,
      mcp: mcpAuthorization(config, store, outbound, outboundFetch, clock),
      policy: outbound,
      fetch: outboundFetch,
    });
    const providers = new ProviderService(store, config.keyRing, !config.production, outbound, (tx, projectId) =>
      events.publishProvidersChanged(tx, projectId),
    );
    const connections = new ConnectionService({
      store,
      keyRing: config.keyRing,
      providers,
      oauth,
      identities: new ProviderIdentities(oauth, { timeoutMs: config.providerTimeoutMs, allowInsecureRequests: !config.production, fetch: outboundFetch }),
      events,
      // The web app is a return URL of its own: providers send the user back into it.
      returnUrls: projectReturnUrls(store, config.allowedReturnUrls, [`${config.baseUrl}${WEB_APP_PATH}`]),
      baseUrl: config.baseUrl,
      warn: (message, context) => logger.warn(context, message),
      ...(clock ? { clock } : {}),
    });
    const corsOrigins = new CorsOrigins(config.corsOrigins, store);
    const load = config.load ?? loadLoadConfig({});
    const projectQuotas = new ProjectQuotas(
      store,
      { keyRatePerSecond: load.quotaKeyRatePerSecond, keyBurst: load.quotaKeyBurst, ipRatePerSecond: load.quotaIpRatePerSecond, ipBurst: load.quotaIpBurst },
      options.quotaClock ? { clock: options.quotaClock } : {},
    );
    return {
      config,
      database,
      store,
      apiKeyAdmin: new ApiKeyAdmin(store, apiKeys),
      projects: new ProjectAdmin(store, connections, !config.production, () => corsOrigins.invalidate(), projectQuotas),
      projectQuotas,
      corsOrigins,
      // Read and validated on first use (`providers apply`, the server); `migrate` never pays for it.
      get catalog() {
        return ProviderCatalog.builtin();
      },
      apiKeys,
      providers,
      connections,
      providerRemoval: new ProviderRemoval(store, providers, connections),
      oauth,
      outbound,
      events,
      signingKeys: new SigningKeys(store, config.keyRing, config.baseUrl, clock),
      clients: new ClientRegistry(store, !config.production),
      webhooks: new WebhookService(store, config.keyRing, outbound, { clock }),
      generatedAdminKey,
      audit,
      auditReader: new AuditReader(store.audit),
      async close() {
        // What is buffered is written while the database is still open.
        await audit.close();
        await events.close();
        await database.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}

import type { ConnectRouter } from '@connectrpc/connect';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadLoadConfig, type Config } from './config/config.js';
import { ApiKeys } from './domain/api-keys.js';
import { ConnectionEvents } from './domain/connections/connection-events.js';
import { ProviderCatalog } from './domain/catalog/provider-catalog.js';
import { AuthService } from './domain/auth/auth-service.js';
import { ClientRegistry } from './domain/auth/client-registry.js';
import { SigningKeys } from './domain/auth/signing-keys.js';
import { SiweVerifier } from './domain/auth/siwe.js';
import { ConnectionService } from './domain/connections/connection-service.js';
import { ConnectionWatch } from './domain/connections/connection-watch.js';
import { StreamCredentials } from './domain/stream-credentials.js';
import { mcpAuthorization } from './domain/mcp/index.js';
import { OAuthClient } from './domain/oauth/oauth-client.js';
import { OutboundPolicy, type Resolver } from './domain/outbound/outbound-policy.js';
import { createSafeFetch } from './domain/outbound/safe-fetch.js';
import { ProviderIdentities } from './domain/oauth/provider-identity.js';
import { bootstrap } from './domain/projects.js';
import { ProviderService } from './domain/providers/provider-service.js';
import { UrlAllowList } from './domain/url-allow-list.js';
import { invalidateOnEvents, TokenCache } from './domain/tokens/token-cache.js';
import { RefreshWorker } from './domain/tokens/refresh-worker.js';
import { Refresher } from './domain/tokens/refresher.js';
import { TokenService } from './domain/tokens/token-service.js';
import { Metrics } from './observability/metrics.js';
import { WEB_APP_PREFIX } from './http/web-app-route.js';
import { build } from './server.js';
import { hostedApp } from './control/host.js';
import { openDatabase, poolOf, type Database } from './storage/data-source.js';
import { createEventListener } from './storage/event-listener.js';
import { Store } from './storage/store.js';
import { Authenticator } from './transport/authenticate.js';
import { ClientIpResolver } from './transport/client-ip.js';
import { AuthHandler } from './transport/handlers/auth-handler.js';
import { ClientHandler } from './transport/handlers/client-handler.js';
import { ConnectionHandler } from './transport/handlers/connection-handler.js';
import { ProviderHandler } from './transport/handlers/provider-handler.js';
import { TokenHandler } from './transport/handlers/token-handler.js';

export interface App {
  server: FastifyInstance;
  store: Store;
  database: Database;
  apiKeys: ApiKeys;
  providers: ProviderService;
  catalog: ProviderCatalog;
  connections: ConnectionService;
  tokens: TokenService;
  /** GetToken's per-process cache (invalidated by connection events). */
  tokenCache: TokenCache;
  /** The background refresh worker, when this process runs one (started by createApp). */
  refreshWorker: RefreshWorker | undefined;
  /** This app's metrics registry (one per app). */
  metrics: Metrics;
  /** Connection events: publish inside a status-changing transaction, subscribe in memory (any replica's changes). */
  events: ConnectionEvents;
  watch: ConnectionWatch;
  auth: AuthService;
  clients: ClientRegistry;
  signingKeys: SigningKeys;
  /** Set when this start generated the default project's admin key. */
  generatedAdminKey: string | undefined;
  close(): Promise<void>;
}

/** Wires storage, domain and transport together. The server is built but not listening. */
export interface AppOptions {
  /** Generate (and report) an admin key when the default project has none: `nexus start` only. */
  generateAdminKey?: boolean;
  /** Services registered next to the published API (benchmarks only; see ServerDeps.extraServices). */
  extraServices?: (router: ConnectRouter) => void;
  /** The clock of end-user auth (token, code and handoff expiry); tests move it. */
  clock?: () => Date;
  /** Run the background refresh worker (`nexus start` per NEXUS_REFRESH_WORKER, `nexus worker`); one-shot commands do not. */
  refreshWorker?: boolean;
  /** false: serve only /healthz, /readyz and /metrics, no API (`nexus worker`). */
  serveApi?: boolean;
  /** The DNS resolver of outbound calls; the system's by default (tests map made-up names to loopback). */
  outboundResolver?: Resolver;
}

export async function createApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<App> {
  // A CLI command run by the server for its control socket (src/control/) uses the server's own app.
  const hosted = hostedApp(config);
  if (hosted) return hosted;
  // An empty data directory keeps the embedded database in memory (tests).
  const catalog = ProviderCatalog.builtin();
  const load = config.load ?? loadLoadConfig({});
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir || undefined, poolSize: config.dbPoolSize });
  let closeEvents = async () => {};
  try {
    const store = new Store(database.dataSource);
    const metrics = new Metrics();
    metrics.observePool(database.dataSource);
    const events = new ConnectionEvents(store, createEventListener(database, logger), {
      retentionMs: config.eventRetentionMs,
      log: logger,
    });
    await events.start();
    closeEvents = () => events.close();
    const apiKeys = new ApiKeys(store);
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
    const mcp = mcpAuthorization(config, store, outbound, outboundFetch);
    const oauth = new OAuthClient({
      timeoutMs: config.providerTimeoutMs,
      allowInsecureRequests: !config.production,
      mcp,
      policy: outbound,
      fetch: outboundFetch,
    });
    let connections: ConnectionService | undefined;
    const providers = new ProviderService(
      store,
      config.keyRing,
      !config.production,
      (projectId, providerId) => connections!.deleteAllForProvider(projectId, providerId),
      outbound,
      (tx, projectId) => events.publishProvidersChanged(tx, projectId),
    );
    connections = new ConnectionService({
      store,
      keyRing: config.keyRing,
      providers,
      oauth,
      identities: new ProviderIdentities(oauth, { timeoutMs: config.providerTimeoutMs, allowInsecureRequests: !config.production, fetch: outboundFetch }),
      events,
      // The web app is a return URL of its own: providers send the user back into it.
      returnUrls: new UrlAllowList([...config.allowedReturnUrls, `${config.baseUrl}${WEB_APP_PREFIX}`]),
      baseUrl: config.baseUrl,
      warn: (message, context) => logger.warn(context, message),
    });
    const tokenCache = new TokenCache({
      maxEntries: config.tokenCacheSize,
      maxAgeMs: config.tokenCacheMaxAgeMs,
      onLookup: metrics.tokenCacheLookup,
    });
    if (tokenCache.enabled) invalidateOnEvents(tokenCache, events);
    const refresher = new Refresher({
      store,
      keyRing: config.keyRing,
      providers,
      oauth,
      events,
      options: config.refresh,
      observer: metrics,
      warn: (message, context) => logger.warn(context, message),
    });
    const tokens = new TokenService({ store, keyRing: config.keyRing, refresher, cache: tokenCache });
    const worker = options.refreshWorker
      ? new RefreshWorker({ store, refresher, observer: metrics, warn: (message, context) => logger.warn(context, message) }, config.refresh)
      : undefined;
    const watch = new ConnectionWatch(store, events, {
      heartbeatMs: config.streamHeartbeatMs,
      maxStreams: config.maxStreams,
      maxStreamsPerPrincipal: load.maxStreamsPerPrincipal,
      adminReserve: Math.min(load.streamsAdminReserve, config.maxStreams - 1),
      snapshotMax: config.watchSnapshotMax,
      retentionMs: config.eventRetentionMs,
    }, {
      inc: (method) => metrics.streamsOpen.inc({ method }),
      dec: (method) => metrics.streamsOpen.dec({ method }),
    });
    const signingKeys = new SigningKeys(store, config.keyRing, config.baseUrl, options.clock);
    await signingKeys.ensure();
    const clients = new ClientRegistry(store, !config.production);
    const authService = new AuthService({
      store,
      clients,
      keys: signingKeys,
      siwe: new SiweVerifier(config.siweRpcUrl, config.providerTimeoutMs),
      settings: {
        baseUrl: config.baseUrl,
        accessTokenTtlSeconds: config.accessTokenTtlSeconds ?? 900,
        sessionTtlSeconds: config.sessionTtlSeconds ?? 30 * 86_400,
        webSessionTtlSeconds: config.webSessionTtlSeconds ?? 3600,
        handoffIpBindingRelaxed: config.handoffIpBindingRelaxed ?? false,
        maxLiveNonces: load.maxLiveNonces,
      },
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const auth = new Authenticator(apiKeys, authService);
    const server = await build({
      logger,
      corsOrigins: config.corsOrigins,
      store,
      connections,
      extraServices: options.extraServices,
      metrics,
      metricsToken: config.metricsToken,
      signingKeys,
      clientIps: new ClientIpResolver(config.trustedProxies ?? []),
      limits: load,
      dbWaiting: () => poolOf(database.dataSource)?.waitingCount ?? 0,
      verifyCredentials: (ctx) => auth.verify(ctx),
      serveApi: options.serveApi ?? true,
      handlers: {
        providers: new ProviderHandler(auth, providers, catalog),
        connections: new ConnectionHandler(auth, connections, watch, new StreamCredentials(events, { recheckMs: config.streamCredentialRecheckMs ?? 60_000 })),
        tokens: new TokenHandler(auth, tokens),
        auth: new AuthHandler(auth, authService),
        clients: new ClientHandler(auth, clients),
      },
    });
    worker?.start();
    return {
      server,
      store,
      database,
      apiKeys,
      providers,
      catalog,
      connections,
      tokens,
      tokenCache,
      metrics,
      events,
      watch,
      auth: authService,
      clients,
      signingKeys,
      generatedAdminKey,
      refreshWorker: worker,
      async close() {
        // Open streams end first (UNAVAILABLE, SERVER_SHUTTING_DOWN: clients resume elsewhere with their
        // cursor); otherwise they would hold the drain until its timeout.
        await events.close();
        // Then the worker: its refreshes in flight finish and commit while the database is still open.
        await worker?.stop();
        await server.close();
        await database.close();
      },
    };
  } catch (err) {
    await closeEvents();
    await database.close();
    throw err;
  }
}

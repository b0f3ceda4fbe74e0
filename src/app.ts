import type { ConnectRouter } from '@connectrpc/connect';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError, loadAuditConfig, loadLoadConfig, loadProxyConfig, loadWebhookDeliveryConfig, type Config } from './config/config.js';
import { defaultOf } from './config/settings.js';
import { createCore, type Core, type CoreOptions } from './core.js';
import { AuditRetention } from './domain/audit/audit-retention.js';
import { RefusalThrottle } from './domain/audit/refusal-throttle.js';
import { auditRefreshFailures } from './domain/tokens/refresh-audit.js';
import { observers } from './domain/tokens/refresh-observer.js';
import { AuditQueries } from './domain/audit/audit-queries.js';
import { AuditHandler } from './transport/handlers/audit-handler.js';
import { AuthService } from './domain/auth/auth-service.js';
import { TokenEndpoint } from './domain/token-exchange/token-endpoint.js';
import { SiweVerifier, type SiweRpc } from './domain/auth/siwe.js';
import { OutboundPolicy, type Resolver } from './domain/outbound/outbound-policy.js';
import { createSafeFetch, createSafeStream } from './domain/outbound/safe-fetch.js';
import { ConnectionWatch } from './domain/connections/connection-watch.js';
import { StreamCredentials } from './domain/connections/stream-credentials.js';
import { invalidateOnEvents, TokenCache } from './domain/tokens/token-cache.js';
import { RefreshWorker } from './domain/tokens/refresh-worker.js';
import { DeliveryWorker } from './domain/webhooks/delivery-worker.js';
import { liveWebhookSecrets } from './domain/webhooks/secrets.js';
import { createWebhookSender } from './domain/webhooks/sender.js';
import { signWebhook } from './domain/webhooks/signing.js';
import { Refresher } from './domain/tokens/refresher.js';
import { TokenService } from './domain/tokens/token-service.js';
import type { DualProtocolServer } from './http/dual-protocol-server.js';
import { Metrics } from './observability/metrics.js';
import { build } from './server.js';
import { hostedApp } from './hosted-command.js';
import { poolOf } from './storage/data-source.js';
import { Authenticator } from './transport/authenticate.js';
import { ClientIpResolver } from './transport/client-ip.js';
import { Quotas } from './transport/quotas.js';
import { ApiKeyHandler } from './transport/handlers/api-key-handler.js';
import { AuthHandler } from './transport/handlers/auth-handler.js';
import { ClientHandler } from './transport/handlers/client-handler.js';
import { ConnectionHandler } from './transport/handlers/connection-handler.js';
import { ProjectHandler } from './transport/handlers/project-handler.js';
import { ProviderHandler } from './transport/handlers/provider-handler.js';
import { TokenHandler } from './transport/handlers/token-handler.js';
import { WebhookHandler } from './transport/handlers/webhook-handler.js';

/** How often a WatchAuditEvents stream looks for events other replicas wrote (this process's own wake it at once). */
const AUDIT_POLL_MS = 1_000;

/** The server: the core (core.ts) with the token and auth services, the handlers, HTTP and the background worker. */
export interface App extends Core {
  server: FastifyInstance;
  tokens: TokenService;
  /** GetToken's per-process cache (invalidated by connection events). */
  tokenCache: TokenCache;
  /** The background refresh worker, when this process runs one (started by createApp). */
  refreshWorker: RefreshWorker | undefined;
  /** The webhook delivery worker, where the refresh worker runs unless NEXUS_WEBHOOK_WORKER=false (started by createApp). */
  webhookWorker: DeliveryWorker | undefined;
  /** This app's metrics registry (one per app). */
  metrics: Metrics;
  watch: ConnectionWatch;
  auth: AuthService;
  /** The call quotas of authenticated callers; HTTP routes that take an API key spend them with `enforceHttpQuota` (src/http/quota.ts). */
  quotas: Quotas;
}

/** Wires the server on top of the core. The server is built but not listening (unless `listener` already is). */
export interface AppOptions extends CoreOptions {
  /** Services registered next to the published API (benchmarks only; see ServerDeps.extraServices). */
  extraServices?: (router: ConnectRouter) => void;
  /** Run the background refresh worker (`nexus start` per NEXUS_REFRESH_WORKER, `nexus worker`); one-shot commands do not. */
  refreshWorker?: boolean;
  /** false: serve only /healthz, /readyz and /metrics, no API (`nexus worker`). */
  serveApi?: boolean;
  /** A server already bound to the port (`nexus start` binds it before migrations); the app serves on it. */
  listener?: DualProtocolServer;
  /** false: RPCs are not audited. Only the audit benchmark's reference server (bench/audit.bench.ts) sets it. */
  auditRpcs?: boolean;
}

export async function createApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<App> {
  // A CLI command run by the server for its control socket (src/control/) uses the server's own app.
  const hosted = hostedApp<App>(config);
  if (hosted) return hosted;
  const load = config.load ?? loadLoadConfig({});
  const core = await createCore(config, logger, options);
  const { store, events, database } = core;
  try {
    const metrics = new Metrics();
    metrics.observePool(database.dataSource);
    metrics.observeAudit(() => core.audit.buffered);
    await events.start();
    const tokenCache = new TokenCache({
      maxEntries: config.tokenCacheSize,
      maxAgeMs: config.tokenCacheMaxAgeMs,
      onLookup: metrics.tokenCacheLookup,
    });
    if (tokenCache.enabled) invalidateOnEvents(tokenCache, events);
    const refresher = new Refresher({
      store,
      keyRing: config.keyRing,
      providers: core.providers,
      oauth: core.oauth,
      events,
      options: config.refresh,
      observer: observers(metrics, auditRefreshFailures(core.audit)),
      warn: (message, context) => logger.warn(context, message),
    });
    const tokens = new TokenService({ store, keyRing: config.keyRing, refresher, cache: tokenCache });
    const worker = options.refreshWorker
      ? new RefreshWorker({ store, refresher, observer: metrics, warn: (message, context) => logger.warn(context, message) }, config.refresh)
      : undefined;
    const webhookConfig = config.webhooks ?? loadWebhookDeliveryConfig({});
    const webhookWorker =
      options.refreshWorker && webhookConfig.worker
        ? new DeliveryWorker(
            {
              deliveries: store.webhookDeliveries,
              send: createWebhookSender(core.outbound, { timeoutMs: webhookConfig.timeoutMs }),
              sign: signWebhook,
              liveSecrets: (endpoint, nowMs) => liveWebhookSecrets(config.keyRing, endpoint, nowMs),
              audit: core.audit,
              observer: metrics.webhookDelivery,
              warn: (message, context) => logger.warn(context, message),
              ...(options.clock ? { clock: options.clock } : {}),
            },
            webhookConfig,
          )
        : undefined;
    // A connection event committed by any replica may have queued deliveries: poll now rather than at the next interval.
    if (webhookWorker) events.subscribe({ filter: {}, onEvent: () => webhookWorker.nudge() });
    const watch = new ConnectionWatch(
      store,
      events,
      {
        heartbeatMs: config.streamHeartbeatMs,
        maxStreams: config.maxStreams,
        maxStreamsPerPrincipal: load.maxStreamsPerPrincipal,
        adminReserve: Math.min(load.streamsAdminReserve, config.maxStreams - 1),
        snapshotMax: config.watchSnapshotMax,
        retentionMs: config.eventRetentionMs,
        ...(options.clock ? { clock: options.clock } : {}),
      },
      {
        inc: (method) => metrics.streamsOpen.inc({ method }),
        dec: (method) => metrics.streamsOpen.dec({ method }),
      },
    );
    await core.signingKeys.ensure();
    const authService = new AuthService({
      store,
      clients: core.clients,
      keys: core.signingKeys,
      siwe: new SiweVerifier(siweRpc(config, options.outboundResolver)),
      settings: {
        baseUrl: config.baseUrl,
        accessTokenTtlSeconds: config.accessTokenTtlSeconds ?? defaultOf('NEXUS_ACCESS_TOKEN_TTL_SECONDS'),
        sessionTtlSeconds: config.sessionTtlSeconds ?? defaultOf('NEXUS_SESSION_TTL_SECONDS'),
        webSessionTtlSeconds: config.webSessionTtlSeconds ?? defaultOf('NEXUS_WEB_SESSION_TTL_SECONDS'),
        handoffIpBindingRelaxed: config.handoffIpBindingRelaxed ?? defaultOf('NEXUS_HANDOFF_IP_BINDING') === 'relaxed',
        maxLiveNonces: load.maxLiveNonces,
      },
      ...(options.clock ? { clock: options.clock } : {}),
      audit: core.audit,
    });
    const tokenEndpoint = new TokenEndpoint({ auth: authService, clients: core.clients, tokens, store, audit: core.audit });
    const auth = new Authenticator(core.apiKeys, authService);
    const streamCredentials = new StreamCredentials(events, {
      recheckMs: config.streamCredentialRecheckMs ?? defaultOf('NEXUS_STREAM_CREDENTIAL_RECHECK_SECONDS') * 1_000,
    });
    const auditQueries = new AuditQueries(store.audit, { heartbeatMs: config.streamHeartbeatMs, pollMs: AUDIT_POLL_MS });
    core.audit.onWritten(() => auditQueries.written());
    const quotas = new Quotas(core.projectQuotas, {
      replicas: load.quotaReplicas,
      refused: metrics.quotaRefused,
      ...(options.quotaClock ? { now: options.quotaClock } : {}),
    });
    const proxyConfig = config.proxy ?? loadProxyConfig({});
    const refusals = new RefusalThrottle(core.audit, {
      perIp: config.audit?.refusalsPerIpPerMinute ?? loadAuditConfig({}).refusalsPerIpPerMinute!,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const server = await build({
      logger,
      corsOrigins: core.corsOrigins,
      store,
      connections: core.connections,
      extraServices: options.extraServices,
      metrics,
      audit: core.audit,
      auditRpcs: options.auditRpcs ?? true,
      auditRefusals: { refusals, clients: (id) => core.clients.find(id) },
      metricsToken: config.metricsToken,
      signingKeys: core.signingKeys,
      tokenEndpoint: { endpoint: tokenEndpoint, baseUrl: config.baseUrl },
      clientIps: new ClientIpResolver(config.trustedProxies ?? defaultOf('NEXUS_TRUSTED_PROXIES')),
      limits: load,
      dbWaiting: () => poolOf(database.dataSource)?.waitingCount ?? 0,
      verifyCredentials: (ctx) => auth.verify(ctx),
      quotas,
      serveApi: options.serveApi ?? true,
      listener: options.listener,
      proxy: {
        tokens,
        stream: createSafeStream(core.outbound, proxyConfig),
        limits: proxyConfig,
      },
      handlers: {
        providers: new ProviderHandler(core.providers, core.providerRemoval, () => core.catalog),
        connections: new ConnectionHandler(core.connections, watch, streamCredentials, core.audit),
        tokens: new TokenHandler(tokens),
        auth: new AuthHandler(authService, tokenEndpoint, core.audit),
        clients: new ClientHandler(core.clients),
        audit: new AuditHandler(auditQueries, watch, streamCredentials),
        projects: new ProjectHandler(core.projects, core.projectQuotas),
        apiKeys: new ApiKeyHandler(core.apiKeyAdmin),
        webhooks: new WebhookHandler(core.webhooks),
      },
    });
    worker?.start();
    webhookWorker?.start();
    // Audit retention runs beside the refresh worker (one process or a few, not every replica).
    const retention = options.refreshWorker
      ? new AuditRetention(store.audit, (config.audit ?? loadAuditConfig({})).retentionMs, (message, context) => logger.warn(context, message))
      : undefined;
    retention?.start();
    // The core's own properties, copied as they are (a spread would read its lazy getters now).
    return Object.assign(Object.defineProperties({}, Object.getOwnPropertyDescriptors(core)) as Core, {
      server,
      tokens,
      tokenCache,
      metrics,
      watch,
      auth: authService,
      quotas,
      refreshWorker: worker,
      webhookWorker,
      async close() {
        // Open streams end first (UNAVAILABLE, SERVER_SHUTTING_DOWN: clients resume elsewhere with their
        // cursor); otherwise they would hold the drain until its timeout.
        await events.close();
        retention?.stop();
        // Then the workers: refreshes in flight finish and commit while the database is still open; webhook
        // requests get the drain deadline, then are handed back (or left to their lease).
        await Promise.all([worker?.stop(), webhookWorker?.stop(load.shutdownTimeoutMs)]);
        await server.close();
        // The last window's suppressed-refusal summaries, before the audit writer's last flush.
        refusals.close();
        await core.close();
      },
    });
  } catch (err) {
    await core.close();
    throw err;
  }
}

/**
 * NEXUS_SIWE_RPC_URL through the SSRF-safe fetch: the operator's own RPC
 * host:port is trusted (it may be an internal node), nothing else the
 * outbound policy refuses is; https only in production (a forged answer
 * would sign anyone in as a contract wallet); no redirects for a POST;
 * bounded time and body. A URL the policy refuses stops the start.
 */
function siweRpc(config: Config, resolver: Resolver | undefined): SiweRpc | undefined {
  if (!config.siweRpcUrl) return undefined;
  let url: URL;
  try {
    url = new URL(config.siweRpcUrl);
  } catch {
    throw new ConfigError('NEXUS_SIWE_RPC_URL is not an absolute URL');
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const policy = new OutboundPolicy({
    production: config.production,
    allowedHosts: [...(config.outboundAllowedHosts ?? []), `${url.hostname}:${port}`],
    ...(resolver ? { resolver } : {}),
  });
  try {
    policy.checkUrl(config.siweRpcUrl, 'NEXUS_SIWE_RPC_URL');
  } catch (err) {
    throw new ConfigError(`NEXUS_SIWE_RPC_URL ${(err as Error).message.replace(/^.*?NEXUS_SIWE_RPC_URL:?\s*/, '')}`);
  }
  return { url: config.siweRpcUrl, fetch: createSafeFetch(policy, { timeoutMs: config.providerTimeoutMs, maxBodyBytes: 64 * 1024, maxRedirects: 0 }) };
}

import { randomUUID } from 'node:crypto';
import type { ConnectRouter } from '@connectrpc/connect';
import type { UniversalHandler } from '@connectrpc/connect/protocol';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import type http from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createContextValues } from '@connectrpc/connect';
import type http2 from 'node:http2';
import { setMaxListeners } from 'node:events';
import { loadLoadConfig, type LoadConfig } from './config/config.js';
import type { Principal } from './domain/shared/principal.js';
import type { SigningKeys } from './domain/auth/signing-keys.js';
import type { ConnectionService } from './domain/connections/connection-service.js';
import { DualProtocolServer } from './http/dual-protocol-server.js';
import { registerCapturePageRoute } from './http/capture-page-route.js';
import { registerProxyRoute, type ProxyRouteDeps } from './transport/proxy-route.js';
import { registerConsentPageRoute } from './http/consent-page-route.js';
import { registerCors } from './http/cors.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { registerMetricsRoute } from './http/metrics-route.js';
import { registerJwksRoute } from './http/jwks-route.js';
import { registerOAuthTokenRoute } from './http/oauth-token-route.js';
import type { TokenEndpoint } from './domain/token-exchange/token-endpoint.js';
import { registerOAuthCallbackRoute } from './http/oauth-callback-route.js';
import { routeAudit } from './http/route-audit.js';
import { registerRootRoute } from './http/root-route.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import type { Metrics } from './observability/metrics.js';
import { OneLinePerRequest } from './http/request-log.js';
import { registerWebApp } from './http/web-app-route.js';
import type { Store } from './storage/store.js';
import { Admission, connectionKey } from './transport/admission.js';
import { clientIpKey, type ClientIpResolver } from './transport/client-ip.js';
import { TokenBuckets } from './http/token-bucket.js';
import { rateLimits } from './transport/rate-limit.js';
import type { Quotas } from './transport/quotas.js';
import { connectRoutes, type Handlers } from './transport/handlers/connect-routes.js';
import { errorInterceptor } from './transport/error-interceptor.js';
import { inputValidationInterceptor } from './transport/input-validation.js';
import { accessInterceptor } from './transport/access.js';
import { auditInterceptor, requestIdKey, type AuditInterceptorOptions } from './transport/audit-interceptor.js';
import type { AuditRecorder } from './domain/audit/audit-recorder.js';
import { READ_MAX_BYTES, withSafeProtocolErrors } from './transport/protocol-errors.js';

export { READ_MAX_BYTES };

export interface ServerDeps {
  logger: Logger;
  /** Browser origins allowed to call the API cross-origin (a fixed list, or the installation's and every project's). */
  corsOrigins: string[] | { allows(origin: string): Promise<boolean> };
  store: Store;
  handlers: Handlers;
  connections: ConnectionService;
  /** The OAuth token endpoint's grants, served at POST /oauth/token (with RFC 8414 metadata) when set. */
  tokenEndpoint?: { endpoint: TokenEndpoint; baseUrl: string };
  /** Public signing keys for `GET /.well-known/jwks.json`. */
  signingKeys: SigningKeys;
  /** Resolves the caller's IP (X-Forwarded-For only from trusted proxies). */
  clientIps: ClientIpResolver;
  /** How long in-flight RPCs may finish on close before they are aborted (default: limits.shutdownTimeoutMs). */
  shutdownTimeoutMs?: number;
  /** Connection, timeout and load limits (NEXUS_*; defaults when unset). */
  limits?: LoadConfig;
  /** Queries waiting for a pooled database connection (load shedding); none when unset. */
  dbWaiting?: () => number;
  /** Verifies a call's credentials; calls it does not verify are rate-limited per client IP. */
  verifyCredentials?: (ctx: { requestHeader: Headers }) => Promise<Principal | undefined>;
  /** The call quotas of authenticated callers (per key, per client IP); none when unset. */
  quotas?: Quotas;
  /**
   * Registers services beyond the published API on the same router (and so
   * the same interceptors and protocol handling). Benchmarks use it for their
   * reference echo RPC; `nexus start` registers none.
   */
  extraServices?: (router: ConnectRouter) => void;
  metrics: Metrics;
  /** The audit log: every call of the published API is recorded (src/transport/audit-interceptor.ts). */
  audit: AuditRecorder;
  /** false: no audit interceptor (the audit benchmark's reference only). */
  auditRpcs?: boolean;
  /** Bounds and records the refusals of callers that proved nothing (unknown, revoked or expired keys; unauthenticated clients). */
  auditRefusals?: AuditInterceptorOptions;
  /** Bearer token required by GET /metrics; unset leaves it open. */
  metricsToken?: string | undefined;
  /** The built Manage Connections web app; web/dist by default. */
  webAppDir?: string;
  /** false (`nexus worker`): only health checks and /metrics, no API, callback or pages. */
  serveApi?: boolean;
  /** A server already bound to the port (`nexus start`); this app takes over its requests. */
  listener?: DualProtocolServer | undefined;
  /** The credential-injecting proxy (/proxy/{connection_id}/...): not served when unset. */
  proxy?: Pick<ProxyRouteDeps, 'tokens' | 'stream' | 'limits'>;
}

/**
 * The HTTP server: Connect, gRPC and gRPC-Web for the three services, the
 * OAuth callback, the Manage Connections web app (/manage/, with the
 * capture page), health checks and /metrics, on one port that
 * speaks HTTP/1.1 and HTTP/2 cleartext. Does not listen; the caller does.
 */
export async function build(deps: ServerDeps): Promise<FastifyInstance> {
  const limits = deps.limits ?? loadLoadConfig({});
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Typed as the HTTP/1.1 server fastify expects; HTTP/2 requests share the compat API.
    serverFactory: (handler) => (deps.listener ? deps.listener.takeOver(handler) : new DualProtocolServer(handler, limits)) as unknown as http.Server,
    bodyLimit: READ_MAX_BYTES,
    // On close, idle keep-alive sockets go at once and HTTP/2 sessions get a GOAWAY; busy ones finish.
    forceCloseConnections: 'idle',
    logController: new OneLinePerRequest(),
    // Request ids name a request in the logs and the audit log of every replica: fastify's default
    // (req-1, req-2, ... per process) repeats across replicas and restarts.
    genReqId: () => randomUUID(),
  });
  // First, so every route and plugin registered below inherits it.
  registerSecurityHeaders(app);
  if (deps.serveApi === false) {
    registerRootRoute(app, false);
    registerHealthRoutes(app, deps.store);
    registerMetricsRoute(app, deps.metrics, deps.metricsToken);
    return app;
  }
  await registerCors(app, deps.corsOrigins);
  const admission = new Admission(limits, deps.dbWaiting ?? (() => 0));
  const buckets = new TokenBuckets({ ratePerSecond: limits.unauthRatePerSecond, burst: limits.unauthBurst });
  const verify = deps.verifyCredentials ?? (async () => undefined);
  // Services registered by extraServices: outside the published API and its access table.
  const unguarded = new Set<string>();
  // Every call in flight links its abort signal to this one; the plugin's own
  // (shutdownTimeoutMs) would warn "MaxListenersExceeded" past 10 concurrent
  // calls. Calls in flight are bounded by the admission limits instead.
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);
  const shutdownTimeoutMs = deps.shutdownTimeoutMs ?? limits.shutdownTimeoutMs;
  app.addHook('preClose', (done) => {
    setTimeout(() => shutdown.abort(), shutdownTimeoutMs).unref();
    done();
  });
  await app.register(fastifyConnectPlugin, {
    routes: (router) => {
      connectRoutes(deps.handlers)(router);
      const published = router.handlers.length;
      deps.extraServices?.(router);
      for (const h of router.handlers.slice(published)) unguarded.add(h.service.typeName);
      // Connect's own decoding and size errors get the same error contract as ours.
      const handlers = router.handlers as UniversalHandler[];
      handlers.splice(0, handlers.length, ...handlers.map(withSafeProtocolErrors));
    },
    // The metrics interceptor is outermost, so it sees the code the error interceptor settled on;
    // input validation, then access (ACCESS in access.ts: who may call each RPC), are innermost, so their refusals get the error contract.
    interceptors: [
      deps.metrics.interceptor(),
      errorInterceptor((err, procedure) => deps.logger.error({ err, procedure }, 'unexpected error in RPC')),
      // Shedding first, so a refused call costs nothing; then the per-IP budget of unauthenticated calls and the quotas of authenticated ones.
      admission.interceptor(),
      rateLimits(buckets, verify, deps.quotas),
      // After the rate limiter (it verified the credentials), before access, so refusals are recorded too.
      ...(deps.auditRpcs === false ? [] : [auditInterceptor(deps.audit, deps.auditRefusals)]),
      inputValidationInterceptor(),
      accessInterceptor(verify, () => unguarded),
    ],
    // Protobuf JSON's own default: a misspelled field or enum name is an error, not silently dropped
    // (Connect ignores both unless told otherwise). protocol-errors.ts names the field in the error.
    jsonOptions: { ignoreUnknownFields: false },
    readMaxBytes: READ_MAX_BYTES,
    contextValues: (req) =>
      createContextValues()
        .set(clientIpKey, deps.clientIps.resolve(req.socket.remoteAddress, req.headers['x-forwarded-for']))
        .set(requestIdKey, req.id)
        .set(connectionKey, (req.raw as unknown as Partial<http2.Http2ServerRequest>).stream?.session ?? req.raw.socket),
    shutdownSignal: shutdown.signal,
  });
  const audit = routeAudit(deps.audit, (req) => deps.clientIps.resolve(req.socket.remoteAddress, req.headers['x-forwarded-for']));
  registerOAuthCallbackRoute(app, deps.connections, audit);
  registerConsentPageRoute(app, deps.connections.consent, audit);
  registerCapturePageRoute(app);
  if (deps.tokenEndpoint) {
    registerOAuthTokenRoute(app, {
      ...deps.tokenEndpoint,
      buckets,
      clientIp: (req) => deps.clientIps.resolve(req.socket.remoteAddress, req.headers['x-forwarded-for']),
      logError: (err) => deps.logger.error({ err }, 'unexpected error in the OAuth token endpoint'),
    });
  }
  if (deps.proxy) {
    registerProxyRoute(app, {
      ...deps.proxy,
      verify,
      quotas: deps.quotas,
      audit: deps.audit,
      refusals: deps.auditRpcs === false ? undefined : deps.auditRefusals?.refusals,
      metrics: deps.metrics,
      clientIp: (req) => deps.clientIps.resolve(req.socket.remoteAddress, req.headers['x-forwarded-for']),
      logError: (err) => deps.logger.error({ err }, 'unexpected error in the proxy'),
    });
  }
  await registerWebApp(app, deps.webAppDir);
  registerRootRoute(app, true);
  registerHealthRoutes(app, deps.store);
  registerMetricsRoute(app, deps.metrics, deps.metricsToken);
  registerJwksRoute(app, deps.signingKeys);
  return app;
}

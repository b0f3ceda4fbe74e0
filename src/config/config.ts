import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KeyRing, weakKeyReason } from '../crypto/index.js';
import { secureDataDir } from '../storage/data-dir.js';
import { ConfigError, type Env, isProduction, settingsReader, whole } from './settings.js';

/** Everything the server reads from its environment, read through the settings table (settings.ts; the names are a contract). */
export interface Config {
  production: boolean;
  port: number;
  host: string;
  baseUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  keyRing: KeyRing;
  /** Where the key ring came from, for the start-up log. */
  keyRingSource: 'env' | 'generated' | 'data-dir';
  adminApiKey: string | undefined;
  allowedReturnUrls: string[];
  /** Browser origins allowed to call the API cross-origin (Connect-Web). */
  corsOrigins: string[];
  logLevel: string;
  /** LOG_FORMAT: `json` lines (pino), or `pretty` one-line text for a person at a terminal. */
  logFormat?: 'json' | 'pretty';
  /** Upper bound on an outbound call to a provider. */
  providerTimeoutMs: number;
  /** Background refresh and the refresh lease (NEXUS_REFRESH_*). */
  refresh: RefreshConfig;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`; unset, it is open. */
  metricsToken: string | undefined;
  /** Database connections per process (PostgreSQL; the embedded database always uses one). */
  dbPoolSize: number;
  /** Opened credentials kept per process for GetToken (0 turns the cache off). */
  tokenCacheSize: number;
  /** Longest a cached credential is served without re-reading its row (bounds a missed invalidation). */
  tokenCacheMaxAgeMs: number;
  /** Interval between heartbeats on WatchConnection(s) streams. */
  streamHeartbeatMs: number;
  /** Open streams one process accepts before answering RESOURCE_EXHAUSTED. */
  maxStreams: number;
  /** Most connections one WatchConnections snapshot may hold (it is built in memory). */
  watchSnapshotMax: number;
  /** How long connection events (resume cursors) are kept. */
  eventRetentionMs: number;
  /** The audit log: retention, flush interval and buffer bound (NEXUS_AUDIT_*); defaults when unset. */
  audit?: AuditConfig;
  /** The credential-injecting proxy's limits (NEXUS_PROXY_*); defaults when unset. */
  proxy?: ProxyConfig;
  /** The webhook delivery worker (NEXUS_WEBHOOK_*); defaults when unset. */
  webhooks?: WebhookDeliveryConfig;
  // End-user sign-in (AuthService). Optional so that configs built in code
  // keep working; createApp applies the defaults.
  /** NEXUS_ACCESS_TOKEN_TTL_SECONDS: user access token lifetime (default 900). */
  accessTokenTtlSeconds?: number;
  /** NEXUS_SESSION_TTL_SECONDS: signed-in session and refresh token lifetime (default 30 days). */
  sessionTtlSeconds?: number;
  /** NEXUS_WEB_SESSION_TTL_SECONDS: web app session lifetime after a handoff (default 3600). */
  webSessionTtlSeconds?: number;
  /** NEXUS_HANDOFF_IP_BINDING: `strict` (default) or `relaxed` for every client. */
  handoffIpBindingRelaxed?: boolean;
  /** NEXUS_TRUSTED_PROXIES: IPs/CIDRs whose X-Forwarded-For is believed. */
  trustedProxies?: string[];
  /** NEXUS_SIWE_RPC_URL: chain RPC for smart-contract wallet signatures (ERC-1271). */
  siweRpcUrl?: string | undefined;
  /**
   * NEXUS_OUTBOUND_ALLOWED_HOSTS: `host:port` entries Nexus may reach for
   * MCP catalog entries although they resolve to internal addresses (and,
   * outside production, over http). Empty by default.
   */
  outboundAllowedHosts: string[];
  /** NEXUS_DISCOVERY_CACHE_SECONDS: how long MCP discovery results are reused. */
  discoveryCacheSeconds: number;
  /** Limits that bound what hostile or runaway clients can hold (connections, streams, load); defaults when unset. */
  load?: LoadConfig;
  /**
   * NEXUS_STREAM_CREDENTIAL_RECHECK_SECONDS: how often an open Watch stream's
   * credential is verified again in full (default 60). Revocations and token
   * expiry end streams at once; this bounds anything else (a session that
   * expired, a scope withdrawn, a missed notice). Optional for configs built in code.
   */
  streamCredentialRecheckMs?: number;
}

/**
 * Bounds on connections, streams and work (SECURITY.md, "Hostile clients").
 * Every field has a default (loadLoadConfig({})); tests shorten the timeouts.
 */
export interface LoadConfig {
  /** NEXUS_MAX_CONNECTIONS: open TCP connections; more are closed on accept. Keep it below the process's file limit. */
  maxConnections: number;
  /** NEXUS_HEADERS_TIMEOUT_MS: from accept (or the end of the last request) until a request's headers are complete. */
  headersTimeoutMs: number;
  /** NEXUS_REQUEST_TIMEOUT_MS: until a request (headers and body) is received in full; responses, streams included, are not bounded by it. */
  requestTimeoutMs: number;
  /** NEXUS_IDLE_TIMEOUT_MS: a connection (HTTP/1.1 socket or HTTP/2 session) with no traffic either way is closed. Above the stream heartbeat. */
  idleTimeoutMs: number;
  /** NEXUS_KEEP_ALIVE_TIMEOUT_MS: an HTTP/1.1 connection between requests. */
  keepAliveTimeoutMs: number;
  /** NEXUS_SHUTDOWN_TIMEOUT_MS: drain deadline on stop; whatever is still open then is closed. */
  shutdownTimeoutMs: number;
  /** NEXUS_H2_MAX_CONCURRENT_STREAMS: SETTINGS_MAX_CONCURRENT_STREAMS for each HTTP/2 connection. */
  h2MaxConcurrentStreams: number;
  /** NEXUS_H2_RESET_BURST / NEXUS_H2_RESET_RATE: RST_STREAM frames a peer may send (burst, then per second) before its connection is closed with GOAWAY. */
  h2ResetBurst: number;
  h2ResetRate: number;
  /** NEXUS_MAX_INFLIGHT: unary calls one process works on at once; more are refused with UNAVAILABLE (OVERLOADED). */
  maxInflight: number;
  /** NEXUS_MAX_INFLIGHT_PER_CONNECTION: unary calls one connection may have running; its others wait their turn. */
  maxInflightPerConnection: number;
  /** NEXUS_DB_QUEUE_MAX: queries waiting for a database connection before new calls are refused (OVERLOADED). */
  dbQueueMax: number;
  /** NEXUS_UNAUTH_RATE_PER_SECOND / NEXUS_UNAUTH_BURST: token bucket per client IP (IPv6: per /64) for calls without valid credentials. */
  unauthRatePerSecond: number;
  unauthBurst: number;
  /**
   * NEXUS_QUOTA_KEY_RATE_PER_SECOND / NEXUS_QUOTA_KEY_BURST / NEXUS_QUOTA_IP_RATE_PER_SECOND /
   * NEXUS_QUOTA_IP_BURST: the default call quotas of authenticated callers, per API key and per
   * client IP within a project (0 rate: none); NEXUS_QUOTA_REPLICAS: the replicas sharing them.
   */
  quotaKeyRatePerSecond: number;
  quotaKeyBurst: number;
  quotaIpRatePerSecond: number;
  quotaIpBurst: number;
  quotaReplicas: number;
  /** NEXUS_MAX_STREAMS_PER_PRINCIPAL: open streams one API key or user session may hold. */
  maxStreamsPerPrincipal: number;
  /** NEXUS_STREAMS_ADMIN_RESERVE: of NEXUS_MAX_STREAMS, streams only admin keys may take. */
  streamsAdminReserve: number;
  /** NEXUS_MAX_LIVE_NONCES: unused, unexpired sign-in nonces one OAuth client may have. */
  maxLiveNonces: number;
}

export interface RefreshConfig {
  /** Run the background refresh worker in this process (`nexus start`); `nexus worker` always does. */
  worker: boolean;
  /** Most connections claimed by one claim query (bounded by free concurrency slots). */
  batchSize: number;
  /** Most refreshes one replica's worker runs at once. */
  concurrency: number;
  /** Pause between claim queries once nothing more is due. */
  pollMs: number;
  /** Refresh tokens that expire within this long. */
  leadMs: number;
  /** How long a refresh attempt's holder is trusted to finish before another replica presumes it dead. */
  leaseMs: number;
  /** Backoff after transient provider failures: first ceiling and cap. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export { ConfigError, isProduction };

/** NEXUS_DATA_DIR, absolute (default ./.nexus). */
export function dataDirOf(env: Env): string {
  return path.resolve(settingsReader(env)('NEXUS_DATA_DIR'));
}

/** The whole configuration, read through the settings table (settings.ts). */
export function loadConfig(env: Env = process.env): Config {
  const get = settingsReader(env);
  const production = get('NODE_ENV');
  const dataDir = dataDirOf(env);
  const { keyRing, source } = loadKeyRing(get('NEXUS_ENCRYPTION_KEYS'), production, dataDir);
  if (production && !env.NEXUS_ALLOWED_RETURN_URLS) {
    throw new ConfigError('NEXUS_ALLOWED_RETURN_URLS is required when NODE_ENV=production');
  }
  const providerTimeoutMs = get('NEXUS_PROVIDER_TIMEOUT_MS');
  return {
    production,
    port: get('PORT'),
    host: get('HOST'),
    baseUrl: get('BASE_URL'),
    databaseUrl: get('DATABASE_URL'),
    dataDir,
    keyRing,
    keyRingSource: source,
    adminApiKey: get('NEXUS_ADMIN_API_KEY'),
    allowedReturnUrls: get('NEXUS_ALLOWED_RETURN_URLS'),
    corsOrigins: get('NEXUS_CORS_ORIGINS'),
    logLevel: get('LOG_LEVEL'),
    logFormat: get('LOG_FORMAT'),
    providerTimeoutMs,
    refresh: loadRefreshConfig(env, providerTimeoutMs),
    metricsToken: get('NEXUS_METRICS_TOKEN'),
    dbPoolSize: get('NEXUS_DB_POOL_SIZE'),
    tokenCacheSize: get('NEXUS_TOKEN_CACHE_SIZE'),
    tokenCacheMaxAgeMs: get('NEXUS_TOKEN_CACHE_MAX_AGE_MS'),
    streamHeartbeatMs: get('NEXUS_STREAM_HEARTBEAT_MS'),
    maxStreams: get('NEXUS_MAX_STREAMS'),
    watchSnapshotMax: get('NEXUS_WATCH_SNAPSHOT_MAX'),
    eventRetentionMs: get('NEXUS_EVENT_RETENTION_HOURS') * 3_600_000,
    audit: loadAuditConfig(env),
    proxy: loadProxyConfig(env),
    webhooks: loadWebhookDeliveryConfig(env),
    accessTokenTtlSeconds: get('NEXUS_ACCESS_TOKEN_TTL_SECONDS'),
    sessionTtlSeconds: get('NEXUS_SESSION_TTL_SECONDS'),
    webSessionTtlSeconds: get('NEXUS_WEB_SESSION_TTL_SECONDS'),
    handoffIpBindingRelaxed: get('NEXUS_HANDOFF_IP_BINDING') === 'relaxed',
    trustedProxies: get('NEXUS_TRUSTED_PROXIES'),
    siweRpcUrl: get('NEXUS_SIWE_RPC_URL'),
    outboundAllowedHosts: get('NEXUS_OUTBOUND_ALLOWED_HOSTS'),
    discoveryCacheSeconds: get('NEXUS_DISCOVERY_CACHE_SECONDS'),
    load: loadLoadConfig(env),
    streamCredentialRecheckMs: get('NEXUS_STREAM_CREDENTIAL_RECHECK_SECONDS') * 1_000,
  };
}

/** NEXUS_* limits on connections, streams and load; loadLoadConfig({}) gives the defaults. */
export function loadLoadConfig(env: Env): LoadConfig {
  const get = settingsReader(env);
  const heartbeatMs = get('NEXUS_STREAM_HEARTBEAT_MS');
  const maxStreams = get('NEXUS_MAX_STREAMS');
  const load: LoadConfig = {
    maxConnections: get('NEXUS_MAX_CONNECTIONS'),
    headersTimeoutMs: get('NEXUS_HEADERS_TIMEOUT_MS'),
    requestTimeoutMs: get('NEXUS_REQUEST_TIMEOUT_MS'),
    idleTimeoutMs: get('NEXUS_IDLE_TIMEOUT_MS'),
    keepAliveTimeoutMs: get('NEXUS_KEEP_ALIVE_TIMEOUT_MS'),
    shutdownTimeoutMs: get('NEXUS_SHUTDOWN_TIMEOUT_MS'),
    h2MaxConcurrentStreams: get('NEXUS_H2_MAX_CONCURRENT_STREAMS'),
    h2ResetBurst: get('NEXUS_H2_RESET_BURST'),
    h2ResetRate: get('NEXUS_H2_RESET_RATE'),
    maxInflight: get('NEXUS_MAX_INFLIGHT'),
    maxInflightPerConnection: get('NEXUS_MAX_INFLIGHT_PER_CONNECTION'),
    dbQueueMax: get('NEXUS_DB_QUEUE_MAX'),
    unauthRatePerSecond: get('NEXUS_UNAUTH_RATE_PER_SECOND'),
    unauthBurst: get('NEXUS_UNAUTH_BURST'),
    quotaKeyRatePerSecond: get('NEXUS_QUOTA_KEY_RATE_PER_SECOND'),
    quotaKeyBurst: get('NEXUS_QUOTA_KEY_BURST'),
    quotaIpRatePerSecond: get('NEXUS_QUOTA_IP_RATE_PER_SECOND'),
    quotaIpBurst: get('NEXUS_QUOTA_IP_BURST'),
    quotaReplicas: get('NEXUS_QUOTA_REPLICAS'),
    maxStreamsPerPrincipal: get('NEXUS_MAX_STREAMS_PER_PRINCIPAL'),
    streamsAdminReserve: get('NEXUS_STREAMS_ADMIN_RESERVE'),
    maxLiveNonces: get('NEXUS_MAX_LIVE_NONCES'),
  };
  atLeast('NEXUS_REQUEST_TIMEOUT_MS', load.requestTimeoutMs, load.headersTimeoutMs, 3_600_000);
  // A healthy stream sends a heartbeat at least this often; the idle timeout must leave it room.
  if (load.idleTimeoutMs <= 2 * heartbeatMs) {
    throw new ConfigError(`NEXUS_IDLE_TIMEOUT_MS (${load.idleTimeoutMs}) must be more than twice NEXUS_STREAM_HEARTBEAT_MS (${heartbeatMs})`);
  }
  if (load.streamsAdminReserve >= maxStreams) {
    throw new ConfigError(`NEXUS_STREAMS_ADMIN_RESERVE (${load.streamsAdminReserve}) must be less than NEXUS_MAX_STREAMS (${maxStreams})`);
  }
  return load;
}

/**
 * The lease must outlast the longest call a live holder can be in: OIDC
 * discovery plus the token request, each bounded by the provider timeout.
 */
export function loadRefreshConfig(env: Env, providerTimeoutMs: number): RefreshConfig {
  const get = settingsReader(env, { NEXUS_PROVIDER_TIMEOUT_MS: providerTimeoutMs });
  const leaseMs = get('NEXUS_REFRESH_LEASE_MS');
  atLeast('NEXUS_REFRESH_LEASE_MS', leaseMs, 2 * providerTimeoutMs + 1_000, 3_600_000);
  const backoffBaseMs = get('NEXUS_REFRESH_BACKOFF_BASE_MS');
  const backoffMaxMs = get('NEXUS_REFRESH_BACKOFF_MAX_MS');
  atLeast('NEXUS_REFRESH_BACKOFF_MAX_MS', backoffMaxMs, backoffBaseMs, 86_400_000);
  return {
    worker: get('NEXUS_REFRESH_WORKER'),
    batchSize: get('NEXUS_REFRESH_BATCH_SIZE'),
    concurrency: get('NEXUS_REFRESH_CONCURRENCY'),
    pollMs: get('NEXUS_REFRESH_POLL_MS'),
    leadMs: get('NEXUS_REFRESH_LEAD_MS'),
    leaseMs,
    backoffBaseMs,
    backoffMaxMs,
  };
}

/** The outbound settings alone, for one-shot commands that open no database (`nexus catalog check`). */
export function loadOutboundSettings(env: Env = process.env): { production: boolean; allowedHosts: string[] } {
  const get = settingsReader(env);
  return { production: get('NODE_ENV'), allowedHosts: get('NEXUS_OUTBOUND_ALLOWED_HOSTS') };
}

/** A bound that depends on another setting (the table's parser checked the fixed ones). */
function atLeast(name: string, value: number, min: number, max: number): void {
  if (value < min) whole(min, max).read(String(value), name);
}

/**
 * Production must be given its keys. In development a key ring is generated
 * once and kept in the data directory, so sealed credentials survive a
 * restart; the caller logs a warning.
 */
function loadKeyRing(spec: string | undefined, production: boolean, dataDir: string): { keyRing: KeyRing; source: Config['keyRingSource'] } {
  if (spec) {
    const keyRing = KeyRing.parse(spec);
    // The primary seals every new secret. Older keys only open what was sealed under them, so a weak one may
    // stay while it is rotated out (keys:rotate, then keys:reseal, then remove it).
    const weak = weakKeyReason(keyRing.primary.key);
    if (production && weak) {
      throw new ConfigError(
        `NEXUS_ENCRYPTION_KEYS: the primary key "${keyRing.primary.id}" is not a random key (${weak}). ` +
          'Generate one with "openssl rand -base64 32" and put it first; keep the old key after it until "nexus keys:reseal" is done.',
      );
    }
    return { keyRing, source: 'env' };
  }
  if (production) throw new ConfigError('NEXUS_ENCRYPTION_KEYS is required when NODE_ENV=production');
  // A key ring another user could have planted would seal every secret under a key they know.
  try {
    secureDataDir(dataDir);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const file = path.join(dataDir, 'encryption-keys');
  if (existsSync(file)) return { keyRing: KeyRing.parse(readFileSync(file, 'utf8').trim()), source: 'data-dir' };
  const ring = KeyRing.generate('dev1');
  writeFileSync(file, `${ring.toSpec()}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { keyRing: ring, source: 'generated' };
}

export interface AuditConfig {
  retentionMs: number;
  flushMs: number;
  maxBuffered: number;
  /** Refusal events of unproven callers recorded per client IP and project each minute (RefusalThrottle). */
  refusalsPerIpPerMinute?: number;
}

export interface ProxyConfig {
  maxBodyBytes: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
}

/** NEXUS_PROXY_*; loadProxyConfig({}) gives the defaults. */
export function loadProxyConfig(env: Env): ProxyConfig {
  const get = settingsReader(env);
  return {
    maxBodyBytes: get('NEXUS_PROXY_MAX_BODY_BYTES'),
    connectTimeoutMs: get('NEXUS_PROXY_CONNECT_TIMEOUT_MS'),
    headersTimeoutMs: get('NEXUS_PROXY_HEADERS_TIMEOUT_MS'),
    idleTimeoutMs: get('NEXUS_PROXY_IDLE_TIMEOUT_MS'),
  };
}

export interface WebhookDeliveryConfig {
  /** Deliver from this process (where the refresh worker runs). */
  worker: boolean;
  pollMs: number;
  batchSize: number;
  concurrency: number;
  /** Upper bound on one attempt (connect to response headers). */
  timeoutMs: number;
  /** How long an attempt's holder is trusted before another replica presumes it dead. */
  leaseMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A delivery still failing this long after it was written is dead. */
  maxAgeMs: number;
}

/** NEXUS_WEBHOOK_*; loadWebhookDeliveryConfig({}) gives the defaults. The lease outlasts an attempt. */
export function loadWebhookDeliveryConfig(env: Env): WebhookDeliveryConfig {
  const get = settingsReader(env);
  const timeoutMs = get('NEXUS_WEBHOOK_TIMEOUT_MS');
  const leaseMs = get('NEXUS_WEBHOOK_LEASE_MS');
  atLeast('NEXUS_WEBHOOK_LEASE_MS', leaseMs, timeoutMs + 1_000, 3_600_000);
  const backoffBaseMs = get('NEXUS_WEBHOOK_BACKOFF_BASE_MS');
  const backoffMaxMs = get('NEXUS_WEBHOOK_BACKOFF_MAX_MS');
  atLeast('NEXUS_WEBHOOK_BACKOFF_MAX_MS', backoffMaxMs, backoffBaseMs, 86_400_000);
  return {
    worker: get('NEXUS_WEBHOOK_WORKER'),
    pollMs: get('NEXUS_WEBHOOK_POLL_MS'),
    batchSize: get('NEXUS_WEBHOOK_BATCH_SIZE'),
    concurrency: get('NEXUS_WEBHOOK_CONCURRENCY'),
    timeoutMs,
    leaseMs,
    backoffBaseMs,
    backoffMaxMs,
    maxAgeMs: get('NEXUS_WEBHOOK_MAX_AGE_SECONDS') * 1_000,
  };
}

/** NEXUS_AUDIT_*; loadAuditConfig({}) gives the defaults. */
export function loadAuditConfig(env: Env): AuditConfig {
  const get = settingsReader(env);
  return {
    retentionMs: get('NEXUS_AUDIT_RETENTION_DAYS') * 86_400_000,
    flushMs: get('NEXUS_AUDIT_FLUSH_MS'),
    maxBuffered: get('NEXUS_AUDIT_BUFFER_MAX'),
    refusalsPerIpPerMinute: get('NEXUS_AUDIT_REFUSALS_PER_IP_PER_MINUTE'),
  };
}

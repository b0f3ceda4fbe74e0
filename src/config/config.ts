import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KeyRing, weakKeyReason } from '../crypto/index.js';
import { normalizeEntry } from '../domain/outbound/outbound-policy.js';
import { secureDataDir } from '../storage/data-dir.js';

/** Everything the server reads from its environment. The variable names are a contract (ARCHITECTURE.md). */
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
  /** NEXUS_SIWE_RPC_URL: chain RPC for smart-contract wallet signatures (ERC-1271/6492). */
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

export class ConfigError extends Error {}

/** The public URL callbacks are built from: an absolute http(s) URL, kept without a trailing slash. */
function parseBaseUrl(value: string): string {
  const trimmed = value.replace(/\/+$/, '');
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError('BASE_URL must be an absolute http(s) URL, for example https://nexus.example.com');
  }
  return trimmed;
}

/**
 * NODE_ENV=production, in any letter case and with stray spaces: a
 * `Production` that silently meant development turned off every
 * production check (required keys, https-only providers, return URLs).
 */
export function isProduction(nodeEnv: string | undefined): boolean {
  return (nodeEnv ?? '').trim().toLowerCase() === 'production';
}

/** NEXUS_DATA_DIR, absolute (default ./.nexus). */
export function dataDirOf(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.NEXUS_DATA_DIR ?? './.nexus');
}

/** JSON unless asked otherwise; pretty by default only for a terminal outside production. */
function parseLogFormat(value: string | undefined, production: boolean): 'json' | 'pretty' {
  if (value === undefined || value === '') return !production && process.stdout.isTTY ? 'pretty' : 'json';
  if (value === 'json' || value === 'pretty') return value;
  throw new ConfigError(`LOG_FORMAT "${value}" must be json or pretty`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = isProduction(env.NODE_ENV);
  const port = parsePort(env.PORT ?? '8080');
  const host = env.HOST ?? '127.0.0.1';
  const baseUrl = parseBaseUrl(env.BASE_URL ?? `http://localhost:${port}`);
  const dataDir = dataDirOf(env);
  const { keyRing, source } = loadKeyRing(env.NEXUS_ENCRYPTION_KEYS, production, dataDir);
  const allowed = env.NEXUS_ALLOWED_RETURN_URLS;
  if (production && !allowed) {
    throw new ConfigError('NEXUS_ALLOWED_RETURN_URLS is required when NODE_ENV=production');
  }
  const providerTimeoutMs = parseTimeout(env.NEXUS_PROVIDER_TIMEOUT_MS ?? '10000');
  return {
    production,
    port,
    host,
    baseUrl,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir,
    keyRing,
    keyRingSource: source,
    adminApiKey: env.NEXUS_ADMIN_API_KEY || undefined,
    allowedReturnUrls: list(allowed ?? 'http://localhost:*'),
    corsOrigins: list(env.NEXUS_CORS_ORIGINS ?? (production ? '' : 'http://localhost:*,http://127.0.0.1:*')),
    logLevel: env.LOG_LEVEL ?? 'info',
    logFormat: parseLogFormat(env.LOG_FORMAT, production),
    providerTimeoutMs,
    refresh: loadRefreshConfig(env, providerTimeoutMs),
    metricsToken: env.NEXUS_METRICS_TOKEN || undefined,
    dbPoolSize: parseWhole('NEXUS_DB_POOL_SIZE', env.NEXUS_DB_POOL_SIZE ?? '10', 1, 1000),
    tokenCacheSize: parseWhole('NEXUS_TOKEN_CACHE_SIZE', env.NEXUS_TOKEN_CACHE_SIZE ?? '10000', 0, 10_000_000),
    tokenCacheMaxAgeMs: parseWhole('NEXUS_TOKEN_CACHE_MAX_AGE_MS', env.NEXUS_TOKEN_CACHE_MAX_AGE_MS ?? '5000', 100, 60_000),
    streamHeartbeatMs: parseWhole('NEXUS_STREAM_HEARTBEAT_MS', env.NEXUS_STREAM_HEARTBEAT_MS ?? '15000', 100, 600_000),
    maxStreams: parseWhole('NEXUS_MAX_STREAMS', env.NEXUS_MAX_STREAMS ?? '20000', 1, 1_000_000),
    watchSnapshotMax: parseWhole('NEXUS_WATCH_SNAPSHOT_MAX', env.NEXUS_WATCH_SNAPSHOT_MAX ?? '10000', 1, 1_000_000),
    eventRetentionMs: parseWhole('NEXUS_EVENT_RETENTION_HOURS', env.NEXUS_EVENT_RETENTION_HOURS ?? '24', 1, 24 * 90) * 3_600_000,
    accessTokenTtlSeconds: seconds('NEXUS_ACCESS_TOKEN_TTL_SECONDS', env.NEXUS_ACCESS_TOKEN_TTL_SECONDS ?? '900', 30, 86_400),
    sessionTtlSeconds: seconds('NEXUS_SESSION_TTL_SECONDS', env.NEXUS_SESSION_TTL_SECONDS ?? String(30 * 86_400), 300, 365 * 86_400),
    webSessionTtlSeconds: seconds('NEXUS_WEB_SESSION_TTL_SECONDS', env.NEXUS_WEB_SESSION_TTL_SECONDS ?? '3600', 60, 86_400),
    handoffIpBindingRelaxed: handoffBinding(env.NEXUS_HANDOFF_IP_BINDING ?? 'strict'),
    trustedProxies: list(env.NEXUS_TRUSTED_PROXIES ?? ''),
    siweRpcUrl: env.NEXUS_SIWE_RPC_URL || undefined,
    outboundAllowedHosts: parseHosts(env.NEXUS_OUTBOUND_ALLOWED_HOSTS ?? ''),
    discoveryCacheSeconds: parseWhole('NEXUS_DISCOVERY_CACHE_SECONDS', env.NEXUS_DISCOVERY_CACHE_SECONDS ?? '600', 0, 86_400),
    load: loadLoadConfig(env),
    streamCredentialRecheckMs: parseWhole('NEXUS_STREAM_CREDENTIAL_RECHECK_SECONDS', env.NEXUS_STREAM_CREDENTIAL_RECHECK_SECONDS ?? '60', 1, 3_600) * 1_000,
  };
}

/** NEXUS_* limits on connections, streams and load; loadLoadConfig({}) gives the defaults. */
export function loadLoadConfig(env: NodeJS.ProcessEnv): LoadConfig {
  const whole = (name: string, fallback: number, min: number, max: number) => parseWhole(name, env[name] || String(fallback), min, max);
  const heartbeatMs = whole('NEXUS_STREAM_HEARTBEAT_MS', 15_000, 100, 600_000);
  const maxStreams = whole('NEXUS_MAX_STREAMS', 20_000, 1, 1_000_000);
  const headersTimeoutMs = whole('NEXUS_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const load: LoadConfig = {
    maxConnections: whole('NEXUS_MAX_CONNECTIONS', 1_000, 1, 1_000_000),
    headersTimeoutMs,
    requestTimeoutMs: whole('NEXUS_REQUEST_TIMEOUT_MS', 30_000, headersTimeoutMs, 3_600_000),
    idleTimeoutMs: whole('NEXUS_IDLE_TIMEOUT_MS', 70_000, 100, 86_400_000),
    keepAliveTimeoutMs: whole('NEXUS_KEEP_ALIVE_TIMEOUT_MS', 65_000, 100, 3_600_000),
    shutdownTimeoutMs: whole('NEXUS_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    h2MaxConcurrentStreams: whole('NEXUS_H2_MAX_CONCURRENT_STREAMS', 100, 1, 10_000),
    h2ResetBurst: whole('NEXUS_H2_RESET_BURST', 200, 1, 100_000),
    h2ResetRate: whole('NEXUS_H2_RESET_RATE', 30, 1, 100_000),
    maxInflight: whole('NEXUS_MAX_INFLIGHT', 512, 1, 1_000_000),
    maxInflightPerConnection: whole('NEXUS_MAX_INFLIGHT_PER_CONNECTION', 16, 1, 10_000),
    dbQueueMax: whole('NEXUS_DB_QUEUE_MAX', 256, 1, 1_000_000),
    unauthRatePerSecond: whole('NEXUS_UNAUTH_RATE_PER_SECOND', 10, 1, 1_000_000),
    unauthBurst: whole('NEXUS_UNAUTH_BURST', 60, 1, 1_000_000),
    maxStreamsPerPrincipal: whole('NEXUS_MAX_STREAMS_PER_PRINCIPAL', 1_000, 1, 1_000_000),
    streamsAdminReserve: whole('NEXUS_STREAMS_ADMIN_RESERVE', Math.min(100, maxStreams - 1), 0, 1_000_000),
    maxLiveNonces: whole('NEXUS_MAX_LIVE_NONCES', 10_000, 1, 10_000_000),
  };
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
export function loadRefreshConfig(env: NodeJS.ProcessEnv, providerTimeoutMs: number): RefreshConfig {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} "${raw}" must be a whole number from ${min} to ${max}`);
    return n;
  };
  const workerFlag = (env.NEXUS_REFRESH_WORKER ?? 'true').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(workerFlag)) throw new ConfigError(`NEXUS_REFRESH_WORKER "${env.NEXUS_REFRESH_WORKER}" must be true or false`);
  const minLease = 2 * providerTimeoutMs + 1_000;
  const leaseMs = int('NEXUS_REFRESH_LEASE_MS', 2 * providerTimeoutMs + 15_000, minLease, 3_600_000);
  const backoffBaseMs = int('NEXUS_REFRESH_BACKOFF_BASE_MS', 5_000, 10, 3_600_000);
  const backoffMaxMs = int('NEXUS_REFRESH_BACKOFF_MAX_MS', 300_000, backoffBaseMs, 86_400_000);
  return {
    worker: workerFlag === 'true' || workerFlag === '1',
    batchSize: int('NEXUS_REFRESH_BATCH_SIZE', 50, 1, 1_000),
    concurrency: int('NEXUS_REFRESH_CONCURRENCY', 10, 1, 256),
    pollMs: int('NEXUS_REFRESH_POLL_MS', 5_000, 20, 600_000),
    leadMs: int('NEXUS_REFRESH_LEAD_MS', 300_000, 0, 86_400_000),
    leaseMs,
    backoffBaseMs,
    backoffMaxMs,
  };
}

/** The outbound settings alone, for one-shot commands that open no database (`nexus catalog check`). */
export function loadOutboundSettings(env: NodeJS.ProcessEnv = process.env): { production: boolean; allowedHosts: string[] } {
  return { production: isProduction(env.NODE_ENV), allowedHosts: parseHosts(env.NEXUS_OUTBOUND_ALLOWED_HOSTS ?? '') };
}

function parseHosts(value: string): string[] {
  try {
    return list(value).map(normalizeEntry);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function seconds(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} "${value}" must be a whole number of seconds from ${min} to ${max}`);
  return n;
}

function handoffBinding(value: string): boolean {
  if (value !== 'strict' && value !== 'relaxed') throw new ConfigError(`NEXUS_HANDOFF_IP_BINDING "${value}" must be strict or relaxed`);
  return value === 'relaxed';
}

function parseTimeout(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 100 || ms > 120_000) {
    throw new ConfigError(`NEXUS_PROVIDER_TIMEOUT_MS "${value}" must be a whole number of milliseconds from 100 to 120000`);
  }
  return ms;
}

function parseWhole(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} "${value}" must be a whole number from ${min} to ${max}`);
  return n;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT "${value}" is not a port`);
  return port;
}

/**
 * Production must be given its keys. In development a key ring is generated
 * once and kept in the data directory, so sealed credentials survive a
 * restart; the caller logs a warning.
 */
function loadKeyRing(
  spec: string | undefined,
  production: boolean,
  dataDir: string,
): { keyRing: KeyRing; source: Config['keyRingSource'] } {
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

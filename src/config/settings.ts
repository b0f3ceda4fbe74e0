import { normalizeEntry } from '../domain/outbound/outbound-policy.js';

/**
 * Every environment variable Nexus reads, in one table: its parser (with its
 * bounds), its default, and its documentation. The loader (config.ts), the
 * defaults of configs built in code (app.ts) and docs/configuration.md are all
 * derived from it: `npm run docs:config` rewrites the page, and a unit test
 * (test/unit/config/settings.test.ts) fails when the page is stale. The
 * variable names are a contract: renaming one breaks deployments.
 *
 * An empty value means unset, except for lists, where it is the empty list.
 */
// Not a NexusError: startup/CLI only (a bad setting stops `nexus start`; main.ts prints it), never an RPC answer.
export class ConfigError extends Error {}

export interface Parser<T> {
  read(raw: string, name: string): T;
  /** The accepted values, for the reference page. */
  accepts: string;
  /** An empty value is a value (the empty list), not "unset". */
  keepsEmpty?: boolean;
}

/** Reads another setting while computing a default that depends on it. */
export type Lookup = <T = number>(name: string) => T;

export interface Setting<T> {
  parse: Parser<T>;
  /** The raw value used when the variable is unset; computed when it depends on other settings. None: stays undefined. */
  default?: string | ((get: Lookup) => string);
  /** The default as the reference page shows it. */
  shown: string;
  /** Markdown, one paragraph. */
  doc: string;
  /** Read elsewhere than config.ts (documented here all the same). */
  readBy?: string;
}

export function whole(min: number, max: number, unit?: 'milliseconds' | 'seconds'): Parser<number> {
  const what = unit ? `a whole number of ${unit}` : 'a whole number';
  return {
    accepts: `${what}, ${min} to ${max}`,
    read(raw, name) {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} "${raw}" must be ${what} from ${min} to ${max}`);
      return n;
    },
  };
}

function text(): Parser<string> {
  return { accepts: 'text', read: (raw) => raw };
}

function list(): Parser<string[]> {
  return {
    accepts: 'comma-separated list',
    keepsEmpty: true,
    read: (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
  };
}

function hosts(): Parser<string[]> {
  const entries = list();
  return {
    ...entries,
    accepts: 'comma-separated `host:port` list',
    read(raw, name) {
      try {
        return entries.read(raw, name).map(normalizeEntry);
      } catch (err) {
        throw new ConfigError((err as Error).message);
      }
    },
  };
}

function port(): Parser<number> {
  return {
    accepts: 'a port, 0 to 65535',
    read(raw) {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`PORT "${raw}" is not a port`);
      return n;
    },
  };
}

/** The public URL callbacks are built from: an absolute http(s) URL, kept without a trailing slash. */
function baseUrl(): Parser<string> {
  return {
    accepts: 'an absolute http(s) URL',
    read(raw) {
      const trimmed = raw.replace(/\/+$/, '');
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
    },
  };
}

function flag(): Parser<boolean> {
  return {
    accepts: '`true` or `false` (or `1` / `0`)',
    read(raw, name) {
      const value = raw.toLowerCase();
      if (!['true', 'false', '1', '0'].includes(value)) throw new ConfigError(`${name} "${raw}" must be true or false`);
      return value === 'true' || value === '1';
    },
  };
}

function oneOf<const V extends string>(...values: V[]): Parser<V> {
  return {
    accepts: values.map((v) => `\`${v}\``).join(' or '),
    read(raw, name) {
      if (!(values as string[]).includes(raw)) throw new ConfigError(`${name} "${raw}" must be ${values.join(' or ')}`);
      return raw as V;
    },
  };
}

/**
 * NODE_ENV=production, in any letter case and with stray spaces: a
 * `Production` that silently meant development turned off every
 * production check (required keys, https-only providers, return URLs).
 */
export function isProduction(nodeEnv: string | undefined): boolean {
  return (nodeEnv ?? '').trim().toLowerCase() === 'production';
}

function production(): Parser<boolean> {
  return { accepts: 'text; `production` in any letter case counts', read: isProduction };
}

export const SETTINGS = {
  NODE_ENV: {
    parse: production(),
    default: '',
    shown: 'unset',
    doc: '`production` (any letter case) turns on the production rules below.',
  },
  PORT: {
    parse: port(),
    default: '8080',
    shown: '`8080`',
    doc: 'Port for everything: Connect, gRPC, gRPC-Web, the OAuth callback, the capture page, health checks.',
  },
  HOST: {
    parse: text(),
    default: '127.0.0.1',
    shown: '`127.0.0.1`',
    doc: 'Listen address. Set `0.0.0.0` in a container.',
  },
  BASE_URL: {
    parse: baseUrl(),
    default: (get) => `http://localhost:${get('PORT')}`,
    shown: '`http://localhost:PORT`',
    doc: 'Public URL of this server. The OAuth redirect URI is `BASE_URL/oauth/callback` (register it at each provider); static capture URLs are `BASE_URL/manage/capture?state=…`; `BASE_URL/manage/` is always an allowed return URL (the web app).',
  },
  DATABASE_URL: {
    parse: text(),
    shown: 'unset: embedded PostgreSQL (PGlite) in `NEXUS_DATA_DIR/pgdata`',
    doc: 'PostgreSQL URL (`postgres://user:password@host:5432/db`).',
  },
  NEXUS_DATA_DIR: {
    parse: text(),
    default: './.nexus',
    shown: '`./.nexus`',
    doc: "Where the embedded database, the generated development key ring and the CLI's control socket live. Kept private (directories 0700, files 0600); one that other users can write to is refused.",
  },
  NEXUS_ENCRYPTION_KEYS: {
    parse: text(),
    shown: 'development: generated once into `NEXUS_DATA_DIR/encryption-keys`, with a warning; production: **required**',
    doc: 'Key ring, `<id>:<base64 of 32 bytes>` entries separated by commas, e.g. `k2:…,k1:…`. The first key encrypts (and signs state tokens); every key decrypts. Ids are 1-32 of `[A-Za-z0-9_-]`. In production a primary key that is not random (all zero, few distinct bytes, printable text) is refused: make one with `openssl rand -base64 32`.',
  },
  NEXUS_ADMIN_API_KEY: {
    parse: text(),
    shown: 'unset: one is generated on the first start and printed once',
    doc: 'An admin API key for the default project, accepted as given (16+ characters). Stored hashed; it stays registered after you unset the variable. Changing it revokes the previous value at the next start; a revoked value is refused at start (set a new one).',
  },
  NEXUS_ALLOWED_RETURN_URLS: {
    parse: list(),
    default: 'http://localhost:*',
    shown: 'development: `http://localhost:*`; production: **required**',
    doc: 'Comma-separated allow-list for `return_url`: exact origins (`https://app.example.com`), origins with a path prefix (`https://app.example.com/oauth/`), and `*` as the port (`http://localhost:*`).',
  },
  NEXUS_CORS_ORIGINS: {
    parse: list(),
    default: (get) => (get('NODE_ENV') ? '' : 'http://localhost:*,http://127.0.0.1:*'),
    shown: 'development: `http://localhost:*,http://127.0.0.1:*`; production: none',
    doc: 'Comma-separated browser origins allowed to call the API cross-origin with Connect-Web or gRPC-Web (same syntax as above; the `Authorization`/`X-API-Key` and Connect headers are allowed). Other origins get no CORS headers.',
  },
  LOG_LEVEL: {
    parse: text(),
    default: 'info',
    shown: '`info`',
    doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. Logs are JSON lines (pino) on stdout; secrets are redacted.',
  },
  LOG_FORMAT: {
    parse: oneOf('json', 'pretty'),
    // JSON unless asked otherwise; pretty by default only for a terminal outside production.
    default: (get) => (!get<boolean>('NODE_ENV') && process.stdout.isTTY ? 'pretty' : 'json'),
    shown: '`pretty` when stdout is a terminal and `NODE_ENV` is not `production`, else `json`',
    doc: '`json` (pino lines) or `pretty` (one line of text per record, for a person at a terminal; redaction is the same).',
  },
  NEXUS_PROVIDER_TIMEOUT_MS: {
    parse: whole(100, 120_000, 'milliseconds'),
    default: '10000',
    shown: '`10000`',
    doc: 'Upper bound, in milliseconds, on each call to a provider (OIDC discovery, code exchange, refresh, revocation).',
  },
  NEXUS_REFRESH_WORKER: {
    parse: flag(),
    default: 'true',
    shown: '`true`',
    doc: '`true`/`false`: run the background refresh worker in `nexus start` (every replica and cluster worker). `nexus worker` always runs it. See [Background refresh](operations.md#background-refresh).',
  },
  NEXUS_REFRESH_LEAD_MS: {
    parse: whole(0, 86_400_000),
    default: '300000',
    shown: '`300000` (5 min)',
    doc: 'Refresh OAuth tokens that expire within this long (and have lived half their life, so tokens shorter-lived than this are refreshed at half-life, not in a loop).',
  },
  NEXUS_REFRESH_BATCH_SIZE: {
    parse: whole(1, 1_000),
    default: '50',
    shown: '`50`',
    doc: 'Most connections one claim query takes (1-1000; also bounded by free concurrency slots).',
  },
  NEXUS_REFRESH_CONCURRENCY: {
    parse: whole(1, 256),
    default: '10',
    shown: '`10`',
    doc: "Most refreshes one process's worker runs at once (1-256).",
  },
  NEXUS_REFRESH_POLL_MS: {
    parse: whole(20, 600_000),
    default: '5000',
    shown: '`5000`',
    doc: 'Pause between claim queries once nothing more is due.',
  },
  NEXUS_REFRESH_LEASE_MS: {
    parse: whole(1_200, 3_600_000),
    default: (get) => String(2 * get('NEXUS_PROVIDER_TIMEOUT_MS') + 15_000),
    shown: '2 × provider timeout + 15 s (`35000`)',
    doc: "How long a refresh attempt's holder is trusted to finish before another replica presumes it dead (must exceed 2 × `NEXUS_PROVIDER_TIMEOUT_MS` + 1 s).",
  },
  NEXUS_REFRESH_BACKOFF_BASE_MS: {
    parse: whole(10, 3_600_000),
    default: '5000',
    shown: '`5000`',
    doc: 'Backoff after transient provider failures: the first ceiling (doubling per consecutive failure, equal jitter).',
  },
  NEXUS_REFRESH_BACKOFF_MAX_MS: {
    parse: whole(10, 86_400_000),
    default: '300000',
    shown: '`300000`',
    doc: 'Backoff after transient provider failures: the cap (at least `NEXUS_REFRESH_BACKOFF_BASE_MS`).',
  },
  NEXUS_STREAM_HEARTBEAT_MS: {
    parse: whole(100, 600_000),
    default: '15000',
    shown: '`15000`',
    doc: "Interval between heartbeats on `WatchConnection(s)` streams (keep it below your load balancer's idle timeout).",
  },
  NEXUS_STREAM_CREDENTIAL_RECHECK_SECONDS: {
    parse: whole(1, 3_600),
    default: '60',
    shown: '`60`',
    doc: "How often an open `WatchConnection(s)` stream's API key or access token is verified again in full (1-3600). A revoked key or session, or an expired access token, ends the stream at once anyway; this bounds everything else (a scope withdrawn, a missed notice).",
  },
  NEXUS_MAX_STREAMS: {
    parse: whole(1, 1_000_000),
    default: '20000',
    shown: '`20000`',
    doc: 'Open streams one process accepts; beyond, `RESOURCE_EXHAUSTED` / `TOO_MANY_STREAMS`.',
  },
  NEXUS_MAX_STREAMS_PER_PRINCIPAL: {
    parse: whole(1, 1_000_000),
    default: '1000',
    shown: '`1000`',
    doc: "Open streams one API key (or one end user's workspace) may hold; beyond, `RESOURCE_EXHAUSTED` / `STREAM_QUOTA_EXCEEDED`.",
  },
  NEXUS_STREAMS_ADMIN_RESERVE: {
    parse: whole(0, 1_000_000),
    default: (get) => String(Math.min(100, get('NEXUS_MAX_STREAMS') - 1)),
    shown: '`100` (at most `NEXUS_MAX_STREAMS` − 1)',
    doc: 'Of `NEXUS_MAX_STREAMS`, streams only admin API keys may take (so an operator can always watch).',
  },
  NEXUS_MAX_CONNECTIONS: {
    parse: whole(1, 1_000_000),
    default: '1000',
    shown: '`1000`',
    doc: "Open TCP connections per process; more are closed on accept. Keep it below the process's file limit (`ulimit -n`).",
  },
  NEXUS_HEADERS_TIMEOUT_MS: {
    parse: whole(100, 600_000),
    default: '10000',
    shown: '`10000`',
    doc: "From accept (or the end of the previous request) until a request's headers are complete; a socket that sends nothing is closed after it too.",
  },
  NEXUS_REQUEST_TIMEOUT_MS: {
    parse: whole(100, 3_600_000),
    default: '30000',
    shown: '`30000`',
    doc: 'Until a request (headers and body) has arrived in full, HTTP/1.1 and HTTP/2. Responses, streams included, are not bounded by it. At least `NEXUS_HEADERS_TIMEOUT_MS`.',
  },
  NEXUS_IDLE_TIMEOUT_MS: {
    parse: whole(100, 86_400_000),
    default: '70000',
    shown: '`70000`',
    doc: 'A connection (HTTP/1.1 socket, HTTP/2 session) with no traffic either way is closed. Must exceed 2 × `NEXUS_STREAM_HEARTBEAT_MS`, so a healthy stream is never idle.',
  },
  NEXUS_KEEP_ALIVE_TIMEOUT_MS: {
    parse: whole(100, 3_600_000),
    default: '65000',
    shown: '`65000`',
    doc: "An HTTP/1.1 connection between requests (above common load balancers' 60 s).",
  },
  NEXUS_SHUTDOWN_TIMEOUT_MS: {
    parse: whole(0, 600_000),
    default: '10000',
    shown: '`10000`',
    doc: 'Drain deadline on stop: calls and streams still running are ended, and every connection is closed 1 s later.',
  },
  NEXUS_H2_MAX_CONCURRENT_STREAMS: {
    parse: whole(1, 10_000),
    default: '100',
    shown: '`100`',
    doc: 'HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS` per connection; streams beyond are refused and a peer that keeps opening them is disconnected.',
  },
  NEXUS_H2_RESET_BURST: {
    parse: whole(1, 100_000),
    default: '200',
    shown: '`200`',
    doc: 'Reset streams one HTTP/2 connection may send at once before it gets `GOAWAY` (rapid reset); refilled at `NEXUS_H2_RESET_RATE`.',
  },
  NEXUS_H2_RESET_RATE: {
    parse: whole(1, 100_000),
    default: '30',
    shown: '`30`',
    doc: 'Reset streams per second one HTTP/2 connection may keep sending after its burst (`NEXUS_H2_RESET_BURST`) before it gets `GOAWAY`.',
  },
  NEXUS_MAX_INFLIGHT_PER_CONNECTION: {
    parse: whole(1, 10_000),
    default: '16',
    shown: '`16`',
    doc: 'Unary calls one connection runs at once; its other calls wait their turn.',
  },
  NEXUS_MAX_INFLIGHT: {
    parse: whole(1, 1_000_000),
    default: '512',
    shown: '`512`',
    doc: 'Unary calls one process runs at once; beyond, `UNAVAILABLE` / `OVERLOADED` with a `RetryInfo`.',
  },
  NEXUS_DB_QUEUE_MAX: {
    parse: whole(1, 1_000_000),
    default: '256',
    shown: '`256`',
    doc: 'Queries waiting for a pooled database connection before new calls are refused (`UNAVAILABLE` / `OVERLOADED`, `RetryInfo`).',
  },
  NEXUS_UNAUTH_RATE_PER_SECOND: {
    parse: whole(1, 1_000_000),
    default: '10',
    shown: '`10`',
    doc: 'Token bucket per client IP (IPv6: per /64; see `NEXUS_TRUSTED_PROXIES`) for calls without a valid API key or access token: the rate; beyond, `RESOURCE_EXHAUSTED` / `RATE_LIMITED` with a `RetryInfo`. Per process.',
  },
  NEXUS_UNAUTH_BURST: {
    parse: whole(1, 1_000_000),
    default: '60',
    shown: '`60`',
    doc: 'The burst of that token bucket (`NEXUS_UNAUTH_RATE_PER_SECOND`).',
  },
  NEXUS_QUOTA_KEY_RATE_PER_SECOND: {
    parse: whole(0, 1_000_000),
    default: '100',
    shown: '`100`',
    doc: 'Call quota of each API key (and each signed-in user session): a token bucket refilled at this many calls per second, on every authenticated RPC (and the HTTP routes that take an API key); beyond, `RESOURCE_EXHAUSTED` / `RATE_LIMITED` (metadata `quota: api_key`) with a `RetryInfo`, or HTTP 429 with `Retry-After`. `0`: no per-key quota. A project may have its own; see [limits.md](limits.md).',
  },
  NEXUS_QUOTA_KEY_BURST: {
    parse: whole(1, 10_000_000),
    default: '400',
    shown: '`400`',
    doc: "The burst of each API key's bucket (`NEXUS_QUOTA_KEY_RATE_PER_SECOND`): calls a key may make at once after being idle.",
  },
  NEXUS_QUOTA_IP_RATE_PER_SECOND: {
    parse: whole(0, 1_000_000),
    default: '300',
    shown: '`300`',
    doc: "Call quota of each client IP (IPv6: each /64) within a project, every key of the project together (so many keys do not multiply a host's budget): the rate; beyond, `RESOURCE_EXHAUSTED` / `RATE_LIMITED` (metadata `quota: client_ip`). `0`: none. A project may have its own.",
  },
  NEXUS_QUOTA_IP_BURST: {
    parse: whole(1, 10_000_000),
    default: '1200',
    shown: '`1200`',
    doc: "The burst of each client IP's bucket within a project (`NEXUS_QUOTA_IP_RATE_PER_SECOND`).",
  },
  NEXUS_QUOTA_REPLICAS: {
    parse: whole(1, 1_000),
    default: '1',
    shown: '`1`',
    doc: "The replicas sharing the API traffic. Quotas are enforced in memory by each replica, each allowing 1/N of every quota's rate and burst, so N replicas behind a balancer allow about the configured quota together. Set it to the replica count.",
  },
  NEXUS_MAX_LIVE_NONCES: {
    parse: whole(1, 10_000_000),
    default: '10000',
    shown: '`10000`',
    doc: 'Unused, unexpired sign-in nonces one OAuth client may have (`GetNonce` is unauthenticated); beyond, `RESOURCE_EXHAUSTED` / `TOO_MANY_NONCES`.',
  },
  NEXUS_WATCH_SNAPSHOT_MAX: {
    parse: whole(1, 1_000_000),
    default: '10000',
    shown: '`10000`',
    doc: 'Most connections one `WatchConnections` snapshot may hold (it is read into memory); beyond, `RESOURCE_EXHAUSTED` / `SNAPSHOT_TOO_LARGE`.',
  },
  NEXUS_EVENT_RETENTION_HOURS: {
    parse: whole(1, 24 * 90),
    default: '24',
    shown: '`24`',
    doc: 'How long connection events (and so resume cursors) are kept; older ones are pruned.',
  },
  NEXUS_AUDIT_RETENTION_DAYS: {
    parse: whole(1, 36_500),
    default: '365',
    shown: '`365`',
    doc: 'How long audit events are kept; older ones are pruned by the refresh worker, leaving an anchor so the rest of the chain still verifies (see [Audit log](governance.md#audit-log)).',
  },
  NEXUS_PROXY_MAX_BODY_BYTES: {
    parse: whole(1, 10 * 1024 * 1024 * 1024),
    default: '104857600',
    shown: '`104857600` (100 MiB)',
    doc: 'Largest request body, and largest response body, the credential-injecting proxy (`/proxy/{connection_id}/...`) streams through; past it the call ends with 413 / `PROXY_BODY_TOO_LARGE` (a response already started is cut off). See [Proxy](proxy.md).',
  },
  NEXUS_PROXY_CONNECT_TIMEOUT_MS: {
    parse: whole(100, 120_000, 'milliseconds'),
    default: '10000',
    shown: '`10000`',
    doc: 'The proxy: longest wait for the TCP/TLS connection to the provider (then 504 / `PROXY_UPSTREAM_TIMEOUT`).',
  },
  NEXUS_PROXY_HEADERS_TIMEOUT_MS: {
    parse: whole(100, 600_000, 'milliseconds'),
    default: '60000',
    shown: '`60000`',
    doc: "The proxy: longest wait for the provider's response headers once the request is sent (then 504 / `PROXY_UPSTREAM_TIMEOUT`).",
  },
  NEXUS_PROXY_IDLE_TIMEOUT_MS: {
    parse: whole(100, 600_000, 'milliseconds'),
    default: '60000',
    shown: '`60000`',
    doc: 'The proxy: longest silence in either body stream (agent to Nexus, provider to Nexus) before the call is ended.',
  },
  NEXUS_WEBHOOK_WORKER: {
    parse: flag(),
    default: 'true',
    shown: '`true`',
    doc: '`true`/`false`: deliver webhooks from this process. The delivery worker runs where the refresh worker does (`nexus start` with `NEXUS_REFRESH_WORKER`, `nexus worker`) unless this is `false`. See [Webhooks](webhooks.md#delivery).',
  },
  NEXUS_WEBHOOK_POLL_MS: {
    parse: whole(20, 600_000, 'milliseconds'),
    default: '2000',
    shown: '`2000`',
    doc: 'Pause between claim queries once nothing more is due (a connection event committed by any replica wakes the worker sooner).',
  },
  NEXUS_WEBHOOK_BATCH_SIZE: {
    parse: whole(1, 1_000),
    default: '20',
    shown: '`20`',
    doc: 'Most deliveries one claim query takes (also bounded by free concurrency slots).',
  },
  NEXUS_WEBHOOK_CONCURRENCY: {
    parse: whole(1, 256),
    default: '10',
    shown: '`10`',
    doc: "Most webhook requests one process's worker has in flight at once.",
  },
  NEXUS_WEBHOOK_TIMEOUT_MS: {
    parse: whole(100, 120_000, 'milliseconds'),
    default: '10000',
    shown: '`10000`',
    doc: "Upper bound on one delivery attempt, from connecting to the receiver's response headers; past it the attempt has failed (and is retried).",
  },
  NEXUS_WEBHOOK_LEASE_MS: {
    parse: whole(1_200, 3_600_000, 'milliseconds'),
    default: (get) => String(get('NEXUS_WEBHOOK_TIMEOUT_MS') + 15_000),
    shown: 'timeout + 15 s (`25000`)',
    doc: "How long a delivery attempt's holder is trusted to finish before another replica presumes it dead and sends the delivery again (must exceed `NEXUS_WEBHOOK_TIMEOUT_MS` + 1 s).",
  },
  NEXUS_WEBHOOK_BACKOFF_BASE_MS: {
    parse: whole(10, 3_600_000, 'milliseconds'),
    default: '5000',
    shown: '`5000`',
    doc: 'Retry after a failed delivery: the first ceiling (doubling per failed attempt, full jitter).',
  },
  NEXUS_WEBHOOK_BACKOFF_MAX_MS: {
    parse: whole(10, 86_400_000, 'milliseconds'),
    default: '3600000',
    shown: '`3600000` (1 h)',
    doc: 'Retry after a failed delivery: the cap on the ceiling (at least `NEXUS_WEBHOOK_BACKOFF_BASE_MS`).',
  },
  NEXUS_WEBHOOK_MAX_AGE_SECONDS: {
    parse: whole(10, 30 * 86_400, 'seconds'),
    default: '259200',
    shown: '`259200` (3 days)',
    doc: 'A delivery still failing this long after its event is dead-lettered (`dead`: no more attempts; `RedeliverWebhook` sends it again).',
  },
  NEXUS_AUDIT_FLUSH_MS: {
    parse: whole(10, 5_000, 'milliseconds'),
    default: '200',
    shown: '`200`',
    doc: 'Longest a read event (`GetToken`, lists, watches) waits in memory before its batch is written: what a crash of the process can lose. Admin and lifecycle events are written before their call returns.',
  },
  NEXUS_AUDIT_BUFFER_MAX: {
    parse: whole(100, 1_000_000),
    default: '20000',
    shown: '`20000`',
    doc: 'Audit events waiting to be written before new calls are refused with `UNAVAILABLE` / `AUDIT_BACKLOG_FULL` (the database is slow or down): calls are refused, never run unrecorded.',
  },
  NEXUS_AUDIT_REFUSALS_PER_IP_PER_MINUTE: {
    parse: whole(1, 100_000),
    default: '30',
    shown: '`30`',
    doc: 'Refusals of callers that prove nothing (an unknown, revoked or expired API key; an OAuth client that failed to authenticate) recorded per client IP and project each minute (at most 1,000 a minute in all); the rest are counted in one `audit.refusals_suppressed` event per address, so spraying guessed keys cannot flood the audit log.',
  },
  NEXUS_METRICS_TOKEN: {
    parse: text(),
    shown: 'unset: `/metrics` is open',
    doc: 'When set, `GET /metrics` requires `Authorization: Bearer <token>` (see [Metrics](operations.md#metrics)).',
  },
  NEXUS_WORKERS: {
    parse: text(),
    default: '1',
    shown: '`1`',
    doc: 'Server processes sharing the port (`nexus start --workers` overrides it): a number, or `auto` for one per core. More than one needs `DATABASE_URL`. See [docs/scale-out.md](scale-out.md).',
    readBy: 'src/cli/cluster.ts (parseWorkers)',
  },
  NEXUS_DB_POOL_SIZE: {
    parse: whole(1, 1_000),
    default: '10',
    shown: '`10`',
    doc: 'PostgreSQL connections per process (each process also holds one listening session for events).',
  },
  NEXUS_TOKEN_CACHE_SIZE: {
    parse: whole(0, 10_000_000),
    default: '10000',
    shown: '`10000`',
    doc: 'Opened credentials each process keeps for `GetToken` (LRU; invalidated by connection events on every replica); `0` turns the cache off.',
  },
  NEXUS_TOKEN_CACHE_MAX_AGE_MS: {
    parse: whole(100, 60_000),
    default: '5000',
    shown: '`5000`',
    doc: 'Longest a cached credential is served without reading its row again: the bound on a missed invalidation (100 to 60000).',
  },
  NEXUS_ACCESS_TOKEN_TTL_SECONDS: {
    parse: whole(30, 86_400, 'seconds'),
    default: '900',
    shown: '`900`',
    doc: "Lifetime of a signed-in user's access token (JWT), 30 to 86400.",
  },
  NEXUS_SESSION_TTL_SECONDS: {
    parse: whole(300, 365 * 86_400, 'seconds'),
    default: String(30 * 86_400),
    shown: '`2592000` (30 days)',
    doc: 'Lifetime of a user session and its refresh tokens (absolute, from sign-in).',
  },
  NEXUS_WEB_SESSION_TTL_SECONDS: {
    parse: whole(60, 86_400, 'seconds'),
    default: '3600',
    shown: '`3600`',
    doc: "Lifetime of the web app's session after a handoff (no refresh).",
  },
  NEXUS_HANDOFF_IP_BINDING: {
    parse: oneOf('strict', 'relaxed'),
    default: 'strict',
    shown: '`strict`',
    doc: '`strict`: a handoff code is redeemed only from the IP that asked for it (unless the client is `RELAXED`); `relaxed`: never checked.',
  },
  NEXUS_TRUSTED_PROXIES: {
    parse: list(),
    default: '',
    shown: 'unset',
    doc: 'Comma-separated IPs or CIDRs of reverse proxies whose `X-Forwarded-For` gives the client IP (handoff IP binding). Unset: the TCP peer is the client.',
  },
  NEXUS_SIWE_RPC_URL: {
    parse: text(),
    shown: 'unset',
    doc: 'Chain JSON-RPC URL used to verify smart-contract wallet signatures (ERC-1271 `eth_call`; https only in production; its host:port is trusted by the outbound policy). Unset: EOA signatures only.',
  },
  NEXUS_OUTBOUND_ALLOWED_HOSTS: {
    parse: hosts(),
    default: '',
    shown: 'empty',
    doc: 'Comma-separated `host:port` entries (e.g. `127.0.0.1:9000,mcp.internal:8443`, IPv6 as `[::1]:9000`) that provider endpoints (OAuth2 and MCP) may reach although they resolve to internal addresses, and (outside production) over plain `http`. Each entry admits its own port only. Keep it narrow: it is the only way past the SSRF checks (see [MCP servers](providers.md#mcp-servers)). A development authorization server on loopback must be listed here.',
  },
  NEXUS_DISCOVERY_CACHE_SECONDS: {
    parse: whole(0, 86_400),
    default: '600',
    shown: '`600`',
    doc: "How long an MCP server's discovered OAuth metadata is reused (0 to 86400; at most 256 servers are cached per process).",
  },
} satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof SETTINGS;
type ValueOf<K extends SettingName> = ReturnType<(typeof SETTINGS)[K]['parse']['read']>;
export type SettingValue<K extends SettingName> = (typeof SETTINGS)[K] extends { default: unknown } ? ValueOf<K> : ValueOf<K> | undefined;
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads settings from an environment through the table. `known` fixes values
 * that a caller already holds (they win over the environment).
 */
export function settingsReader(env: Env, known: Partial<{ [K in SettingName]: ValueOf<K> }> = {}) {
  const values = new Map<SettingName, unknown>(Object.entries(known) as [SettingName, unknown][]);
  const get = <K extends SettingName>(name: K): SettingValue<K> => {
    if (values.has(name)) return values.get(name) as SettingValue<K>;
    const setting: Setting<unknown> = SETTINGS[name];
    let raw = env[name];
    if (raw === '' && !setting.parse.keepsEmpty) raw = undefined;
    if (raw === undefined) {
      const fallback = typeof setting.default === 'function' ? setting.default(get as unknown as Lookup) : setting.default;
      raw = fallback;
    }
    const value = raw === undefined ? undefined : setting.parse.read(raw, name);
    values.set(name, value);
    return value as SettingValue<K>;
  };
  return get;
}

/** A setting's default: what a config built in code gets when it leaves a field out. */
export function defaultOf<K extends SettingName>(name: K): SettingValue<K> {
  return settingsReader({})(name);
}

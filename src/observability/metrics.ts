import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { RefreshObserver, RefreshOutcomeLabel, RefreshTrigger } from '../domain/tokens/refresh-observer.js';
import type { WorkerObserver } from '../domain/tokens/refresh-worker.js';
import type { DeliveryObserver } from '../domain/webhooks/delivery-worker.js';
import { poolOf, type PoolLike } from '../storage/data-source.js';

/** Connect codes as the Connect protocol spells them (index = numeric code). */
const CODE_NAMES = [
  'ok',
  'canceled',
  'unknown',
  'invalid_argument',
  'deadline_exceeded',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'internal',
  'unavailable',
  'data_loss',
  'unauthenticated',
];

// RPCs answer in well under a millisecond when cached and up to the provider timeout when refreshing.
const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REFRESH_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Distinct project labels of nexus_quota_refusals_total before the rest count as "other". */
export const QUOTA_PROJECT_LABELS = 1_000;

type Child = { inc(): void };
type Timer = { observe(seconds: number): void };

/** The pre-bound counter and histogram of one method and code, so a request allocates no label object. */
interface CodeSeries {
  count: Child;
  latency: Timer;
}

/**
 * Every Nexus metric, on a registry of its own (one per app, so two apps in
 * one process, as in tests, never share counters). Labels are bounded sets:
 * service and method names from the proto, Connect codes, refresh outcomes.
 * No label ever carries an id, a workspace or anything a caller supplied.
 */
export class Metrics implements RefreshObserver, WorkerObserver {
  readonly registry = new Registry();
  private aggregate: (() => Promise<string>) | undefined;

  readonly proxyRequests = new Counter({
    name: 'nexus_proxy_requests_total',
    help: 'Calls through the credential-injecting proxy, by the status class answered (2xx..5xx) and by who answered (provider or nexus)',
    labelNames: ['status_class', 'source'] as const,
    registers: [this.registry],
  });

  readonly proxyDuration = new Histogram({
    name: 'nexus_proxy_request_duration_seconds',
    help: 'Proxied calls, from the request to the end of the response body',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly proxyBytes = new Counter({
    name: 'nexus_proxy_body_bytes_total',
    help: 'Body bytes through the proxy, by direction (request: agent to provider; response: provider to agent)',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });

  readonly rpcRequests = new Counter({
    name: 'nexus_rpc_requests_total',
    help: 'RPCs handled, by service, method and Connect code',
    labelNames: ['service', 'method', 'code'] as const,
    registers: [this.registry],
  });
  readonly rpcDuration = new Histogram({
    name: 'nexus_rpc_duration_seconds',
    help: 'RPC latency (server streams: until the stream ends), by service, method and Connect code',
    labelNames: ['service', 'method', 'code'] as const,
    buckets: RPC_BUCKETS,
    registers: [this.registry],
  });
  readonly refreshes = new Counter({
    name: 'nexus_token_refreshes_total',
    help: 'OAuth token refresh attempts by outcome and trigger (on_demand = GetToken/RefreshToken, worker = background)',
    labelNames: ['outcome', 'trigger'] as const,
    registers: [this.registry],
  });
  readonly refreshDuration = new Histogram({
    name: 'nexus_token_refresh_duration_seconds',
    help: 'Time spent calling the provider token endpoint during a refresh, by outcome',
    labelNames: ['outcome'] as const,
    buckets: REFRESH_BUCKETS,
    registers: [this.registry],
  });
  /** Maintained by the streaming handlers (WatchConnection / WatchConnections). */
  readonly streamsOpen = new Gauge({
    name: 'nexus_streams_open',
    help: 'Server streams currently open, by method',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });
  readonly workerClaimed = new Counter({
    name: 'nexus_refresh_worker_claimed_total',
    help: "Connections claimed by this replica's background refresh worker",
    registers: [this.registry],
  });
  readonly workerPolls = new Counter({
    name: 'nexus_refresh_worker_polls_total',
    help: 'Claim queries run by the background refresh worker',
    registers: [this.registry],
  });
  readonly workerDue = new Gauge({
    name: 'nexus_refresh_worker_due',
    help: 'ACTIVE OAuth connections whose token expires within the lead time and whose backoff has passed, at the last poll (all replicas)',
    // The same database-wide figure in every worker: a cluster scrape reports it once, not summed.
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly workerBackoff = new Gauge({
    name: 'nexus_refresh_worker_backoff',
    help: 'ACTIVE OAuth connections waiting out a backoff after a transient refresh failure, at the last poll (all replicas)',
    // The same database-wide figure in every worker: a cluster scrape reports it once, not summed.
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly workerInFlight = new Gauge({
    name: 'nexus_refresh_worker_in_flight',
    help: "Refreshes this replica's worker is running now",
    registers: [this.registry],
  });

  readonly webhookAttempts = new Counter({
    name: 'nexus_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (succeeded; failed: retried later; dead: failed past NEXUS_WEBHOOK_MAX_AGE_SECONDS)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookDuration = new Histogram({
    name: 'nexus_webhook_delivery_duration_seconds',
    help: 'Webhook delivery attempts, from the request to the answer (or the failure), by outcome',
    labelNames: ['outcome'] as const,
    buckets: REFRESH_BUCKETS,
    registers: [this.registry],
  });
  readonly webhookPolls = new Counter({
    name: 'nexus_webhook_worker_polls_total',
    help: 'Claim queries run by the webhook delivery worker',
    registers: [this.registry],
  });
  readonly webhookInFlight = new Gauge({
    name: 'nexus_webhook_worker_in_flight',
    help: "Webhook requests this replica's delivery worker has in flight now",
    registers: [this.registry],
  });
  readonly webhookBacklog = new Gauge({
    name: 'nexus_webhook_backlog',
    help: 'Unfinished webhook deliveries at the last poll (all replicas), by state (due: to be sent now; backing_off: waiting for a retry)',
    labelNames: ['state'] as const,
    // The same database-wide figure in every worker: a cluster scrape reports it once, not summed.
    aggregator: 'max',
    registers: [this.registry],
  });

  /** What the webhook delivery worker reports. */
  readonly webhookDelivery: DeliveryObserver = {
    polled: () => this.webhookPolls.inc(),
    attempted: (outcome, seconds) => {
      this.webhookAttempts.inc({ outcome });
      this.webhookDuration.observe({ outcome }, seconds);
    },
    inFlight: (count) => this.webhookInFlight.set(count),
    backlog: (due, backingOff) => {
      this.webhookBacklog.set({ state: 'due' }, due);
      this.webhookBacklog.set({ state: 'backing_off' }, backingOff);
    },
  };

  readonly tokenCacheLookups = new Counter({
    name: 'nexus_token_cache_lookups_total',
    help: 'GetToken lookups in the per-process token cache, by result (hit or miss)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly tokenCacheHit = this.tokenCacheLookups.labels('hit');
  private readonly tokenCacheMiss = this.tokenCacheLookups.labels('miss');

  /** For TokenCacheOptions.onLookup. */
  readonly tokenCacheLookup = (hit: boolean): void => (hit ? this.tokenCacheHit : this.tokenCacheMiss).inc();

  /**
   * Refusals by a call quota (transport/quotas.ts), by project and kind (key
   * or ip). Project ids are operator-created, but the label set is bounded all
   * the same: past QUOTA_PROJECT_LABELS distinct projects, the rest count as
   * "other". Never a key id, a secret or an address.
   */
  readonly quotaRefusals = new Counter({
    name: 'nexus_quota_refusals_total',
    help: 'Calls refused by a call quota (RESOURCE_EXHAUSTED / HTTP 429), by project and kind (key: an API key or session; ip: a client IP within the project)',
    labelNames: ['project', 'kind'] as const,
    registers: [this.registry],
  });
  private readonly quotaProjects = new Set<string>();

  /** For QuotaOptions.refused. */
  readonly quotaRefused = (projectId: string, kind: 'key' | 'ip'): void => {
    if (!this.quotaProjects.has(projectId) && this.quotaProjects.size < QUOTA_PROJECT_LABELS) this.quotaProjects.add(projectId);
    this.quotaRefusals.inc({ project: this.quotaProjects.has(projectId) ? projectId : 'other', kind });
  };

  // Keyed by the method descriptor, a long-lived object from the generated code.
  private readonly series = new WeakMap<MethodKey, (CodeSeries | undefined)[]>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'nexus_' });
  }

  /**
   * Pool gauges read the pg Pool behind TypeORM when scraped. The embedded
   * database has a pool of exactly one client, reported the same way.
   */
  observePool(dataSource: DataSource): void {
    const pool = () => poolOf(dataSource);
    const gauge = (name: string, help: string, read: (p: PoolLike) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const p = pool();
          if (p) this.set(read(p));
        },
      });
    gauge('nexus_db_pool_connections', 'Database connections open in the pool', (p) => p.totalCount);
    gauge('nexus_db_pool_idle', 'Database connections idle in the pool', (p) => p.idleCount);
    gauge('nexus_db_pool_waiting', 'Queries waiting for a database connection', (p) => p.waitingCount);
    gauge('nexus_db_pool_max', 'Largest size the pool may grow to', (p) => p.options?.max ?? 0);
  }

  /** The audit log's buffer of events not yet written, read when scraped (NEXUS_AUDIT_BUFFER_MAX refuses calls). */
  observeAudit(buffered: () => number): void {
    new Gauge({
      name: 'nexus_audit_buffered_events',
      help: 'Audit events waiting to be written; at NEXUS_AUDIT_BUFFER_MAX new calls are refused (AUDIT_BACKLOG_FULL)',
      registers: [this.registry],
      collect() {
        this.set(buffered());
      },
    });
  }

  refreshed(outcome: RefreshOutcomeLabel, trigger: RefreshTrigger, seconds: number): void {
    this.refreshes.inc({ outcome, trigger });
    if (seconds > 0) this.refreshDuration.observe({ outcome }, seconds);
  }

  polled(): void {
    this.workerPolls.inc();
  }

  claimed(count: number): void {
    if (count > 0) this.workerClaimed.inc(count);
  }

  inFlight(count: number): void {
    this.workerInFlight.set(count);
  }

  backlog(due: number, backingOff: number): void {
    this.workerDue.set(due);
    this.workerBackoff.set(backingOff);
  }

  /**
   * Counts and times every RPC. Kept cheap for the GetToken hot path: one
   * clock read at each end and pre-bound label children looked up by
   * method path and numeric code.
   */
  interceptor(): Interceptor {
    return (next) => async (req) => {
      const started = performance.now();
      const method = req.method;
      try {
        const res = await next(req);
        if (!res.stream) {
          this.record(req.service.typeName, method, 0, started);
          return res;
        }
        return { ...res, message: this.tracked(res.message, req.service.typeName, method, started) };
      } catch (err) {
        this.record(req.service.typeName, method, codeOf(err), started);
        throw err;
      }
    };
  }

  /** What GET /metrics serves: this process's registry, or (in a `--workers` worker) the whole cluster's sum. */
  async metricsText(): Promise<string> {
    return this.aggregate ? this.aggregate() : this.registry.metrics();
  }

  /** Serve `source` (the cluster's aggregate, see cluster-metrics.ts) instead of this process's registry alone. */
  serveAggregate(source: () => Promise<string>): void {
    this.aggregate = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** A server stream is recorded when it ends, with the code it ended with. */
  private async *tracked<T>(messages: AsyncIterable<T>, service: string, method: MethodKey, started: number): AsyncIterable<T> {
    let code = 0;
    try {
      yield* messages;
    } catch (err) {
      code = codeOf(err);
      throw err;
    } finally {
      this.record(service, method, code, started);
    }
  }

  private record(service: string, method: MethodKey, code: number, started: number): void {
    let byCode = this.series.get(method);
    if (!byCode) {
      byCode = [];
      this.series.set(method, byCode);
    }
    let s = byCode[code];
    if (!s) {
      const name = CODE_NAMES[code] ?? 'unknown';
      s = { count: this.rpcRequests.labels(service, method.name, name), latency: this.rpcDuration.labels(service, method.name, name) };
      byCode[code] = s;
    }
    s.count.inc();
    s.latency.observe((performance.now() - started) / 1000);
  }
}

/** A method descriptor: stable identity, and its proto name. */
type MethodKey = { readonly name: string };

function codeOf(err: unknown): number {
  if (err instanceof ConnectError) return err.code;
  // The error interceptor turns everything into a ConnectError; anything else is a bug.
  return Code.Internal;
}

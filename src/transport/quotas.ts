import { QuotaExceededError } from '../domain/shared/errors.js';
import type { QuotaLimits } from '../domain/model/project-quotas.js';
import type { Principal } from '../domain/shared/principal.js';
import { bucketKeyOfIp, type BucketSpec, TokenBuckets } from '../http/token-bucket.js';

/** Which quota refused a call: the caller's API key (or user session), or its client IP within the project. */
export type QuotaKind = 'key' | 'ip';

export interface QuotaOptions {
  /**
   * NEXUS_QUOTA_REPLICAS: the replicas sharing the traffic. Each enforces
   * 1/N of every rate and burst, so N replicas behind a balancer together
   * allow about the configured quota (SECURITY.md, "Quotas").
   */
  replicas: number;
  /** Buckets held per kind before the least recently used is forgotten. */
  maxKeys?: number;
  /** Milliseconds, monotonic (tests inject their own). */
  now?: () => number;
  /** Called on every refusal (the metrics counter). */
  refused?: (projectId: string, kind: QuotaKind) => void;
}

/** A project's quotas as the rate limiter reads them: synchronous when cached. */
export interface QuotaSource {
  /** `now`: the caller's clock reading (monotonic milliseconds), so one call reads the clock once. */
  limitsOf(projectId: string, now: number): QuotaLimits | Promise<QuotaLimits>;
}

/**
 * Call quotas of authenticated callers: a token bucket per API key (or user
 * session) and one per client IP (IPv6: per /64) within each project, every
 * key of that project together. In memory, per replica, each replica
 * enforcing its share (QuotaOptions.replicas). A rate of 0 turns a kind off.
 */
export class Quotas {
  private readonly keys: TokenBuckets;
  private readonly ips: TokenBuckets;
  private readonly now: () => number;

  constructor(
    private readonly source: QuotaSource,
    private readonly options: QuotaOptions,
  ) {
    const unused: BucketSpec = { ratePerSecond: 1, burst: 1 };
    this.now = options.now ?? (() => performance.now());
    this.keys = new TokenBuckets(unused, options.maxKeys, this.now);
    this.ips = new TokenBuckets(unused, options.maxKeys, this.now);
  }

  /**
   * Spends one call of the caller's quotas; throws RESOURCE_EXHAUSTED
   * (RATE_LIMITED, RetryInfo) when one is empty. Synchronous (undefined) when
   * the project's quotas are cached, which is the hot path.
   */
  check(principal: Principal, clientIp: string): void | Promise<void> {
    const now = this.now();
    const limits = this.source.limitsOf(principal.projectId, now);
    if (limits instanceof Promise) return limits.then((l) => this.spend(l, principal, clientIp, this.now()));
    this.spend(limits, principal, clientIp, now);
  }

  /** Buckets held now (memory bound checks). */
  get size(): { keys: number; ips: number } {
    return { keys: this.keys.size, ips: this.ips.size };
  }

  private spend(limits: QuotaLimits, principal: Principal, clientIp: string, now: number): void {
    const n = this.options.replicas;
    if (limits.keyRatePerSecond > 0) {
      const wait = this.keys.take(principal.keyId, share(limits.keyRatePerSecond, limits.keyBurst, n), now);
      if (wait > 0) this.refuse(principal.projectId, 'key', wait);
    }
    if (limits.ipRatePerSecond > 0) {
      const wait = this.ips.take(`${principal.projectId} ${bucketKeyOfIp(clientIp)}`, share(limits.ipRatePerSecond, limits.ipBurst, n), now);
      if (wait > 0) this.refuse(principal.projectId, 'ip', wait);
    }
  }

  private refuse(projectId: string, kind: QuotaKind, waitMs: number): never {
    this.options.refused?.(projectId, kind);
    throw new QuotaExceededError(kind === 'key' ? 'api_key' : 'client_ip', waitMs);
  }
}

/** One replica's share of a quota: 1/N of the rate and of the burst (at least one call). */
function share(ratePerSecond: number, burst: number, replicas: number): BucketSpec {
  return { ratePerSecond: ratePerSecond / replicas, burst: Math.max(1, burst / replicas) };
}

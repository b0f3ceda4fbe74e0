import { InvalidFieldError } from '../shared/errors.js';
import { QUOTA_FIELDS, type QuotaField, type QuotaLimits, type QuotaOverride } from '../model/project-quotas.js';
import type { Clock } from '../ports/clock.js';
import type { Persistence } from '../ports/persistence.js';

/** How long a replica trusts what it read of a project's quotas: a change made on another replica applies within this. */
export const QUOTA_SETTINGS_TTL_MS = 5_000;

/** Bounds of a project's own quotas (the same as the NEXUS_QUOTA_* settings'). */
export const QUOTA_RATE_MAX = 1_000_000;
export const QUOTA_BURST_MAX = 10_000_000;

/** A project's quotas as the operator sees them: its overrides and what applies. */
export interface ProjectQuotaView {
  override: QuotaOverride;
  effective: QuotaLimits;
  /** The installation defaults (NEXUS_QUOTA_*), for a field without an override. */
  defaults: QuotaLimits;
}

interface Cached {
  limits: QuotaLimits;
  until: number;
  /** A re-read in flight (stale-while-revalidate): at most one per project. */
  refreshing?: Promise<QuotaLimits>;
}

const NO_OVERRIDE: QuotaOverride = { keyRatePerSecond: null, keyBurst: null, ipRatePerSecond: null, ipBurst: null };

export function applyOverride(defaults: QuotaLimits, override: QuotaOverride | null): QuotaLimits {
  if (!override) return defaults;
  return {
    keyRatePerSecond: override.keyRatePerSecond ?? defaults.keyRatePerSecond,
    keyBurst: override.keyBurst ?? defaults.keyBurst,
    ipRatePerSecond: override.ipRatePerSecond ?? defaults.ipRatePerSecond,
    ipBurst: override.ipBurst ?? defaults.ipBurst,
  };
}

/** Checks an override's bounds: rates 0 (no limit) to QUOTA_RATE_MAX, bursts 1 to QUOTA_BURST_MAX, or null (the default). */
export function validateOverride(override: QuotaOverride, fieldName: (field: QuotaField) => string = (f) => f): void {
  for (const field of QUOTA_FIELDS) {
    const value = override[field];
    if (value === null) continue;
    const [min, max] = field.endsWith('Burst') ? [1, QUOTA_BURST_MAX] : [0, QUOTA_RATE_MAX];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidFieldError(fieldName(field), `must be a whole number from ${min} to ${max}, or unset for the installation default`);
    }
  }
}

/**
 * Each project's call quotas: the installation defaults (NEXUS_QUOTA_*) with
 * the project's overrides (table project_quotas) on top. The rate limiter
 * asks on every authenticated call, so answers are cached per project for
 * QUOTA_SETTINGS_TTL_MS: a cached answer is returned synchronously, and an
 * expired one keeps serving while one re-read runs (a call never waits on
 * the database, except the first for a project). A change made through this
 * replica applies at once; one made through another replica within the TTL.
 * The cache is bounded (least recently used projects are forgotten).
 */
export class ProjectQuotas {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: Pick<Persistence, 'projectQuotas'>,
    readonly defaults: QuotaLimits,
    private readonly options: { ttlMs?: number; maxProjects?: number; clock?: Clock } = {},
  ) {}

  /**
   * The project's quotas now: synchronous when cached (the hot path), else
   * one read. `now`: the caller's reading of this instance's clock, when it
   * has one (the rate limiter reads it once per call).
   */
  limitsOf(projectId: string, now: number = this.clock()): QuotaLimits | Promise<QuotaLimits> {
    const cached = this.cache.get(projectId);
    if (!cached) return this.load(projectId, now);
    if (cached.until <= now && !cached.refreshing) {
      cached.refreshing = this.load(projectId, now).finally(() => {
        cached.refreshing = undefined;
      });
      // A failed re-read already fell back inside load(); nothing to surface here.
      cached.refreshing.catch(() => {});
    }
    return cached.limits;
  }

  /** What an operator reads: the project's overrides, the defaults and the result (read afresh). */
  async view(projectId: string): Promise<ProjectQuotaView> {
    const row = await this.store.projectQuotas.find(projectId);
    const override = row ? pick(row) : NO_OVERRIDE;
    return { override, effective: applyOverride(this.defaults, override), defaults: this.defaults };
  }

  /** `view` of several projects at once (a page of ListProjects), by project id. */
  async views(projectIds: string[]): Promise<Map<string, ProjectQuotaView>> {
    const rows = new Map((await this.store.projectQuotas.findMany(projectIds)).map((row) => [row.projectId, pick(row)]));
    return new Map(
      projectIds.map((id) => {
        const override = rows.get(id) ?? NO_OVERRIDE;
        return [id, { override, effective: applyOverride(this.defaults, override), defaults: this.defaults }];
      }),
    );
  }

  /**
   * Stores the project's overrides (null: the default) and applies them on
   * this replica at once. `fieldName`: how the caller spells a field in an
   * error (a proto path, a CLI option).
   */
  async set(projectId: string, override: QuotaOverride, fieldName?: (field: QuotaField) => string): Promise<ProjectQuotaView> {
    validateOverride(override, fieldName);
    await this.store.projectQuotas.upsert(projectId, override);
    const effective = applyOverride(this.defaults, override);
    this.remember(projectId, effective, this.clock());
    return { override: pick(override), effective, defaults: this.defaults };
  }

  /** Monotonic milliseconds by default (TTLs only: no wall-clock jumps), or the injected clock. */
  private clock(): number {
    return this.options.clock ? this.options.clock() : performance.now();
  }

  private async load(projectId: string, now: number): Promise<QuotaLimits> {
    let limits: QuotaLimits;
    try {
      limits = applyOverride(this.defaults, await this.store.projectQuotas.find(projectId));
    } catch {
      // The database is unreachable: the installation defaults apply until the next read (the TTL).
      limits = this.cache.get(projectId)?.limits ?? this.defaults;
    }
    this.remember(projectId, limits, now);
    return limits;
  }

  private remember(projectId: string, limits: QuotaLimits, now: number): void {
    this.cache.delete(projectId);
    this.cache.set(projectId, { limits, until: now + (this.options.ttlMs ?? QUOTA_SETTINGS_TTL_MS) });
    if (this.cache.size > (this.options.maxProjects ?? 10_000)) this.cache.delete(this.cache.keys().next().value!);
  }
}

function pick(o: QuotaOverride): QuotaOverride {
  return { keyRatePerSecond: o.keyRatePerSecond, keyBurst: o.keyBurst, ipRatePerSecond: o.ipRatePerSecond, ipBurst: o.ipBurst };
}

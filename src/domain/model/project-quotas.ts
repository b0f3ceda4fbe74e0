/**
 * Call quotas: token buckets per API key (or user session) and per client IP
 * within a project. A rate of 0 means no limit of that kind.
 */
export interface QuotaLimits {
  /** Calls per second one API key (or signed-in user session) may make, on average. */
  keyRatePerSecond: number;
  /** Calls one key may make at once after being idle (the bucket's capacity). */
  keyBurst: number;
  /** Calls per second one client IP (IPv6: one /64) may make with the project's credentials, every key together. */
  ipRatePerSecond: number;
  ipBurst: number;
}

export type QuotaField = keyof QuotaLimits;

export const QUOTA_FIELDS: readonly QuotaField[] = ['keyRatePerSecond', 'keyBurst', 'ipRatePerSecond', 'ipBurst'];

/** A project's own quotas; a null field falls back to the installation's default (NEXUS_QUOTA_*). */
export type QuotaOverride = { [F in QuotaField]: number | null };

export interface ProjectQuotaRow extends QuotaOverride {
  projectId: string;
  updatedAt: Date;
}

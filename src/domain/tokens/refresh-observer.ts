/**
 * What a refresh attempt ended in, as counted by metrics. The domain reports
 * outcomes through this interface so it never imports a metrics library.
 *
 * - success: the provider issued new tokens and they were stored.
 * - rejected: the provider refused the refresh token (4xx); ATTENTION_REQUIRED.
 * - transient_failure: 5xx, timeout or network error; status unchanged, retried later.
 * - interrupted: a replica died mid-refresh with a rotating refresh token, so
 *   the outcome is unknown and the token must not be resent; ATTENTION_REQUIRED.
 * - no_refresh_token: the token expired and there was nothing to refresh it with.
 * - superseded: the provider answered but the connection changed meanwhile
 *   (deleted, or the attempt's lease was taken over); the result was discarded.
 */
export type RefreshOutcomeLabel = 'success' | 'rejected' | 'transient_failure' | 'interrupted' | 'no_refresh_token' | 'superseded';

/** Who asked for the refresh. */
export type RefreshTrigger = 'on_demand' | 'worker';

/** Which connection a refresh was for (the audit log records failures against it). */
export interface RefreshSubject {
  projectId: string;
  id: string;
}

export interface RefreshObserver {
  /** `seconds` is the time spent on the provider call (0 when none was made). */
  refreshed(outcome: RefreshOutcomeLabel, trigger: RefreshTrigger, seconds: number, connection?: RefreshSubject): void;
}

/** Tells every observer. */
export function observers(...list: RefreshObserver[]): RefreshObserver {
  return { refreshed: (...args) => list.forEach((o) => o.refreshed(...args)) };
}

export const NO_OBSERVER: RefreshObserver = { refreshed() {} };

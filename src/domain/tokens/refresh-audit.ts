import type { AuditLog } from '../audit/types.js';
import type { RefreshObserver, RefreshOutcomeLabel } from './refresh-observer.js';

// Here rather than in audit/: the refresh reports to the audit log, so the
// audit package never imports tokens (no folder-level import cycle).

/** Refresh failures (the provider refused, an outage, an interrupted or impossible refresh) as audit events of the system. */
export function auditRefreshFailures(audit: AuditLog): RefreshObserver {
  const FAILURES: Partial<Record<RefreshOutcomeLabel, string>> = {
    rejected: 'ATTENTION_REQUIRED',
    interrupted: 'ATTENTION_REQUIRED',
    no_refresh_token: 'ATTENTION_REQUIRED',
    transient_failure: 'PROVIDER_UNAVAILABLE',
  };
  return {
    refreshed(outcome, trigger, _seconds, connection) {
      const reason = FAILURES[outcome];
      if (!reason || !connection) return;
      audit.record({
        projectId: connection.projectId,
        actor: { kind: 'system' },
        action: 'connection.refresh',
        target: { type: 'connection', id: connection.id },
        outcome: 'failed',
        reason,
        detail: { refresh_outcome: outcome, trigger },
      });
    },
  };
}

import type { AuditEventsPort } from '../ports/persistence.js';
import { systemClock, type Clock } from '../ports/clock.js';

/** How often the worker prunes: retention is counted in days, so hourly is plenty. */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Retention: deletes each project's events older than NEXUS_AUDIT_RETENTION_DAYS,
 * oldest first, and leaves the chain head's anchor (the seq and hash of the
 * last deleted event) so that what remains still verifies. Run by the
 * process that runs the refresh worker; two workers pruning at once are
 * serialized by the chain head's row lock.
 */
export class AuditRetention {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: AuditEventsPort,
    private readonly retentionMs: number,
    private readonly warn: (message: string, context: object) => void = () => {},
    private readonly clock: Clock = systemClock,
  ) {}

  /** Prunes every project now; returns how many events went. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.clock() - this.retentionMs);
    let total = 0;
    for (const head of await this.store.heads()) {
      try {
        total += await this.store.prune(head.projectId, cutoff);
      } catch (err) {
        this.warn('pruning audit events failed; will retry', { projectId: head.projectId, error: (err as Error).message });
      }
    }
    return total;
  }

  start(): void {
    const run = () => {
      this.prune().catch((err: unknown) => this.warn('pruning audit events failed; will retry', { error: (err as Error).message }));
    };
    this.timer = setInterval(run, PRUNE_EVERY_MS);
    this.timer.unref();
    run();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

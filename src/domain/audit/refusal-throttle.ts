import { systemClock, type Clock } from '../ports/clock.js';
import type { AuditEventInput, AuditLog } from './types.js';

export interface RefusalThrottleOptions {
  /** Refusal events recorded per client IP and project in one window (NEXUS_AUDIT_REFUSALS_PER_IP_PER_MINUTE). */
  perIp: number;
  /** Refusal events recorded in one window, every address together. */
  total?: number;
  /** The window: one minute. */
  windowMs?: number;
  /** (project, address) pairs counted at once; beyond, suppressed refusals are counted together. */
  maxTracked?: number;
  clock?: Clock;
}

/** Summaries recorded per window for single addresses; the rest are summed into one. */
const SUMMARIES_MAX = 100;
const OTHER = '';

interface Count {
  projectId: string;
  clientIp: string;
  recorded: number;
  suppressed: number;
}

/**
 * Bounds the refusal events of callers that prove nothing (an unknown,
 * revoked or expired API key, an unauthenticated OAuth client): someone
 * spraying guessed keys must not be able to flood the audit log, its
 * storage or the writer's buffer (a full buffer refuses everyone's calls).
 *
 * Per fixed window, at most `perIp` refusals of one client IP are recorded
 * in each project, and at most `total` altogether; the others are counted,
 * and when the window ends each (project, address) that lost events gets
 * one `audit.refusals_suppressed` event (system actor, the address, the
 * number suppressed) in that project, the `SUMMARIES_MAX` largest singly and
 * the rest summed into one per project. Nothing is dropped uncounted.
 */
export class RefusalThrottle {
  private counts = new Map<string, Count>();
  private windowStart: number;
  private recordedTotal = 0;
  private readonly total: number;
  private readonly windowMs: number;
  private readonly maxTracked: number;
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly audit: AuditLog,
    private readonly options: RefusalThrottleOptions,
  ) {
    this.total = options.total ?? Math.max(options.perIp, 1_000);
    this.windowMs = options.windowMs ?? 60_000;
    this.maxTracked = options.maxTracked ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.windowStart = this.clock();
  }

  /** Records the refusal unless its address (or everyone together) spent this window's budget; then counts it. */
  record(event: AuditEventInput): void {
    this.roll();
    const clientIp = event.clientIp ?? '';
    const key = `${event.projectId}\u0000${clientIp}`;
    let count = this.counts.get(key);
    if (!count) {
      const tracked = this.counts.size < this.maxTracked;
      const slot = tracked ? key : `${event.projectId}\u0000${OTHER}`;
      count = this.counts.get(slot) ?? { projectId: event.projectId, clientIp: tracked ? clientIp : OTHER, recorded: 0, suppressed: 0 };
      this.counts.set(slot, count);
    }
    if (count.recorded < this.options.perIp && this.recordedTotal < this.total) {
      count.recorded += 1;
      this.recordedTotal += 1;
      this.audit.record(event);
      return;
    }
    count.suppressed += 1;
    this.armTimer();
  }

  /** Ends the window now (the summaries are recorded): tests and shutdown. */
  flush(): void {
    this.summarize();
    this.windowStart = this.clock();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private roll(): void {
    const now = this.clock();
    if (now - this.windowStart < this.windowMs) return;
    this.summarize();
    this.windowStart = now;
  }

  /** Summaries are also written when the window ends with no refusal after it (the spray stopped). */
  private armTimer(): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.roll();
        if (this.counts.size > 0) this.armTimer();
      },
      Math.max(0, this.windowStart + this.windowMs - this.clock()) + 10,
    );
    this.timer.unref?.();
  }

  private summarize(): void {
    const lost = [...this.counts.values()].filter((c) => c.suppressed > 0).sort((a, b) => b.suppressed - a.suppressed);
    this.counts = new Map();
    this.recordedTotal = 0;
    const windowSeconds = Math.round(this.windowMs / 1000);
    const rest = new Map<string, { suppressed: number; addresses: number }>();
    lost.forEach((c, i) => {
      if (i < SUMMARIES_MAX && c.clientIp !== OTHER) {
        this.audit.record({
          projectId: c.projectId,
          actor: { kind: 'system' },
          action: 'audit.refusals_suppressed',
          outcome: 'success',
          clientIp: c.clientIp,
          detail: { suppressed: c.suppressed, recorded: c.recorded, window_seconds: windowSeconds },
        });
        return;
      }
      const r = rest.get(c.projectId) ?? { suppressed: 0, addresses: 0 };
      r.suppressed += c.suppressed;
      r.addresses += 1;
      rest.set(c.projectId, r);
    });
    for (const [projectId, r] of rest) {
      this.audit.record({
        projectId,
        actor: { kind: 'system' },
        action: 'audit.refusals_suppressed',
        outcome: 'success',
        detail: { suppressed: r.suppressed, other_addresses: true, window_seconds: windowSeconds },
      });
    }
  }
}

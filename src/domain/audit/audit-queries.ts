import type { AuditEventRow } from '../model/audit-event.js';
import type { AuditEventsPort } from '../ports/persistence.js';
import { AuditCursorAheadError, AuditCursorPrunedError, InvalidFieldError, ServerShuttingDownError } from '../shared/errors.js';
import { decodePageToken, encodePageToken, pageSize } from '../shared/page-token.js';
import { requireOperator, type Principal } from '../shared/principal.js';
import { WALK_PAGE } from './audit-reader.js';
import type { AuditOutcome } from './types.js';

export interface AuditListRequest {
  /** Empty: the caller's own project; another only for the operator. */
  projectId: string;
  since?: Date | undefined;
  until?: Date | undefined;
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  outcome?: AuditOutcome | undefined;
  pageSize: number;
  pageToken: string;
}

export type AuditWatchItem = { event: AuditEventRow } | { heartbeatAfterSeq: number };

export interface AuditWatchOptions {
  /** Idle interval between heartbeats. */
  heartbeatMs: number;
  /** How often a live stream looks for events written by other replicas. */
  pollMs: number;
}

const FILTER_MAX_CHARS = 256;

function bounded(field: string, value: string): string | undefined {
  if (value.length > FILTER_MAX_CHARS) throw new InvalidFieldError(field, `must be at most ${FILTER_MAX_CHARS} characters`);
  return value || undefined;
}

/**
 * ListAuditEvents and WatchAuditEvents: always the caller's own project.
 * Live events come from this process's writer at once (`written`) and from
 * other replicas by polling every `pollMs`.
 */
export class AuditQueries {
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly store: AuditEventsPort,
    private readonly options: AuditWatchOptions,
  ) {}

  /** Wakes the live streams: call with the rows this process just wrote. */
  written(): void {
    for (const wake of [...this.waiting]) wake();
  }

  /** The project a read acts on: the caller's own, or (the operator only) the one named. */
  static projectOf(caller: Principal, requested: string): string {
    if (!requested || requested === caller.projectId) return caller.projectId;
    requireOperator(caller, "another project's audit log");
    return requested;
  }

  async list(caller: Principal, req: AuditListRequest): Promise<{ events: AuditEventRow[]; nextPageToken: string }> {
    const projectId = AuditQueries.projectOf(caller, req.projectId);
    const limit = pageSize(req.pageSize);
    if (req.since && req.until && req.until < req.since) throw new InvalidFieldError('end_time', 'must not be before start_time');
    const filters = {
      p: projectId,
      s: req.since?.toISOString(),
      u: req.until?.toISOString(),
      a: bounded('actor_id', req.actorId),
      ac: bounded('action', req.action),
      tt: bounded('target_type', req.targetType),
      ti: bounded('target_id', req.targetId),
      o: req.outcome,
    };
    const after = decodePageToken(req.pageToken, filters);
    const rows = await this.store.query({
      projectId,
      afterSeq: after ? Number(after) : 0,
      since: req.since,
      until: req.until,
      actorId: filters.a,
      action: filters.ac,
      targetType: filters.tt,
      targetId: filters.ti,
      outcome: req.outcome,
      limit: limit + 1,
    });
    const events = rows.slice(0, limit);
    return { events, nextPageToken: rows.length > limit ? encodePageToken(String(events[events.length - 1]!.seq), filters) : '' };
  }

  /**
   * The project's events after `afterSeq`: the backlog in pages, then live
   * ones, each exactly once and in seq order (the stream reads by seq, so a
   * resume after the last seq received has no gap and no duplicate).
   */
  async *watch(caller: Principal, requestedProject: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<AuditWatchItem> {
    const projectId = AuditQueries.projectOf(caller, requestedProject);
    const [head] = await this.store.heads(projectId);
    const headSeq = head?.seq ?? 0;
    const anchorSeq = head?.anchorSeq ?? 0;
    if (afterSeq > headSeq) throw new AuditCursorAheadError();
    if (afterSeq < anchorSeq) throw new AuditCursorPrunedError(anchorSeq + 1);
    let last = afterSeq;
    let lastSent = Date.now();
    while (!signal.aborted) {
      const rows = await this.store.query({ projectId, afterSeq: last, limit: WALK_PAGE });
      for (const event of rows) {
        yield { event };
        last = event.seq;
      }
      if (rows.length > 0) lastSent = Date.now();
      if (rows.length === WALK_PAGE) continue;
      if (Date.now() - lastSent >= this.options.heartbeatMs) {
        yield { heartbeatAfterSeq: last };
        lastSent = Date.now();
      }
      await this.wait(signal);
    }
    throw new ServerShuttingDownError();
  }

  private wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.options.pollMs);
      this.waiting.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

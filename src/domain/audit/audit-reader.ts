import type { AuditEventRow } from '../model/audit-event.js';
import type { AuditEventsPort, AuditQuery } from '../ports/persistence.js';
import { ChainVerifier, type VerifyResult } from './chain.js';

/** Rows per read while walking a chain (verify, export, a stream's backlog). */
export const WALK_PAGE = 1_000;

/** Reads the audit log: verification, queries, and walks in seq order. */
export class AuditReader {
  constructor(private readonly store: AuditEventsPort) {}

  /** Verifies one project's chain, or every project's; one result per project, in project order. */
  async verify(projectId?: string): Promise<VerifyResult[]> {
    const heads = await this.store.heads(projectId);
    const results: VerifyResult[] = [];
    for (const head of heads) {
      const verifier = new ChainVerifier(head);
      // Read one past the head: an event appended behind the head's back is an insertion.
      let after = head.anchorSeq;
      for (;;) {
        const rows = await this.store.query({ projectId: head.projectId, afterSeq: after, limit: WALK_PAGE });
        if (rows.length === 0 || !verifier.feed(rows)) break;
        after = rows[rows.length - 1]!.seq;
      }
      results.push(verifier.finish());
    }
    return results;
  }

  query(q: AuditQuery): Promise<AuditEventRow[]> {
    return this.store.query(q);
  }

  /** Every event of the project after `afterSeq` matching the filters, in pages, ascending seq. */
  async *walk(q: Omit<AuditQuery, 'limit'>): AsyncGenerator<AuditEventRow> {
    let after = q.afterSeq;
    for (;;) {
      const rows = await this.store.query({ ...q, afterSeq: after, limit: WALK_PAGE });
      yield* rows;
      if (rows.length < WALK_PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /** Projects that have an audit chain. */
  async projects(): Promise<string[]> {
    return (await this.store.heads()).map((h) => h.projectId);
  }
}

/** One line of `nexus audit export` and of the stream: the stored event as JSON. */
export function toJsonLine(row: AuditEventRow): string {
  return JSON.stringify({
    project: row.projectId,
    seq: row.seq,
    time: row.time.toISOString(),
    actor: {
      kind: row.actorKind,
      id: row.actorId,
      ...(row.actorWorkspace ? { workspace: row.actorWorkspace } : {}),
      ...(row.actorClient ? { client: row.actorClient } : {}),
    },
    action: row.action,
    ...(row.targetType || row.targetId ? { target: { type: row.targetType, id: row.targetId } } : {}),
    outcome: row.outcome,
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.clientIp ? { client_ip: row.clientIp } : {}),
    ...(row.requestId ? { request_id: row.requestId } : {}),
    detail: row.detail,
    prev_hash: row.prevHash,
    hash: row.hash,
  });
}

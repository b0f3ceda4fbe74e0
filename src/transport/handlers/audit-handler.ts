import { create } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  AuditEventSchema,
  AuditOutcome,
  ListAuditEventsResponseSchema,
  WatchAuditEventsResponseSchema,
  type AuditEvent,
  type AuditService as AuditServiceDesc,
  type ListAuditEventsRequest,
  type WatchAuditEventsRequest,
} from '../../../gen/ts/nexus/v1/audit_pb.js';
import type { AuditQueries } from '../../domain/audit/audit-queries.js';
import type { AuditOutcome as DomainOutcome } from '../../domain/audit/types.js';
import type { StreamCredentials } from '../../domain/connections/stream-credentials.js';
import type { ConnectionWatch } from '../../domain/connections/connection-watch.js';
import type { AuditEventRow } from '../../domain/model/audit-event.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import { callerOf } from '../access.js';
import { whileCredentialHolds } from '../stream-guard.js';

const OUTCOMES: Record<string, AuditOutcome> = {
  success: AuditOutcome.SUCCESS,
  denied: AuditOutcome.DENIED,
  failed: AuditOutcome.FAILED,
};

function outcomeFromProto(o: AuditOutcome): DomainOutcome | undefined {
  if (o === AuditOutcome.UNSPECIFIED) return undefined;
  const found = Object.entries(OUTCOMES).find(([, v]) => v === o);
  if (!found) throw new InvalidFieldError('outcome', 'is not a known AuditOutcome');
  return found[0] as DomainOutcome;
}

export function auditEventToProto(row: AuditEventRow): AuditEvent {
  return create(AuditEventSchema, {
    projectId: row.projectId,
    seq: BigInt(row.seq),
    time: timestampFromDate(row.time),
    actor: { kind: row.actorKind, id: row.actorId, workspaceId: row.actorWorkspace, clientId: row.actorClient },
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    outcome: OUTCOMES[row.outcome] ?? AuditOutcome.UNSPECIFIED,
    reason: row.reason,
    clientIp: row.clientIp,
    requestId: row.requestId,
    detail: Object.fromEntries(Object.entries(row.detail).map(([k, v]) => [k, String(v)])),
    prevHash: row.prevHash,
    hash: row.hash,
  });
}

/** AuditService: the caller's project's audit log (`admin` API keys only: see ACCESS in access.ts). */
export class AuditHandler implements ServiceImpl<typeof AuditServiceDesc> {
  constructor(
    private readonly queries: AuditQueries,
    private readonly streams: ConnectionWatch,
    private readonly streamCredentials: StreamCredentials,
  ) {}

  async listAuditEvents(req: ListAuditEventsRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const page = await this.queries.list(caller, {
      projectId: req.projectId,
      since: req.startTime ? timestampDate(req.startTime) : undefined,
      until: req.endTime ? timestampDate(req.endTime) : undefined,
      actorId: req.actorId,
      action: req.action,
      targetType: req.targetType,
      targetId: req.targetId,
      outcome: outcomeFromProto(req.outcome),
      pageSize: req.pageSize,
      pageToken: req.pageToken,
    });
    return create(ListAuditEventsResponseSchema, { events: page.events.map(auditEventToProto), nextPageToken: page.nextPageToken });
  }

  async *watchAuditEvents(req: WatchAuditEventsRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    if (req.afterSeq > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidFieldError('after_seq', 'is out of range');
    const afterSeq = Number(req.afterSeq);
    const items = whileCredentialHolds(this.streamCredentials, caller, ctx, (signal) =>
      this.streams.bounded(caller, 'WatchAuditEvents', () => this.queries.watch(caller, req.projectId, afterSeq, signal)),
    );
    for await (const item of items) {
      yield create(
        WatchAuditEventsResponseSchema,
        'event' in item
          ? { kind: { case: 'event', value: auditEventToProto(item.event) } }
          : { kind: { case: 'heartbeatAfterSeq', value: BigInt(item.heartbeatAfterSeq) } },
      );
    }
  }
}

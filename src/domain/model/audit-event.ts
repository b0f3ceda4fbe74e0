/** One stored audit event (table audit_events): an AuditEventInput with its place in the project's hash chain. */
export interface AuditEventRow {
  projectId: string;
  /** 1, 2, 3, ... per project, without gaps (pruning removes a prefix). */
  seq: number;
  time: Date;
  actorKind: string;
  /** API key id, end-user account id, operator key id; '' for the system. */
  actorId: string;
  /** End users: the workspace and the OAuth client they act through; '' otherwise. */
  actorWorkspace: string;
  actorClient: string;
  action: string;
  targetType: string;
  targetId: string;
  outcome: string;
  reason: string;
  clientIp: string;
  requestId: string;
  detail: Record<string, string | number | boolean>;
  /** The hash of the previous event of the chain (the anchor's after pruning; '' before the first). */
  prevHash: string;
  /** SHA-256 (hex) of the canonical encoding of this event, prevHash included. */
  hash: string;
}

/** Where a project's chain stands: the last event written, and the last one pruned (the anchor). */
export interface AuditChainHead {
  projectId: string;
  seq: number;
  hash: string;
  anchorSeq: number;
  anchorHash: string;
}

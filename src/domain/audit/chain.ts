import { createHash } from 'node:crypto';
import type { AuditChainHead, AuditEventRow } from '../model/audit-event.js';
import type { AuditEventInput } from './types.js';

/** Version tag of the canonical encoding: part of every hash, so a future encoding cannot be confused with this one. */
const ENCODING = 'nexus-audit-v1';

/** Most detail entries an event keeps, and the longest string value (longer ones are cut). */
export const DETAIL_MAX_ENTRIES = 16;
export const DETAIL_VALUE_MAX_CHARS = 256;
const FIELD_MAX_CHARS = 256;

/** Detail keys that name a secret: their values are replaced, whatever the caller meant (defence in depth). */
const SECRET_KEY =
  /secret|password|passwd|passphrase|credential|authorization|cookie|bearer|private|(^|_|-)token$|access_?token|refresh_?token|id_?token|api_?key|^code$|verifier/i;
export const REDACTED = '[redacted]';

/** The event as stored, before its place in the chain is known. */
export type UnchainedEvent = Omit<AuditEventRow, 'seq' | 'prevHash' | 'hash'>;

/** NULs and lone surrogates: PostgreSQL refuses the first, and the second would be stored as U+FFFD, unlike what was hashed. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** A NUL or any surrogate: only then is UNSTORABLE's slower replace run (recorded values are ids, nearly always ASCII). */
const MAYBE_UNSTORABLE = /[\u0000\uD800-\uDFFF]/;

/**
 * Bounds a field and makes it storable as is. Recorded values include what a
 * refused request carried (a resource key with a NUL, a 900 KB string): one
 * such event must not make its whole batch fail to write, again and again.
 */
function cut(value: string | undefined, max = FIELD_MAX_CHARS): string {
  if (!value) return '';
  const bounded = value.length <= max ? value : value.slice(0, max);
  return MAYBE_UNSTORABLE.test(bounded) ? bounded.replace(UNSTORABLE, '\uFFFD') : bounded;
}

/** Turns a recorded event into a row: flattens the actor, bounds every field, redacts secret-looking detail. */
export function toUnchained(event: AuditEventInput, time: Date): UnchainedEvent {
  const actor = event.actor;
  const detail: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(event.detail ?? {}).slice(0, DETAIL_MAX_ENTRIES)) {
    const k = cut(key, 64);
    if (SECRET_KEY.test(k)) detail[k] = REDACTED;
    else if (typeof value === 'string') detail[k] = cut(value, DETAIL_VALUE_MAX_CHARS);
    else if (typeof value === 'number') detail[k] = Number.isFinite(value) ? value : String(value);
    else if (typeof value === 'boolean') detail[k] = value;
  }
  return {
    projectId: event.projectId,
    time,
    actorKind: actor.kind,
    actorId: cut(actor.kind === 'end_user' ? actor.accountId : actor.kind === 'system' ? '' : actor.kind === 'anonymous' ? actor.presented : actor.keyId),
    actorWorkspace: cut(actor.kind === 'end_user' ? actor.workspaceId : ''),
    actorClient: cut(actor.kind === 'end_user' ? actor.clientId : ''),
    action: cut(event.action, 64),
    targetType: cut(event.target?.type, 64),
    targetId: cut(event.target?.id),
    outcome: event.outcome,
    reason: cut(event.reason, 64),
    clientIp: cut(event.clientIp, 64),
    requestId: cut(event.requestId, 128),
    detail,
  };
}

/**
 * The canonical encoding an event's hash covers: a JSON array of every
 * field in a fixed order (detail with its keys sorted), the previous hash
 * last. JSON quoting makes the field boundaries unambiguous.
 */
export function canonical(event: Omit<AuditEventRow, 'hash'>): string {
  const detail = Object.keys(event.detail)
    .sort()
    .map((k) => [k, event.detail[k]]);
  return JSON.stringify([
    ENCODING,
    event.projectId,
    event.seq,
    event.time.toISOString(),
    event.actorKind,
    event.actorId,
    event.actorWorkspace,
    event.actorClient,
    event.action,
    event.targetType,
    event.targetId,
    event.outcome,
    event.reason,
    event.clientIp,
    event.requestId,
    detail,
    event.prevHash,
  ]);
}

export function hashOf(event: Omit<AuditEventRow, 'hash'>): string {
  return createHash('sha256').update(canonical(event)).digest('hex');
}

/** Places events after the chain's head: consecutive seqs, each hash covering the previous one. */
export function chain(head: { seq: number; hash: string }, events: UnchainedEvent[]): AuditEventRow[] {
  let { seq, hash } = head;
  return events.map((e) => {
    seq += 1;
    const row: AuditEventRow = { ...e, seq, prevHash: hash, hash: '' };
    hash = row.hash = hashOf(row);
    return row;
  });
}

/** What `verify` found: ok with the count checked, or the first bad seq and why. */
export type VerifyResult =
  | { ok: true; projectId: string; count: number; firstSeq: number; lastSeq: number }
  | { ok: false; projectId: string; seq: number; problem: string };

/**
 * Walks a project's events in seq order from the anchor (the last pruned
 * event, or the start) and checks every link: consecutive seqs (a gap is a
 * deleted event), prev_hash equal to the previous event's hash (an inserted
 * or reordered event), the hash recomputed from the content (an edited
 * event), and the end of the walk equal to the chain head (a truncated or
 * extended tail). `rows` must be in ascending seq order.
 */
export class ChainVerifier {
  private expectedSeq: number;
  private prevHash: string;
  private count = 0;
  private failure: VerifyResult | undefined;

  constructor(private readonly head: AuditChainHead) {
    this.expectedSeq = head.anchorSeq + 1;
    this.prevHash = head.anchorHash;
  }

  /** Checks the next batch of rows; false once a problem is found (later rows are not looked at). */
  feed(rows: AuditEventRow[]): boolean {
    for (const row of rows) {
      if (this.failure) return false;
      this.failure = this.check(row);
      if (!this.failure) {
        this.count += 1;
        this.expectedSeq = row.seq + 1;
        this.prevHash = row.hash;
      }
    }
    return !this.failure;
  }

  private check(row: AuditEventRow): VerifyResult | undefined {
    const bad = (seq: number, problem: string): VerifyResult => ({ ok: false, projectId: this.head.projectId, seq, problem });
    if (row.seq > this.head.seq) return bad(row.seq, `event ${row.seq} is past the chain head (${this.head.seq}): inserted`);
    if (row.seq < this.expectedSeq) return bad(row.seq, `event ${row.seq} is not after event ${this.expectedSeq - 1}: inserted or reordered`);
    if (row.seq > this.expectedSeq) {
      const missing = row.seq - this.expectedSeq === 1 ? `event ${this.expectedSeq} is missing` : `events ${this.expectedSeq} to ${row.seq - 1} are missing`;
      return bad(this.expectedSeq, `${missing}: deleted`);
    }
    if (row.prevHash !== this.prevHash) return bad(row.seq, `event ${row.seq} does not link to event ${row.seq - 1} (prev_hash differs): inserted or replaced`);
    if (hashOf(row) !== row.hash) return bad(row.seq, `event ${row.seq} does not match its hash: edited`);
    return undefined;
  }

  /** The verdict once every row was fed. */
  finish(): VerifyResult {
    if (this.failure) return this.failure;
    if (this.expectedSeq - 1 !== this.head.seq) {
      const from = this.expectedSeq;
      const what = from === this.head.seq ? `event ${from} is missing` : `events ${from} to ${this.head.seq} are missing`;
      return { ok: false, projectId: this.head.projectId, seq: from, problem: `${what} (the chain head is at ${this.head.seq}): deleted or truncated` };
    }
    if (this.head.seq > this.head.anchorSeq && this.prevHash !== this.head.hash) {
      return {
        ok: false,
        projectId: this.head.projectId,
        seq: this.head.seq,
        problem: `event ${this.head.seq} is not the one the chain head recorded: replaced`,
      };
    }
    return { ok: true, projectId: this.head.projectId, count: this.count, firstSeq: this.head.anchorSeq + 1, lastSeq: this.head.seq };
  }
}

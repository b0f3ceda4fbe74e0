import type { DataSource } from 'typeorm';
import type { AuditChainHead, AuditEventRow } from '../../domain/model/audit-event.js';
import type { AuditEventsPort, AuditQuery } from '../../domain/ports/persistence.js';

const COLUMNS = [
  'project_id',
  'seq',
  'time',
  'actor_kind',
  'actor_id',
  'actor_workspace',
  'actor_client',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'reason',
  'client_ip',
  'request_id',
  'detail',
  'prev_hash',
  'hash',
] as const;

/** Each column's SQL type: the INSERT takes one array per column (unnest), not one parameter per value. */
const TYPES: Record<(typeof COLUMNS)[number], string> = {
  project_id: 'text',
  seq: 'bigint',
  time: 'timestamptz',
  actor_kind: 'text',
  actor_id: 'text',
  actor_workspace: 'text',
  actor_client: 'text',
  action: 'text',
  target_type: 'text',
  target_id: 'text',
  outcome: 'text',
  reason: 'text',
  client_ip: 'text',
  request_id: 'text',
  detail: 'jsonb',
  prev_hash: 'text',
  hash: 'text',
};

/**
 * One statement for any number of rows, its text always the same: 17 array
 * parameters unnested into rows. A VALUES list of 500 rows was 8,500
 * parameters for PostgreSQL to parse, coerce and plan on every batch.
 */
const INSERT = `INSERT INTO audit_events (${COLUMNS.join(', ')}) SELECT * FROM unnest(${COLUMNS.map((c, i) => `$${i + 1}::${TYPES[c]}[]`).join(', ')})`;

interface RawEvent {
  project_id: string;
  seq: string | number;
  time: Date | string;
  actor_kind: string;
  actor_id: string;
  actor_workspace: string;
  actor_client: string;
  action: string;
  target_type: string;
  target_id: string;
  outcome: string;
  reason: string;
  client_ip: string;
  request_id: string;
  detail: Record<string, string | number | boolean> | string;
  prev_hash: string;
  hash: string;
}

function fromRaw(r: RawEvent): AuditEventRow {
  return {
    projectId: r.project_id,
    seq: Number(r.seq),
    time: new Date(r.time),
    actorKind: r.actor_kind,
    actorId: r.actor_id,
    actorWorkspace: r.actor_workspace,
    actorClient: r.actor_client,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    outcome: r.outcome,
    reason: r.reason,
    clientIp: r.client_ip,
    requestId: r.request_id,
    detail: typeof r.detail === 'string' ? (JSON.parse(r.detail) as AuditEventRow['detail']) : r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The INSERT's parameters: one array per column, in COLUMNS order. */
function columnArrays(rows: AuditEventRow[]): unknown[][] {
  const columns: unknown[][] = COLUMNS.map(() => new Array<unknown>(rows.length));
  rows.forEach((row, i) => {
    columns[0]![i] = row.projectId;
    columns[1]![i] = row.seq;
    columns[2]![i] = row.time.toISOString();
    columns[3]![i] = row.actorKind;
    columns[4]![i] = row.actorId;
    columns[5]![i] = row.actorWorkspace;
    columns[6]![i] = row.actorClient;
    columns[7]![i] = row.action;
    columns[8]![i] = row.targetType;
    columns[9]![i] = row.targetId;
    columns[10]![i] = row.outcome;
    columns[11]![i] = row.reason;
    columns[12]![i] = row.clientIp;
    columns[13]![i] = row.requestId;
    columns[14]![i] = JSON.stringify(row.detail);
    columns[15]![i] = row.prevHash;
    columns[16]![i] = row.hash;
  });
  return columns;
}

interface RawHead {
  project_id: string;
  seq: string | number;
  hash: string;
  anchor_seq: string | number;
  anchor_hash: string;
}

const headFromRaw = (r: RawHead): AuditChainHead => ({
  projectId: r.project_id,
  seq: Number(r.seq),
  hash: r.hash,
  anchorSeq: Number(r.anchor_seq),
  anchorHash: r.anchor_hash,
});

/**
 * audit_events and audit_chain_heads over raw SQL. Append-only: the only
 * statements that change an event are the INSERT of appendChain and the
 * DELETE of prune (the table's trigger refuses anything else; see the
 * migration).
 */
export class AuditRepository implements AuditEventsPort {
  constructor(private readonly dataSource: DataSource) {}

  appendChain(projectId: string, build: (head: { seq: number; hash: string }) => AuditEventRow[]): Promise<AuditEventRow[]> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query('INSERT INTO audit_chain_heads (project_id) VALUES ($1) ON CONFLICT (project_id) DO NOTHING', [projectId]);
      // The chain head's row lock orders every writer of this project, on every replica, until commit.
      const heads: RawHead[] = await tx.query('SELECT project_id, seq, hash, anchor_seq, anchor_hash FROM audit_chain_heads WHERE project_id = $1 FOR UPDATE', [
        projectId,
      ]);
      const head = headFromRaw(heads[0]!);
      const rows = build({ seq: head.seq, hash: head.hash });
      if (rows.length === 0) return rows;
      await tx.query(INSERT, columnArrays(rows));
      const last = rows[rows.length - 1]!;
      await tx.query('UPDATE audit_chain_heads SET seq = $2, hash = $3 WHERE project_id = $1', [projectId, last.seq, last.hash]);
      return rows;
    });
  }

  async heads(projectId?: string): Promise<AuditChainHead[]> {
    const rows: RawHead[] = projectId
      ? await this.dataSource.query('SELECT * FROM audit_chain_heads WHERE project_id = $1', [projectId])
      : await this.dataSource.query('SELECT * FROM audit_chain_heads ORDER BY project_id');
    return rows.map(headFromRaw);
  }

  async query(q: AuditQuery): Promise<AuditEventRow[]> {
    const where = ['project_id = $1', 'seq > $2'];
    const params: unknown[] = [q.projectId, q.afterSeq];
    const add = (sql: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (q.since) add((n) => `time >= ${n}`, q.since);
    if (q.until) add((n) => `time < ${n}`, q.until);
    if (q.actorId) add((n) => `actor_id = ${n}`, q.actorId);
    if (q.action?.endsWith('.')) add((n) => `starts_with(action, ${n})`, q.action);
    else if (q.action) add((n) => `action = ${n}`, q.action);
    if (q.targetType) add((n) => `target_type = ${n}`, q.targetType);
    if (q.targetId) add((n) => `target_id = ${n}`, q.targetId);
    if (q.outcome) add((n) => `outcome = ${n}`, q.outcome);
    params.push(q.limit);
    const rows: RawEvent[] = await this.dataSource.query(
      `SELECT ${COLUMNS.join(', ')} FROM audit_events WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT $${params.length}`,
      params,
    );
    return rows.map(fromRaw);
  }

  prune(projectId: string, cutoff: Date): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      const heads: RawHead[] = await tx.query('SELECT * FROM audit_chain_heads WHERE project_id = $1 FOR UPDATE', [projectId]);
      if (heads.length === 0) return 0;
      // The prefix of the chain older than the cutoff: up to the first event at or after it.
      const last: { seq: string; hash: string }[] = await tx.query(
        `SELECT seq, hash FROM audit_events
          WHERE project_id = $1 AND seq < COALESCE((SELECT min(seq) FROM audit_events WHERE project_id = $1 AND time >= $2), 9223372036854775807)
          ORDER BY seq DESC LIMIT 1`,
        [projectId, cutoff],
      );
      if (last.length === 0) return 0;
      const anchor = last[0]!;
      await tx.query("SELECT set_config('nexus.audit_prune', 'on', true)");
      const deleted: { n: number }[] = await tx.query(
        'WITH d AS (DELETE FROM audit_events WHERE project_id = $1 AND seq <= $2 RETURNING 1) SELECT count(*)::int AS n FROM d',
        [projectId, anchor.seq],
      );
      await tx.query('UPDATE audit_chain_heads SET anchor_seq = $2, anchor_hash = $3 WHERE project_id = $1', [projectId, anchor.seq, anchor.hash]);
      return deleted[0]!.n;
    });
  }
}

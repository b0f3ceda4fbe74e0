import { In, type DataSource } from 'typeorm';
import type { RefreshStatePort } from '../../domain/ports/persistence.js';
import { ConnectionEntity } from '../entities/connection.js';
import type { ConnectionRow, RefreshState } from '../../domain/model/connection.js';
import { BaseRepository, type Tx } from './base.js';

const COLUMNS: Record<keyof RefreshState, string> = {
  refreshAttemptId: 'refresh_attempt_id',
  refreshAttemptBy: 'refresh_attempt_by',
  refreshStartedAt: 'refresh_started_at',
  refreshLeaseUntil: 'refresh_lease_until',
  refreshFailures: 'refresh_failures',
  refreshNextAttemptAt: 'refresh_next_attempt_at',
  refreshTokenRotates: 'refresh_token_rotates',
};

// The worker's notion of "due", shared by the claim and the gauges: the token
// expires within the lead time ($1 = now + lead) and has lived at least half
// its life ($2 = now; updated_at is when the token was stored, since refresh
// bookkeeping never touches it). Without the second rule a provider whose
// tokens live shorter than the lead time would be refreshed again the moment
// each refresh lands, in a loop. Static providers (and MCP bearer-token
// connections) never set token_expires_at; the provider check is belt and
// braces. MCP OAuth connections refresh like OAUTH2 ones.
const DUE = `c.status = 'ACTIVE' AND c.token_expires_at IS NOT NULL AND c.token_expires_at < $1
  AND $2 >= c.updated_at + (c.token_expires_at - c.updated_at) / 2
  AND EXISTS (SELECT 1 FROM providers p WHERE p.id = c.provider_id AND p.auth_type IN ('OAUTH2', 'MCP'))`;
const NOT_BACKING_OFF = `(c.refresh_next_attempt_at IS NULL OR c.refresh_next_attempt_at <= $2)`;
const NOT_LEASED = `(c.refresh_lease_until IS NULL OR c.refresh_lease_until < $2)`;

/** The refresh bookkeeping columns of connections, and the background worker's queries over them. */
export class RefreshRepository extends BaseRepository<ConnectionRow> implements RefreshStatePort {
  constructor(dataSource: DataSource) {
    super(dataSource, ConnectionEntity);
  }

  /**
   * Locks up to `limit` connections that are due (token expiring before
   * `dueBefore`, no backoff pending, no live lease), soonest first, skipping
   * rows another transaction holds: replicas claiming at the same moment get
   * disjoint batches. The locks last until `tx` ends.
   */
  async claimDue(p: { dueBefore: Date; now: Date; limit: number }, tx: Tx): Promise<ConnectionRow[]> {
    const ids: { id: string }[] = await tx.query(
      `SELECT c.id FROM connections c
        WHERE ${DUE} AND ${NOT_BACKING_OFF} AND ${NOT_LEASED}
        ORDER BY c.token_expires_at
        LIMIT $3
        FOR UPDATE OF c SKIP LOCKED`,
      [p.dueBefore, p.now, p.limit],
    );
    if (ids.length === 0) return [];
    return this.repo(tx).findBy({ id: In(ids.map((r) => r.id)) });
  }

  /** Due connections (all replicas) and those of them waiting out a backoff, for the gauges. */
  async countDue(p: { dueBefore: Date; now: Date }, tx?: Tx): Promise<{ due: number; backingOff: number }> {
    const [row] = (await (tx ?? this.dataSource.manager).query(
      `SELECT count(*) FILTER (WHERE ${NOT_BACKING_OFF}) AS due,
              count(*) FILTER (WHERE NOT ${NOT_BACKING_OFF}) AS backing_off
         FROM connections c WHERE ${DUE}`,
      [p.dueBefore, p.now],
    )) as { due: string; backing_off: string }[];
    return { due: Number(row?.due ?? 0), backingOff: Number(row?.backing_off ?? 0) };
  }

  /**
   * Writes refresh bookkeeping without touching updated_at: a lease or a
   * backoff is not a change of the connection anyone watches.
   */
  async setState(id: string, patch: Partial<RefreshState>, tx: Tx): Promise<void> {
    const keys = Object.keys(patch) as (keyof RefreshState)[];
    if (keys.length === 0) return;
    const sets = keys.map((k, i) => `${COLUMNS[k]} = $${i + 2}`).join(', ');
    await tx.query(`UPDATE connections SET ${sets} WHERE id = $1`, [id, ...keys.map((k) => patch[k])]);
  }
}

import type { DataSource } from 'typeorm';
import { CREDENTIAL_REVOKED_SUFFIX, PROVIDERS_CHANGED_SUFFIX } from '../../domain/ports/persistence.js';
import type { ConnectionEventsPort, EventFilter, NewConnectionEvent } from '../../domain/ports/persistence.js';

export type { EventFilter, NewConnectionEvent };
import { ConnectionEventEntity } from '../entities/connection-event.js';
import type { ConnectionEventRow, ConnectionEventTypeName, ConnectionSnapshot } from '../../domain/model/connection-event.js';
import { BaseRepository, type Tx } from './base.js';

/**
 * The channel every replica LISTENs on; the payload is `<project id>:<event id>`,
 * `<project id>:providers`, or `<project id>:<credential id>:revoked` (an API key
 * or a user session was revoked).
 */
export const EVENTS_CHANNEL = 'nexus_connection_events';
export { CREDENTIAL_REVOKED_SUFFIX, PROVIDERS_CHANGED_SUFFIX };

/**
 * SQL that runs `update` (an UPDATE ... RETURNING project_id, id) and, in the
 * same statement, queues a revocation NOTIFY for each row it changed: every
 * replica hears of it at commit, and only if it committed. The channel and
 * suffix are the last two parameters ($n, $n+1).
 */
export function updateAndNotifyRevoked(update: string, paramCount: number): string {
  return `WITH r AS (${update}) SELECT pg_notify($${paramCount + 1}, r.project_id || ':' || r.id || $${paramCount + 2}) FROM r`;
}

// Two-key advisory locks (class, object) live apart from the one-key migration lock.
const EVENT_LOCK_CLASS = 72_420;

export class ConnectionEventRepository extends BaseRepository<ConnectionEventRow> implements ConnectionEventsPort {
  constructor(dataSource: DataSource) {
    super(dataSource, ConnectionEventEntity);
  }

  /**
   * Appends an event and queues its NOTIFY, inside the caller's transaction:
   * both become visible at commit, or never. A per-project advisory lock,
   * held until commit, makes ids grow in commit order within a project, so
   * "every event after id N" is a complete answer for a resume cursor (with
   * a bare sequence, a transaction that drew a smaller id could commit after
   * a larger one was already delivered). Call it last in the transaction,
   * after every row lock is taken, so the lock is held only for the commit.
   */
  async append(event: NewConnectionEvent, tx: Tx): Promise<ConnectionEventRow> {
    const c = event.connection;
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [EVENT_LOCK_CLASS, c.projectId]);
    const rows: { id: string; created_at: Date }[] = await tx.query(
      `WITH ins AS (
         INSERT INTO connection_events (project_id, connection_id, workspace_id, provider_id, type, connection)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at)
       SELECT id, created_at, pg_notify($7, $1 || ':' || id) FROM ins`,
      [c.projectId, c.id, c.workspaceId, c.providerId, event.type, JSON.stringify(c), EVENTS_CHANNEL],
    );
    const row = rows[0]!;
    return {
      id: String(row.id),
      projectId: c.projectId,
      connectionId: c.id,
      workspaceId: c.workspaceId,
      providerId: c.providerId,
      type: event.type,
      connection: c,
      createdAt: new Date(row.created_at),
    };
  }

  /**
   * Tells every replica, at commit, that the project's providers changed:
   * caches of what was built from them (GetToken's) are dropped. Not an
   * event row: nobody replays or watches it; a replica that misses it has
   * lost its listening session and clears everything on reconnect anyway.
   */
  async notifyProvidersChanged(projectId: string, tx: Tx): Promise<void> {
    await tx.query('SELECT pg_notify($1, $2 || $3)', [EVENTS_CHANNEL, projectId, PROVIDERS_CHANGED_SUFFIX]);
  }

  /** Events with these ids, oldest first. */
  findByIds(ids: string[], tx?: Tx): Promise<ConnectionEventRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.repo(tx).createQueryBuilder('e').where('e.id IN (:...ids)', { ids }).orderBy('e.id', 'ASC').getMany();
  }

  /** One page of the events after `afterId` that match the filter, oldest first. */
  listAfter(filter: EventFilter, afterId: string, limit: number, tx?: Tx): Promise<ConnectionEventRow[]> {
    const q = this.repo(tx).createQueryBuilder('e').where('e.project_id = :projectId AND e.id > :afterId', { projectId: filter.projectId, afterId });
    if (filter.workspaceId) q.andWhere('e.workspace_id = :w', { w: filter.workspaceId });
    if (filter.providerId) q.andWhere('e.provider_id = :p', { p: filter.providerId });
    if (filter.connectionId) q.andWhere('e.connection_id = :c', { c: filter.connectionId });
    return q.orderBy('e.id', 'ASC').take(limit).getMany();
  }

  /** The project's newest event visible to this transaction, or undefined when it has none. */
  latest(projectId: string, tx?: Tx): Promise<ConnectionEventRow | null> {
    return this.repo(tx).findOne({ where: { projectId }, order: { id: 'DESC' } });
  }

  /** Deletes events older than the cutoff; returns how many. */
  async pruneBefore(cutoff: Date, tx?: Tx): Promise<number> {
    const result = await this.repo(tx).createQueryBuilder().delete().where('created_at < :cutoff', { cutoff }).execute();
    return result.affected ?? 0;
  }
}

import { LessThan, MoreThan, type DataSource, type FindOptionsWhere } from 'typeorm';
import type {
  WebhookDeliveryQuery,
  WebhookEndpointInsert,
  WebhookEndpointPatch,
  WebhookEndpointsPort,
  WebhookMessage,
} from '../../domain/ports/persistence.js';
import type { WebhookDeliveryRow, WebhookEndpointRow } from '../../domain/model/webhook.js';
import { WebhookDeliveryEntity, WebhookEndpointEntity } from '../entities/webhook.js';
import { BaseRepository, type Tx } from './base.js';

// Two-key advisory lock class (object: the project), apart from the events' (72_420) and the key bootstrap's (72_430).
const WEBHOOK_LOCK_CLASS = 72_421;

/** A project's webhook endpoints, the outbox insert, and the deliveries the API shows. */
export class WebhookEndpointRepository extends BaseRepository<WebhookEndpointRow> implements WebhookEndpointsPort {
  constructor(dataSource: DataSource) {
    super(dataSource, WebhookEndpointEntity);
  }

  private deliveries(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(WebhookDeliveryEntity);
  }

  async insert(row: WebhookEndpointInsert, tx?: Tx): Promise<WebhookEndpointRow> {
    await this.repo(tx).insert(row);
    return (await this.findById(row.projectId, row.id, tx))!;
  }

  findById(projectId: string, id: string, tx?: Tx): Promise<WebhookEndpointRow | null> {
    return this.repo(tx).findOneBy({ projectId, id });
  }

  findByIdForUpdate(projectId: string, id: string, tx: Tx): Promise<WebhookEndpointRow | null> {
    return this.repo(tx).createQueryBuilder('e').setLock('pessimistic_write').where('e.project_id = :projectId AND e.id = :id', { projectId, id }).getOne();
  }

  list(q: { projectId: string; afterId?: string | undefined; limit: number }, tx?: Tx): Promise<WebhookEndpointRow[]> {
    return this.repo(tx).find({
      where: q.afterId ? { projectId: q.projectId, id: MoreThan(q.afterId) } : { projectId: q.projectId },
      order: { id: 'ASC' },
      take: q.limit,
    });
  }

  countByProject(projectId: string, tx?: Tx): Promise<number> {
    return this.repo(tx).countBy({ projectId });
  }

  async lockProject(projectId: string, tx: Tx): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [WEBHOOK_LOCK_CLASS, projectId]);
  }

  async update(projectId: string, id: string, patch: WebhookEndpointPatch, tx?: Tx): Promise<WebhookEndpointRow | null> {
    if (Object.keys(patch).length > 0) await this.repo(tx).update({ projectId, id }, patch);
    return this.findById(projectId, id, tx);
  }

  async delete(projectId: string, id: string, tx?: Tx): Promise<boolean> {
    const result = await this.repo(tx).delete({ projectId, id });
    return (result.affected ?? 0) > 0;
  }

  listAll(tx?: Tx): Promise<WebhookEndpointRow[]> {
    return this.repo(tx).find({ order: { id: 'ASC' } });
  }

  async enqueue(m: WebhookMessage, tx: Tx): Promise<number> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO webhook_deliveries
         (project_id, endpoint_id, message_id, connection_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
       SELECT e.project_id, e.id, $2 || '_' || e.id, $3, $4, $5, $6::jsonb, 'pending', 0, $7, $7
         FROM webhook_endpoints e
        WHERE e.project_id = $1 AND e.enabled AND (cardinality(e.event_types) = 0 OR $5 = ANY(e.event_types))
        ORDER BY e.id
       RETURNING id`,
      [m.projectId, m.messageKey, m.connectionId, m.eventId, m.type, JSON.stringify(m.payload), m.now],
    );
    return rows.length;
  }

  listDeliveries(q: WebhookDeliveryQuery, tx?: Tx): Promise<WebhookDeliveryRow[]> {
    const where: FindOptionsWhere<WebhookDeliveryRow> = { projectId: q.projectId, endpointId: q.endpointId };
    if (q.status) where.status = q.status;
    if (q.beforeId) where.id = LessThan(q.beforeId);
    return this.deliveries(tx).find({ where, order: { id: 'DESC' }, take: q.limit });
  }

  findDelivery(projectId: string, id: string, tx?: Tx): Promise<WebhookDeliveryRow | null> {
    return this.deliveries(tx).findOneBy({ projectId, id });
  }

  async redeliver(original: WebhookDeliveryRow, now: Date, tx?: Tx): Promise<WebhookDeliveryRow> {
    const rows: { id: string }[] = await (tx ?? this.dataSource.manager).query(
      `INSERT INTO webhook_deliveries
         (project_id, endpoint_id, message_id, connection_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
       SELECT project_id, endpoint_id, message_id, connection_id, event_id, event_type, payload, 'pending', 0, $3, $3
         FROM webhook_deliveries WHERE project_id = $1 AND id = $2
       RETURNING id`,
      [original.projectId, original.id, now],
    );
    return (await this.findDelivery(original.projectId, String(rows[0]!.id), tx))!;
  }
}

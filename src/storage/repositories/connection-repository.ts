import { LessThan, Not, type DataSource, type FindOptionsWhere } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm';
import type { ConnectionsPort, ConnectionListQuery, ConnectionPatch } from '../../domain/ports/persistence.js';

export type { ConnectionListQuery, ConnectionPatch };
import { ConnectionEntity } from '../entities/connection.js';
import type { ConnectionRow, ConnectionStatusName, RefreshState } from '../../domain/model/connection.js';
import { ProviderEntity } from '../entities/provider.js';
import type { ProviderRow } from '../../domain/model/provider.js';
import { BaseRepository, type Tx } from './base.js';

export class ConnectionRepository extends BaseRepository<ConnectionRow> implements ConnectionsPort {
  constructor(dataSource: DataSource) {
    super(dataSource, ConnectionEntity);
  }

  async insert(row: Omit<ConnectionRow, 'createdAt' | 'updatedAt' | keyof RefreshState>, tx?: Tx): Promise<ConnectionRow> {
    // jsonb columns are typed as open records, which TypeORM's deep-partial type rejects.
    await this.repo(tx).insert(row as QueryDeepPartialEntity<ConnectionRow>);
    return (await this.findById(row.projectId, row.id, tx))!;
  }

  findById(projectId: string, id: string, tx?: Tx): Promise<ConnectionRow | null> {
    return this.repo(tx).findOneBy({ projectId, id });
  }

  /**
   * The connection and its provider in one round trip: GetToken's path when
   * its cache misses (and for every user-token call), where a second query
   * would double the database time.
   */
  async findWithProvider(projectId: string, id: string, tx?: Tx): Promise<{ connection: ConnectionRow; provider: ProviderRow } | null> {
    const row = await this.repo(tx)
      .createQueryBuilder('c')
      .innerJoinAndMapOne('c.joinedProvider', ProviderEntity.options.name, 'p', 'p.project_id = c.project_id AND p.id = c.provider_id')
      .where('c.project_id = :projectId AND c.id = :id', { projectId, id })
      .getOne();
    if (!row) return null;
    const { joinedProvider, ...connection } = row as ConnectionRow & { joinedProvider: ProviderRow };
    return { connection, provider: joinedProvider };
  }

  /**
   * Reads the row and locks it until the transaction ends: the database-wide
   * mutex that makes a refresh single-flight across processes.
   */
  findByIdForUpdate(projectId: string, id: string, tx: Tx): Promise<ConnectionRow | null> {
    return this.repo(tx).createQueryBuilder('c').setLock('pessimistic_write').where('c.project_id = :projectId AND c.id = :id', { projectId, id }).getOne();
  }

  list(query: ConnectionListQuery, tx?: Tx): Promise<ConnectionRow[]> {
    const where: FindOptionsWhere<ConnectionRow> = { projectId: query.projectId };
    if (query.workspaceId) where.workspaceId = query.workspaceId;
    if (query.providerId) where.providerId = query.providerId;
    if (query.status) where.status = query.status;
    if (query.beforeId) where.id = LessThan(query.beforeId);
    return this.repo(tx).find({ where, order: { id: 'DESC' }, take: query.limit });
  }

  async update(projectId: string, id: string, patch: ConnectionPatch, tx?: Tx): Promise<ConnectionRow> {
    await this.repo(tx).update({ projectId, id }, { ...patch, updatedAt: new Date() } as QueryDeepPartialEntity<ConnectionRow>);
    return (await this.findById(projectId, id, tx))!;
  }

  /**
   * Revokes the workspace's other ACTIVE / ATTENTION_REQUIRED connections to
   * the provider in favour of `newId`, erasing their credentials locally.
   * Returns the revoked rows as they are now.
   */
  async supersede(projectId: string, workspaceId: string, providerId: string, newId: string, tx: Tx): Promise<ConnectionRow[]> {
    const older = await this.repo(tx).find({
      where: [
        { projectId, workspaceId, providerId, id: Not(newId), status: 'ACTIVE' },
        { projectId, workspaceId, providerId, id: Not(newId), status: 'ATTENTION_REQUIRED' },
      ],
    });
    const revoked: ConnectionRow[] = [];
    for (const row of older) {
      const updated = await this.update(
        projectId,
        row.id,
        { status: 'REVOKED', statusReason: 'superseded', supersededBy: newId, credentialsSealed: null, tokenExpiresAt: null },
        tx,
      );
      revoked.push(updated);
    }
    return revoked;
  }

  async countLive(projectId: string, providerId: string, tx?: Tx): Promise<number> {
    return this.repo(tx).count({ where: { projectId, providerId, status: Not('REVOKED') } });
  }

  /** Every row holding sealed credentials, for key rotation. */
  listWithCredentials(tx?: Tx): Promise<ConnectionRow[]> {
    return this.repo(tx).createQueryBuilder('c').where('c.credentials_sealed IS NOT NULL').getMany();
  }
}

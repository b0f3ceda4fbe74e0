import { ArrayContains, MoreThan, type DataSource, type FindOptionsWhere } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm';
import type { ProvidersPort, ProviderListQuery } from '../../domain/ports/persistence.js';

export type { ProviderListQuery };
import { ProviderEntity } from '../entities/provider.js';
import type { ProviderRow } from '../../domain/model/provider.js';
import { BaseRepository, type Tx } from './base.js';

export class ProviderRepository extends BaseRepository<ProviderRow> implements ProvidersPort {
  constructor(dataSource: DataSource) {
    super(dataSource, ProviderEntity);
  }

  async insert(row: Omit<ProviderRow, 'createdAt' | 'updatedAt'>, tx?: Tx): Promise<ProviderRow> {
    // jsonb columns are typed as open records, which TypeORM's deep-partial type rejects.
    await this.repo(tx).insert(row as QueryDeepPartialEntity<ProviderRow>);
    return (await this.findById(row.projectId, row.id, tx))!;
  }

  async save(row: ProviderRow, tx?: Tx): Promise<ProviderRow> {
    return this.repo(tx).save(row);
  }

  findById(projectId: string, id: string, tx?: Tx): Promise<ProviderRow | null> {
    return this.repo(tx).findOneBy({ projectId, id });
  }

  findByName(projectId: string, name: string, tx?: Tx): Promise<ProviderRow | null> {
    return this.repo(tx).findOneBy({ projectId, name });
  }

  /** Ids start with `prv_`, which no valid name does, so the two never collide. */
  findByIdOrName(projectId: string, idOrName: string, tx?: Tx): Promise<ProviderRow | null> {
    return idOrName.startsWith('prv_') ? this.findById(projectId, idOrName, tx) : this.findByName(projectId, idOrName, tx);
  }

  list(query: ProviderListQuery, tx?: Tx): Promise<ProviderRow[]> {
    const where: FindOptionsWhere<ProviderRow> = { projectId: query.projectId };
    if (query.enabledOnly) where.enabled = true;
    if (query.category) where.categories = ArrayContains([query.category]);
    if (query.afterName !== undefined) where.name = MoreThan(query.afterName);
    return this.repo(tx).find({ where, order: { name: 'ASC' }, take: query.limit });
  }

  async delete(projectId: string, id: string, tx?: Tx): Promise<void> {
    await this.repo(tx).delete({ projectId, id });
  }

  /** Takes the provider's row lock for the rest of the transaction (serializes per-provider work such as client registration). */
  async lockById(projectId: string, id: string, tx: Tx): Promise<void> {
    await this.repo(tx).createQueryBuilder('p').setLock('pessimistic_write').where('p.project_id = :projectId AND p.id = :id', { projectId, id }).getOne();
  }

  /** Every provider with a sealed secret, for key rotation. */
  listWithSecrets(tx?: Tx): Promise<ProviderRow[]> {
    return this.repo(tx).createQueryBuilder('p').where('p.client_secret_sealed IS NOT NULL').getMany();
  }
}

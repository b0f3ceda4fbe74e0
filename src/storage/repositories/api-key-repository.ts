import { IsNull, type DataSource } from 'typeorm';
import type { Tx } from '../data-source.js';
import { ApiKeyEntity, type ApiKeyRow } from '../entities/api-key.js';
import { BaseRepository } from './base.js';

export class ApiKeyRepository extends BaseRepository<ApiKeyRow> {
  constructor(dataSource: DataSource) {
    super(dataSource, ApiKeyEntity);
  }

  async insert(row: Omit<ApiKeyRow, 'createdAt' | 'revokedAt'>, tx?: Tx): Promise<void> {
    await this.repo(tx).insert(row);
  }

  /** Inserts unless a key with the same hash exists (an operator-given key re-registered at start-up). */
  async insertIfAbsent(row: Omit<ApiKeyRow, 'createdAt' | 'revokedAt'>, tx?: Tx): Promise<void> {
    await this.repo(tx).createQueryBuilder().insert().values(row).orIgnore().execute();
  }

  findActiveByHash(keyHash: string, tx?: Tx): Promise<ApiKeyRow | null> {
    return this.repo(tx).findOneBy({ keyHash, revokedAt: IsNull() });
  }

  listByProject(projectId: string, tx?: Tx): Promise<ApiKeyRow[]> {
    return this.repo(tx).find({ where: { projectId }, order: { createdAt: 'ASC' } });
  }

  async revoke(projectId: string, id: string, tx?: Tx): Promise<boolean> {
    const result = await this.repo(tx).update({ projectId, id, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }
}

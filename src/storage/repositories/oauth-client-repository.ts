import { LessThan, type DataSource } from 'typeorm';
import type { OAuthClientsPort, OAuthClientInsert, OAuthClientPatch } from '../../domain/ports/persistence.js';

export type { OAuthClientInsert, OAuthClientPatch };
import { OAuthClientEntity } from '../entities/oauth-client.js';
import type { OAuthClientRow } from '../../domain/model/oauth-client.js';
import { BaseRepository, type Tx } from './base.js';

export class OAuthClientRepository extends BaseRepository<OAuthClientRow> implements OAuthClientsPort {
  constructor(dataSource: DataSource) {
    super(dataSource, OAuthClientEntity);
  }

  async insert(row: OAuthClientInsert, tx?: Tx): Promise<OAuthClientRow> {
    await this.repo(tx).insert(row);
    return (await this.findById(row.projectId, row.id, tx))!;
  }

  findById(projectId: string, id: string, tx?: Tx): Promise<OAuthClientRow | null> {
    return this.repo(tx).findOneBy({ projectId, id });
  }

  /** By id alone: client authentication is where the project is learnt. */
  findAnyById(id: string, tx?: Tx): Promise<OAuthClientRow | null> {
    return this.repo(tx).findOneBy({ id });
  }

  /** Newest first, keyset-paged by id (ids are time-ordered). */
  list(q: { projectId: string; beforeId?: string | undefined; limit: number }, tx?: Tx): Promise<OAuthClientRow[]> {
    return this.repo(tx).find({
      where: q.beforeId ? { projectId: q.projectId, id: LessThan(q.beforeId) } : { projectId: q.projectId },
      order: { id: 'DESC' },
      take: q.limit,
    });
  }

  async update(projectId: string, id: string, patch: OAuthClientPatch, tx?: Tx): Promise<OAuthClientRow | null> {
    if (Object.keys(patch).length > 0) await this.repo(tx).update({ projectId, id }, patch);
    return this.findById(projectId, id, tx);
  }

  async delete(projectId: string, id: string, tx?: Tx): Promise<boolean> {
    const result = await this.repo(tx).delete({ projectId, id });
    return (result.affected ?? 0) > 0;
  }
}

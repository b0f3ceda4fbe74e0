import { MoreThan, Not, type DataSource } from 'typeorm';
import type { ProjectInsert, ProjectPatch, ProjectsPort } from '../../domain/ports/persistence.js';
import { ConnectionEntity } from '../entities/connection.js';
import { ProjectEntity } from '../entities/project.js';
import type { ProjectRow } from '../../domain/model/project.js';
import { BaseRepository, type Tx } from './base.js';

export class ProjectRepository extends BaseRepository<ProjectRow> implements ProjectsPort {
  constructor(dataSource: DataSource) {
    super(dataSource, ProjectEntity);
  }

  findById(id: string, tx?: Tx): Promise<ProjectRow | null> {
    return this.repo(tx).findOneBy({ id });
  }

  findByName(name: string, tx?: Tx): Promise<ProjectRow | null> {
    return this.repo(tx).findOneBy({ name });
  }

  /** Inserts the project unless one with that name exists; returns the stored one. */
  async ensure(id: string, name: string, tx?: Tx): Promise<ProjectRow> {
    await this.repo(tx).createQueryBuilder().insert().values({ id, name }).orIgnore().execute();
    const row = await this.findByName(name, tx);
    if (!row) throw new Error(`project ${name} vanished after insert`);
    return row;
  }

  async insert(row: ProjectInsert, tx?: Tx): Promise<ProjectRow | null> {
    const result = await this.repo(tx).createQueryBuilder().insert().values(row).orIgnore().returning('id').execute();
    if ((result.raw as unknown[]).length === 0) return null;
    return this.findById(row.id, tx);
  }

  list(q: { afterId?: string | undefined; limit: number }, tx?: Tx): Promise<ProjectRow[]> {
    return this.repo(tx).find({ where: q.afterId ? { id: MoreThan(q.afterId) } : {}, order: { id: 'ASC' }, take: q.limit });
  }

  async update(id: string, patch: ProjectPatch, tx?: Tx): Promise<ProjectRow | null> {
    if (Object.keys(patch).length > 0) await this.repo(tx).update({ id }, patch);
    return this.findById(id, tx);
  }

  async delete(id: string, tx?: Tx): Promise<boolean> {
    const result = await this.repo(tx).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  async listCorsOrigins(tx?: Tx): Promise<string[]> {
    const rows: { origin: string }[] = await (tx ?? this.dataSource.manager).query('SELECT DISTINCT unnest(cors_origins) AS origin FROM projects');
    return rows.map((r) => r.origin);
  }

  countLiveConnections(id: string, tx?: Tx): Promise<number> {
    return (tx ?? this.dataSource.manager).getRepository(ConnectionEntity).count({ where: { projectId: id, status: Not('REVOKED') } });
  }
}

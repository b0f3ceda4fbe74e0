import type { DataSource } from 'typeorm';
import type { ProjectsPort } from '../../domain/ports/persistence.js';
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
    await this.repo(tx)
      .createQueryBuilder()
      .insert()
      .values({ id, name })
      .orIgnore()
      .execute();
    const row = await this.findByName(name, tx);
    if (!row) throw new Error(`project ${name} vanished after insert`);
    return row;
  }
}

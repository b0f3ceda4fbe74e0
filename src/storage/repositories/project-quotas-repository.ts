import { In, type DataSource } from 'typeorm';
import type { ProjectQuotasPort } from '../../domain/ports/persistence.js';
import type { ProjectQuotaRow, QuotaOverride } from '../../domain/model/project-quotas.js';
import { ProjectQuotaEntity } from '../entities/project-quotas.js';
import { BaseRepository, type Tx } from './base.js';

export class ProjectQuotasRepository extends BaseRepository<ProjectQuotaRow> implements ProjectQuotasPort {
  constructor(dataSource: DataSource) {
    super(dataSource, ProjectQuotaEntity);
  }

  find(projectId: string, tx?: Tx): Promise<ProjectQuotaRow | null> {
    return this.repo(tx).findOneBy({ projectId });
  }

  findMany(projectIds: string[], tx?: Tx): Promise<ProjectQuotaRow[]> {
    return projectIds.length ? this.repo(tx).findBy({ projectId: In(projectIds) }) : Promise.resolve([]);
  }

  async upsert(projectId: string, override: QuotaOverride, tx?: Tx): Promise<ProjectQuotaRow> {
    const row: ProjectQuotaRow = { projectId, ...override, updatedAt: new Date() };
    await this.repo(tx).upsert(row, ['projectId']);
    return row;
  }
}

import { EntitySchema } from 'typeorm';
import type { ProjectQuotaRow } from '../../domain/model/project-quotas.js';

/** The table of the domain model's `ProjectQuotaRow` (src/domain/model/project-quotas.ts). */
export const ProjectQuotaEntity = new EntitySchema<ProjectQuotaRow>({
  name: 'ProjectQuota',
  tableName: 'project_quotas',
  columns: {
    projectId: { name: 'project_id', type: 'text', primary: true },
    keyRatePerSecond: { name: 'key_rate_per_second', type: 'integer', nullable: true },
    keyBurst: { name: 'key_burst', type: 'integer', nullable: true },
    ipRatePerSecond: { name: 'ip_rate_per_second', type: 'integer', nullable: true },
    ipBurst: { name: 'ip_burst', type: 'integer', nullable: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz' },
  },
});

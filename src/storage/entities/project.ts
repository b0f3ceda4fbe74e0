import { EntitySchema } from 'typeorm';
import type { ProjectRow } from '../../domain/model/project.js';

/** The table of the domain model's `ProjectRow` (src/domain/model/project.ts). */
export const ProjectEntity = new EntitySchema<ProjectRow>({
  name: 'Project',
  tableName: 'projects',
  columns: {
    id: { type: 'text', primary: true },
    name: { type: 'text', unique: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

import { EntitySchema } from 'typeorm';
import type { ProjectRow } from '../../domain/model/project.js';

/** The table of the domain model's `ProjectRow` (src/domain/model/project.ts). */
export const ProjectEntity = new EntitySchema<ProjectRow>({
  name: 'Project',
  tableName: 'projects',
  columns: {
    id: { type: 'text', primary: true },
    name: { type: 'text', unique: true },
    displayName: { name: 'display_name', type: 'text', default: '' },
    allowedReturnUrls: { name: 'allowed_return_urls', type: 'text', array: true, default: () => "'{}'" },
    corsOrigins: { name: 'cors_origins', type: 'text', array: true, default: () => "'{}'" },
    branding: { type: 'jsonb', default: () => "'{}'" },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

import { EntitySchema } from 'typeorm';

/** A tenant. Every other row carries its project id. */
export interface ProjectRow {
  id: string;
  name: string;
  createdAt: Date;
}

export const ProjectEntity = new EntitySchema<ProjectRow>({
  name: 'Project',
  tableName: 'projects',
  columns: {
    id: { type: 'text', primary: true },
    name: { type: 'text', unique: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

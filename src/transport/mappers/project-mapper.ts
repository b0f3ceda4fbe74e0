import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { BrandingSchema } from '../../../gen/ts/nexus/v1/auth_pb.js';
import { ProjectSchema, type Project } from '../../../gen/ts/nexus/v1/project_pb.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import type { ProjectRow } from '../../domain/model/project.js';
import type { ProjectInput } from '../../domain/projects/project-admin.js';
import { brandingFromProto } from './client-mapper.js';

export function projectToProto(row: ProjectRow): Project {
  return create(ProjectSchema, {
    id: row.id,
    name: row.name,
    displayName: row.displayName || row.name,
    allowedReturnUrls: row.allowedReturnUrls,
    corsOrigins: row.corsOrigins,
    branding: create(BrandingSchema, row.branding),
    createTime: timestampFromDate(row.createdAt),
    updateTime: timestampFromDate(row.updatedAt),
  });
}

export function projectInputFromProto(project: Project | undefined): ProjectInput {
  if (!project) throw new InvalidFieldError('project', 'is required');
  return {
    name: project.name,
    displayName: project.displayName,
    allowedReturnUrls: project.allowedReturnUrls,
    corsOrigins: project.corsOrigins,
    branding: brandingFromProto(project.branding),
  };
}

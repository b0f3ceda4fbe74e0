import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { BrandingSchema } from '../../../gen/ts/nexus/v1/auth_pb.js';
import { ProjectQuotasSchema, ProjectSchema, type Project, type ProjectQuotas } from '../../../gen/ts/nexus/v1/project_pb.js';
import type { QuotaLimits, QuotaOverride } from '../../domain/model/project-quotas.js';
import type { ProjectQuotaView } from '../../domain/quotas/project-quotas.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import type { ProjectRow } from '../../domain/model/project.js';
import type { ProjectInput } from '../../domain/projects/project-admin.js';
import { brandingFromProto } from './client-mapper.js';

/** A project and, when known, its call quotas (its own and those that apply). */
export function projectToProto(row: ProjectRow, quotas?: ProjectQuotaView): Project {
  return create(ProjectSchema, {
    ...(quotas ? { quotas: quotasToProto(quotas.override), effectiveQuotas: quotasToProto(quotas.effective) } : {}),
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
    ...(project.quotas ? { quotas: quotasFromProto(project.quotas) } : {}),
  };
}

function quotasToProto(q: QuotaOverride | QuotaLimits): ProjectQuotas {
  const set = (v: number | null) => (v === null ? undefined : v);
  return create(ProjectQuotasSchema, {
    keyRatePerSecond: set(q.keyRatePerSecond),
    keyBurst: set(q.keyBurst),
    ipRatePerSecond: set(q.ipRatePerSecond),
    ipBurst: set(q.ipBurst),
  });
}

function quotasFromProto(q: ProjectQuotas): QuotaOverride {
  return { keyRatePerSecond: q.keyRatePerSecond ?? null, keyBurst: q.keyBurst ?? null, ipRatePerSecond: q.ipRatePerSecond ?? null, ipBurst: q.ipBurst ?? null };
}

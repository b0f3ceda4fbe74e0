import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CreateProjectResponseSchema,
  DeleteProjectResponseSchema,
  GetProjectResponseSchema,
  ListProjectsResponseSchema,
  ProjectSchema,
  UpdateProjectResponseSchema,
  type CreateProjectRequest,
  type DeleteProjectRequest,
  type GetProjectRequest,
  type ListProjectsRequest,
  type ProjectService as ProjectServiceDesc,
  type UpdateProjectRequest,
} from '../../../gen/ts/nexus/v1/project_pb.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import { MUTABLE_FIELDS, type ProjectAdmin } from '../../domain/projects/project-admin.js';
import type { ProjectRow } from '../../domain/model/project.js';
import type { ProjectQuotas } from '../../domain/quotas/project-quotas.js';
import { callerOf } from '../access.js';
import { impliedMask } from '../mappers/field-mask.js';
import { projectInputFromProto, projectToProto } from '../mappers/project-mapper.js';

/** ProjectService: the installation operator only (see ACCESS in access.ts). */
export class ProjectHandler implements ServiceImpl<typeof ProjectServiceDesc> {
  constructor(
    private readonly projects: ProjectAdmin,
    /** Each project's call quotas, shown with it (`quotas`, `effective_quotas`). */
    private readonly quotas?: ProjectQuotas,
  ) {}

  async createProject(req: CreateProjectRequest, ctx: HandlerContext) {
    const row = await this.projects.create(callerOf(ctx), projectInputFromProto(req.project));
    return create(CreateProjectResponseSchema, { project: await this.withQuotas(row) });
  }

  async getProject(req: GetProjectRequest, ctx: HandlerContext) {
    return create(GetProjectResponseSchema, { project: await this.withQuotas(await this.projects.get(callerOf(ctx), req.projectId)) });
  }

  async listProjects(req: ListProjectsRequest, ctx: HandlerContext) {
    const page = await this.projects.list(callerOf(ctx), req);
    const quotas = await this.quotas?.views(page.projects.map((p) => p.id));
    return create(ListProjectsResponseSchema, { projects: page.projects.map((p) => projectToProto(p, quotas?.get(p.id))), nextPageToken: page.nextPageToken });
  }

  private async withQuotas(row: ProjectRow) {
    return projectToProto(row, await this.quotas?.view(row.id));
  }

  async updateProject(req: UpdateProjectRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    if (!req.project?.id) throw new InvalidFieldError('project.id', 'identifies the project to update');
    const paths = impliedMask(ProjectSchema, req.project, req.updateMask?.paths, MUTABLE_FIELDS);
    const row = await this.projects.update(caller, req.project.id, projectInputFromProto(req.project), paths);
    return create(UpdateProjectResponseSchema, { project: await this.withQuotas(row) });
  }

  async deleteProject(req: DeleteProjectRequest, ctx: HandlerContext) {
    const { revokedConnections } = await this.projects.delete(callerOf(ctx), req.projectId, req.force);
    return create(DeleteProjectResponseSchema, { revokedConnections });
  }
}

import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CreateProjectResponseSchema,
  DeleteProjectResponseSchema,
  GetProjectResponseSchema,
  ListProjectsResponseSchema,
  UpdateProjectResponseSchema,
  type CreateProjectRequest,
  type DeleteProjectRequest,
  type GetProjectRequest,
  type ListProjectsRequest,
  type ProjectService as ProjectServiceDesc,
  type UpdateProjectRequest,
} from '../../../gen/ts/nexus/v1/project_pb.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import type { ProjectAdmin } from '../../domain/projects/project-admin.js';
import { callerOf } from '../access.js';
import { projectInputFromProto, projectToProto } from '../mappers/project-mapper.js';

/** ProjectService: the installation operator only (see ACCESS in access.ts). */
export class ProjectHandler implements ServiceImpl<typeof ProjectServiceDesc> {
  constructor(private readonly projects: ProjectAdmin) {}

  async createProject(req: CreateProjectRequest, ctx: HandlerContext) {
    const row = await this.projects.create(callerOf(ctx), projectInputFromProto(req.project));
    return create(CreateProjectResponseSchema, { project: projectToProto(row) });
  }

  async getProject(req: GetProjectRequest, ctx: HandlerContext) {
    return create(GetProjectResponseSchema, { project: projectToProto(await this.projects.get(callerOf(ctx), req.projectId)) });
  }

  async listProjects(req: ListProjectsRequest, ctx: HandlerContext) {
    const page = await this.projects.list(callerOf(ctx), req);
    return create(ListProjectsResponseSchema, { projects: page.projects.map(projectToProto), nextPageToken: page.nextPageToken });
  }

  async updateProject(req: UpdateProjectRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    if (!req.project?.id) throw new InvalidFieldError('project.id', 'identifies the project to update');
    const row = await this.projects.update(caller, req.project.id, projectInputFromProto(req.project), req.updateMask?.paths ?? []);
    return create(UpdateProjectResponseSchema, { project: projectToProto(row) });
  }

  async deleteProject(req: DeleteProjectRequest, ctx: HandlerContext) {
    const { revokedConnections } = await this.projects.delete(callerOf(ctx), req.projectId, req.force);
    return create(DeleteProjectResponseSchema, { revokedConnections });
  }
}

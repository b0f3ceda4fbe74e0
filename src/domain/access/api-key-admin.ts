import type { ApiKeys, ApiKeyListing, CreatedKey } from './api-keys.js';
import { ApiKeyNotFoundError, OperatorRequiredError, ProjectNotFoundError } from '../shared/errors.js';
import type { ApiKeyScope } from '../model/api-key.js';
import type { Persistence } from '../ports/persistence.js';
import { isOperator, targetProject, type Principal } from '../shared/principal.js';

/**
 * API keys as callers manage them (ApiKeyService): a project's admin its own
 * project's keys, the operator any project's. Only the operator grants,
 * rotates or revokes `operator` keys, so a project admin of the installation
 * project can neither promote itself nor lock the operator out.
 */
export class ApiKeyAdmin {
  constructor(
    private readonly store: Pick<Persistence, 'projects' | 'apiKeys'>,
    private readonly keys: ApiKeys,
  ) {}

  async create(caller: Principal, req: { projectId: string; name: string; scopes: ApiKeyScope[]; ttlMs?: number | undefined }): Promise<CreatedKey> {
    const projectId = await this.project(caller, req.projectId);
    if (req.scopes.includes('operator') && !isOperator(caller)) throw new OperatorRequiredError('granting "operator"');
    return this.keys.create(projectId, req.name, req.scopes, { ttlMs: req.ttlMs });
  }

  async list(caller: Principal, req: { projectId: string; pageSize: number; pageToken: string }): Promise<{ keys: ApiKeyListing[]; nextPageToken: string }> {
    return this.keys.page(await this.project(caller, req.projectId), req);
  }

  async revoke(caller: Principal, req: { projectId: string; keyId: string }): Promise<ApiKeyListing> {
    const projectId = await this.project(caller, req.projectId);
    await this.guardOperatorKey(caller, projectId, req.keyId);
    if ((await this.keys.revoke(projectId, req.keyId)) === 'not-found') throw new ApiKeyNotFoundError(req.keyId);
    return this.keys.get(projectId, req.keyId);
  }

  async rotate(caller: Principal, req: { projectId: string; keyId: string; overlapMs?: number | undefined }) {
    const projectId = await this.project(caller, req.projectId);
    await this.guardOperatorKey(caller, projectId, req.keyId);
    return this.keys.rotate(projectId, req.keyId, req.overlapMs);
  }

  private async project(caller: Principal, requested: string): Promise<string> {
    const projectId = targetProject(caller, requested);
    if (projectId !== caller.projectId && !(await this.store.projects.findById(projectId))) throw new ProjectNotFoundError(projectId);
    return projectId;
  }

  private async guardOperatorKey(caller: Principal, projectId: string, keyId: string): Promise<void> {
    const row = await this.store.apiKeys.findById(projectId, keyId);
    if (!row) throw new ApiKeyNotFoundError(keyId);
    if (row.scopes.includes('operator') && !isOperator(caller)) throw new OperatorRequiredError('revoking or rotating an operator key');
  }
}

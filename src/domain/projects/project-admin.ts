import { newId } from '../../crypto/index.js';
import { validateBranding, validateOrigin } from '../auth/client-validation.js';
import type { ConnectionService } from '../connections/connection-service.js';
import {
  InvalidFieldError,
  ProjectAlreadyExistsError,
  ProjectHasConnectionsError,
  ProjectNotFoundError,
  ProjectProtectedError,
  echo,
} from '../shared/errors.js';
import type { BrandingValue } from '../model/oauth-client.js';
import type { ProjectRow, ProjectSettings } from '../model/project.js';
import { decodePageToken, encodePageToken, pageSize } from '../shared/page-token.js';
import type { Persistence, ProjectPatch } from '../ports/persistence.js';
import { OPERATOR_PROJECT_ID, requireOperator, type Principal } from '../shared/principal.js';
import { UrlAllowList } from '../shared/url-allow-list.js';
import type { QuotaField, QuotaOverride } from '../model/project-quotas.js';
import { validateOverride, type ProjectQuotas } from '../quotas/project-quotas.js';

const NAME = /^[a-z][a-z0-9-]{1,62}$/;
export const DISPLAY_NAME_MAX_CHARS = 200;
export const LIST_MAX_ENTRIES = 50;

export interface ProjectInput {
  name: string;
  displayName: string;
  allowedReturnUrls: string[];
  corsOrigins: string[];
  branding: { displayName: string; logoUrl: string; accentColor: string };
  /** The project's own call quotas (null: the installation default); none given: all defaults. */
  quotas?: QuotaOverride;
}

export const MUTABLE_FIELDS = ['display_name', 'allowed_return_urls', 'cors_origins', 'branding', 'quotas'] as const;

/**
 * Projects, for the installation operator (ProjectService and `nexus
 * projects`). Every method checks the caller is the operator, whatever the
 * transport already checked.
 */
export class ProjectAdmin {
  constructor(
    private readonly store: Persistence,
    private readonly connections: ConnectionService,
    private readonly allowInsecure: boolean,
    /** Told when a project's CORS origins may have changed (the server's allow-list reloads). */
    private readonly onCorsChange: () => void = () => {},
    /** The projects' call quotas (`quotas` of ProjectInput); without it, quotas cannot be set. */
    private readonly quotas?: ProjectQuotas,
  ) {}

  async create(caller: Principal, input: ProjectInput): Promise<ProjectRow> {
    requireOperator(caller, 'creating a project');
    const name = input.name.trim();
    if (!NAME.test(name)) throw new InvalidFieldError('project.name', 'must be 2 to 63 characters of a-z, 0-9 and "-", starting with a letter');
    const quotas = this.checkQuotas(input);
    const row = await this.store.projects.insert({ id: newId('prj'), name, ...this.settings(input, [...MUTABLE_FIELDS]) });
    if (!row) throw new ProjectAlreadyExistsError(name);
    if (input.quotas) await this.quotas?.set(row.id, quotas, quotaFieldPath);
    if (row.corsOrigins.length > 0) this.onCorsChange();
    return row;
  }

  async get(caller: Principal, id: string): Promise<ProjectRow> {
    requireOperator(caller, 'reading a project');
    return this.require(id);
  }

  async list(caller: Principal, req: { pageSize: number; pageToken: string }): Promise<{ projects: ProjectRow[]; nextPageToken: string }> {
    requireOperator(caller, 'listing projects');
    const limit = pageSize(req.pageSize);
    const afterId = decodePageToken(req.pageToken, { projects: true });
    const rows = await this.store.projects.list({ afterId, limit: limit + 1 });
    const projects = rows.slice(0, limit);
    return { projects, nextPageToken: rows.length > limit ? encodePageToken(projects[projects.length - 1]!.id, { projects: true }) : '' };
  }

  /** Changes the fields named in `paths` and only those (none: nothing changes; the transport derives them per AIP-134). */
  async update(caller: Principal, id: string, input: ProjectInput, paths: string[]): Promise<ProjectRow> {
    requireOperator(caller, 'changing a project');
    for (const path of paths) {
      if (!(MUTABLE_FIELDS as readonly string[]).includes(path)) {
        throw new InvalidFieldError('update_mask', `"${echo(path)}" is not a field UpdateProject changes (${MUTABLE_FIELDS.join(', ')})`);
      }
    }
    const current = await this.require(id);
    if (paths.length === 0) return current;
    const changed = paths;
    // Checked before anything is written, so a bad quota changes nothing.
    const quotas = changed.includes('quotas') ? this.checkQuotas(input) : undefined;
    const row = await this.store.projects.update(id, this.settings(input, changed));
    if (!row) throw new ProjectNotFoundError(id);
    if (quotas) await this.quotas?.set(id, quotas, quotaFieldPath);
    this.onCorsChange();
    return row;
  }

  /**
   * Deletes a project and, by cascade, everything in it. Live connections
   * refuse it unless forced; forced, each is deleted as DeleteConnection
   * would (revoked at its provider, credentials erased) first.
   */
  async delete(caller: Principal, id: string, force: boolean): Promise<{ revokedConnections: number }> {
    requireOperator(caller, 'deleting a project');
    if (id === OPERATOR_PROJECT_ID) throw new ProjectProtectedError(id);
    await this.require(id);
    const live = await this.store.projects.countLiveConnections(id);
    if (live > 0 && !force) throw new ProjectHasConnectionsError(id, live);
    if (live > 0) {
      for (let after: string | undefined; ; ) {
        const providers = await this.store.providers.list({ projectId: id, enabledOnly: false, afterName: after, limit: 100 });
        for (const provider of providers) await this.connections.deleteAllForProvider(id, provider.id);
        if (providers.length < 100) break;
        after = providers[providers.length - 1]!.name;
      }
    }
    // API keys of the project go with it: revoke them first so every replica's cache hears of it.
    for (const key of await this.store.apiKeys.listByProject(id)) if (!key.revokedAt) await this.store.apiKeys.revoke(id, key.id);
    if (!(await this.store.projects.delete(id))) throw new ProjectNotFoundError(id);
    this.onCorsChange();
    return { revokedConnections: live };
  }

  /** The quotas of the input (every field unset when none), validated; refused when this admin cannot store them. */
  private checkQuotas(input: ProjectInput): QuotaOverride {
    const quotas = input.quotas ?? { keyRatePerSecond: null, keyBurst: null, ipRatePerSecond: null, ipBurst: null };
    validateOverride(quotas, quotaFieldPath);
    return quotas;
  }

  private async require(id: string): Promise<ProjectRow> {
    const row = id ? await this.store.projects.findById(id) : null;
    if (!row) throw new ProjectNotFoundError(id);
    return row;
  }

  private settings(input: ProjectInput, paths: string[]): ProjectPatch {
    const patch: ProjectPatch = {};
    if (paths.includes('display_name')) {
      const displayName = input.displayName.trim();
      if (displayName.length > DISPLAY_NAME_MAX_CHARS)
        throw new InvalidFieldError('project.display_name', `must be at most ${DISPLAY_NAME_MAX_CHARS} characters`);
      patch.displayName = displayName;
    }
    if (paths.includes('allowed_return_urls')) patch.allowedReturnUrls = returnUrlPatterns(input.allowedReturnUrls);
    if (paths.includes('cors_origins')) {
      if (input.corsOrigins.length > LIST_MAX_ENTRIES) throw new InvalidFieldError('project.cors_origins', `at most ${LIST_MAX_ENTRIES}`);
      patch.corsOrigins = [...new Set(input.corsOrigins.map((o) => validateOrigin('project.cors_origins', o, this.allowInsecure)))];
    }
    if (paths.includes('branding')) patch.branding = validateBranding('project.branding', input.branding, this.allowInsecure) satisfies BrandingValue;
    return patch;
  }
}

const QUOTA_PATHS: Record<QuotaField, string> = {
  keyRatePerSecond: 'project.quotas.key_rate_per_second',
  keyBurst: 'project.quotas.key_burst',
  ipRatePerSecond: 'project.quotas.ip_rate_per_second',
  ipBurst: 'project.quotas.ip_burst',
};
const quotaFieldPath = (field: QuotaField) => QUOTA_PATHS[field];

/** Patterns with the syntax of NEXUS_ALLOWED_RETURN_URLS, each checked. */
function returnUrlPatterns(patterns: string[]): string[] {
  if (patterns.length > LIST_MAX_ENTRIES) throw new InvalidFieldError('project.allowed_return_urls', `at most ${LIST_MAX_ENTRIES}`);
  for (const pattern of patterns) {
    if (pattern.length > 2048) throw new InvalidFieldError('project.allowed_return_urls', 'entries must be at most 2048 characters');
    try {
      new UrlAllowList([pattern]);
    } catch {
      throw new InvalidFieldError('project.allowed_return_urls', `"${echo(pattern)}" must be an http(s) origin, optionally with a path prefix or port "*"`);
    }
  }
  return [...new Set(patterns)];
}

/**
 * The return URLs a project accepts: its own list when it has one, else
 * the installation's (NEXUS_ALLOWED_RETURN_URLS); the web app's own URL
 * always.
 */
export function projectReturnUrls(store: Pick<Persistence, 'projects'>, global: string[], always: string[]): (projectId: string) => Promise<UrlAllowList> {
  const fallback = new UrlAllowList([...global, ...always]);
  return async (projectId) => {
    const own = (await store.projects.findById(projectId))?.allowedReturnUrls ?? [];
    return own.length ? new UrlAllowList([...own, ...always]) : fallback;
  };
}

export type { ProjectSettings };

import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence } from '../ports/persistence.js';
import { UrlAllowList } from '../shared/url-allow-list.js';

/** How stale the union of the projects' CORS origins may get on a replica that did not make the change. */
export const CORS_RELOAD_MS = 5_000;

/**
 * The browser origins allowed to call the API: the installation's
 * (NEXUS_CORS_ORIGINS) plus every project's. A preflight carries no
 * credentials, so the origin cannot be matched to the project it will act
 * on: the lists are united. CORS is not what protects the API (every call
 * needs its key in a header; no cookie is ever accepted), it only lets a
 * browser page read responses, so a project adding its own web app's origin
 * grants that page nothing it could not do from a server.
 */
export class CorsOrigins {
  private readonly global: UrlAllowList;
  private projects = new UrlAllowList([]);
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;

  constructor(
    global: string[],
    private readonly store: Pick<Persistence, 'projects'>,
    private readonly now: Clock = systemClock,
  ) {
    this.global = new UrlAllowList(global);
  }

  async allows(origin: string): Promise<boolean> {
    if (this.global.allows(origin)) return true;
    if (this.now() - this.loadedAt > CORS_RELOAD_MS) await this.reload();
    return this.projects.allows(origin);
  }

  /** A project's origins changed here: the next check reloads. */
  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  private reload(): Promise<void> {
    this.loading ??= this.store.projects
      .listCorsOrigins()
      .then((origins) => {
        this.projects = new UrlAllowList(origins);
        this.loadedAt = this.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

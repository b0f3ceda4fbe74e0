// `nexus quotas show|set`: a project's call quotas (docs/governance.md, "Quotas"). Each command
// is a function of the open services, so it runs the same in a one-shot process or behind a
// control socket. A change made here reaches running servers within their 5 s cache.
import { QUOTA_FIELDS, type QuotaField, type QuotaOverride } from '../domain/model/project-quotas.js';
import { ProjectQuotas, type ProjectQuotaView } from '../domain/quotas/project-quotas.js';
import type { Store } from '../storage/store.js';

export interface QuotaServices {
  store: Store;
  /** The core's (the running server's own when the command is hosted by it: a change applies there at once). */
  projectQuotas: ProjectQuotas;
}

/** The CLI's option of each field: `--key-rate`, `--key-burst`, `--ip-rate`, `--ip-burst`. */
export const QUOTA_OPTIONS: Record<QuotaField, string> = {
  keyRatePerSecond: 'key-rate',
  keyBurst: 'key-burst',
  ipRatePerSecond: 'ip-rate',
  ipBurst: 'ip-burst',
};

async function requireProject(services: QuotaServices, projectId: string): Promise<void> {
  if (!(await services.store.projects.findById(projectId))) throw new Error(`project ${projectId} does not exist`);
}

function render(projectId: string, view: ProjectQuotaView): string {
  const lines = [`project ${projectId}: calls per second (rate) and at once (burst); rate 0 = no limit`];
  for (const field of QUOTA_FIELDS) {
    const own = view.override[field];
    lines.push(
      `  ${`--${QUOTA_OPTIONS[field]}`.padEnd(12)} ${String(view.effective[field]).padStart(8)}  ${own === null ? '(installation default)' : `(this project's; default ${view.defaults[field]})`}`,
    );
  }
  return lines.join('\n');
}

export async function showQuotas(services: QuotaServices, projectId: string): Promise<string> {
  await requireProject(services, projectId);
  return render(projectId, await services.projectQuotas.view(projectId));
}

/**
 * Sets the given fields ("default" clears one back to the installation's);
 * the others keep their current value.
 */
export async function setQuotas(services: QuotaServices, projectId: string, changes: Partial<Record<QuotaField, string>>): Promise<string> {
  await requireProject(services, projectId);
  const quotas = services.projectQuotas;
  const override: QuotaOverride = { ...(await quotas.view(projectId)).override };
  for (const field of QUOTA_FIELDS) {
    const raw = changes[field];
    if (raw === undefined) continue;
    if (raw === 'default') override[field] = null;
    else if (/^\d+$/.test(raw)) override[field] = Number(raw);
    else throw new Error(`--${QUOTA_OPTIONS[field]} "${raw.slice(0, 32)}" must be a whole number or "default"`);
  }
  return render(projectId, await quotas.set(projectId, override, (f) => `--${QUOTA_OPTIONS[f]}`));
}

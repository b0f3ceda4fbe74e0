// `nexus projects create|list|get|update|delete`: the installation operator's
// commands. Whoever runs the CLI against the database is the operator. Each
// command is a function of the open services, so it runs the same in a
// one-shot process or behind a control socket.
import type { ProjectRow } from '../domain/model/project.js';
import { MUTABLE_FIELDS, type ProjectAdmin, type ProjectInput } from '../domain/projects/project-admin.js';
import { OPERATOR_PROJECT_ID, type Principal } from '../domain/shared/principal.js';

export interface ProjectServices {
  projects: ProjectAdmin;
}

/** The CLI's caller: the installation operator. */
const OPERATOR: Principal = { projectId: OPERATOR_PROJECT_ID, keyId: 'cli', scopes: new Set(['operator']) };

/** What `--display-name`, `--return-urls`, ... set. */
export interface ProjectOptions {
  displayName?: string | undefined;
  returnUrls?: string | undefined;
  corsOrigins?: string | undefined;
  brandName?: string | undefined;
  brandLogo?: string | undefined;
  brandColor?: string | undefined;
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function input(name: string, current: ProjectRow | undefined, o: ProjectOptions): ProjectInput {
  return {
    name,
    displayName: o.displayName ?? current?.displayName ?? '',
    allowedReturnUrls: o.returnUrls === undefined ? (current?.allowedReturnUrls ?? []) : list(o.returnUrls),
    corsOrigins: o.corsOrigins === undefined ? (current?.corsOrigins ?? []) : list(o.corsOrigins),
    branding: {
      displayName: o.brandName ?? current?.branding.displayName ?? '',
      logoUrl: o.brandLogo ?? current?.branding.logoUrl ?? '',
      accentColor: o.brandColor ?? current?.branding.accentColor ?? '',
    },
  };
}

function describe(p: ProjectRow): string {
  const brand = [p.branding.displayName, p.branding.logoUrl, p.branding.accentColor].filter(Boolean).join(' ');
  return [
    `id:           ${p.id}`,
    `name:         ${p.name}`,
    `display name: ${p.displayName || p.name}`,
    `return URLs:  ${p.allowedReturnUrls.join(', ') || "(the installation's: NEXUS_ALLOWED_RETURN_URLS)"}`,
    `CORS origins: ${p.corsOrigins.join(', ') || '(none of its own)'}`,
    `branding:     ${brand || '(none)'}`,
    `created:      ${p.createdAt.toISOString()}`,
  ].join('\n');
}

export async function createProject(services: ProjectServices, name: string, o: ProjectOptions): Promise<string> {
  const row = await services.projects.create(OPERATOR, input(name, undefined, o));
  return `created project ${row.id}\n${describe(row)}\ncreate its first key: nexus api-keys create --project ${row.id} --name admin --scopes admin`;
}

export async function listProjects(services: ProjectServices): Promise<string> {
  const rows: ProjectRow[] = [];
  let pageToken = '';
  do {
    const page = await services.projects.list(OPERATOR, { pageSize: 500, pageToken });
    rows.push(...page.projects);
    pageToken = page.nextPageToken;
  } while (pageToken);
  const table = [['ID', 'NAME', 'DISPLAY NAME', 'CREATED'], ...rows.map((p) => [p.id, p.name, p.displayName || p.name, p.createdAt.toISOString()])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export async function getProject(services: ProjectServices, id: string): Promise<string> {
  return describe(await services.projects.get(OPERATOR, id));
}

export async function updateProject(services: ProjectServices, id: string, o: ProjectOptions): Promise<string> {
  const current = await services.projects.get(OPERATOR, id);
  // Only the settings given change (never the quotas: `nexus quotas` sets those).
  const given: Record<(typeof MUTABLE_FIELDS)[number], boolean> = {
    display_name: o.displayName !== undefined,
    allowed_return_urls: o.returnUrls !== undefined,
    cors_origins: o.corsOrigins !== undefined,
    branding: o.brandName !== undefined || o.brandLogo !== undefined || o.brandColor !== undefined,
    quotas: false,
  };
  const paths = MUTABLE_FIELDS.filter((f) => given[f]);
  const row = await services.projects.update(OPERATOR, id, input(current.name, current, o), paths);
  return `updated project ${row.id}\n${describe(row)}`;
}

export async function deleteProject(services: ProjectServices, id: string, force: boolean): Promise<string> {
  const { revokedConnections } = await services.projects.delete(OPERATOR, id, force);
  return revokedConnections > 0 ? `deleted project ${id} (${revokedConnections} connection(s) revoked first)` : `deleted project ${id}`;
}

import { isDeepStrictEqual } from 'node:util';
import type { ProviderRow } from '../model/provider.js';
import { InvalidFieldError } from '../shared/errors.js';
import type { Principal } from '../shared/principal.js';
import type { ProviderInput } from './provider-input.js';
import type { ProviderService } from './provider-service.js';
import { validateProvider, type ValidatedProvider } from './provider-validation.js';
import type { Persistence } from '../ports/persistence.js';

export type PlanStep =
  | { action: 'create'; name: string; input: ProviderInput }
  | { action: 'update'; name: string; input: ProviderInput; changes: string[] }
  | { action: 'unchanged'; name: string }
  | { action: 'delete'; name: string }
  /** In the project but not in the file, and --prune not given: left alone. */
  | { action: 'keep'; name: string };

/** Compared on plan; `oauth2` is compared setting by setting (the secret separately). */
const COMPARED: [keyof ValidatedProvider, string][] = [
  ['displayName', 'display_name'],
  ['description', 'description'],
  ['logoUrl', 'logo_url'],
  ['categories', 'categories'],
  ['enabled', 'enabled'],
  ['credentialSchema', 'credential_schema'],
  ['postOauthFieldsSchema', 'post_oauth_fields_schema'],
  ['connectionFieldsSchema', 'connection_fields_schema'],
  ['apiKey', 'api_key'],
  ['awsSigv4', 'aws_sigv4'],
  ['apiBaseUrl', 'api_base_url'],
];
const OAUTH2_DEFAULTS = { tokenResponseFormat: 'json', tokenParams: {}, tokenResponsePaths: {}, authorizeParams: {}, defaultScopes: [] };

/**
 * Declarative provider management (`nexus providers apply`): the plan that
 * turns a project's providers into the desired list. Every desired provider
 * is validated before anything is planned, so a bad file changes nothing.
 * A client secret is compared with the stored one in memory, in constant
 * time; the plan names the field, never the value.
 */
export async function planProviders(
  store: Persistence,
  providers: ProviderService,
  projectId: string,
  desired: ProviderInput[],
  options: { prune: boolean; allowInsecureUrls: boolean },
): Promise<PlanStep[]> {
  const seen = new Set<string>();
  const validated = desired.map((input) => {
    if (seen.has(input.name)) throw new InvalidFieldError('providers', `"${input.name}" appears twice`);
    seen.add(input.name);
    try {
      return { input, valid: validateProvider(input, options.allowInsecureUrls) };
    } catch (err) {
      (err as Error).message = `provider "${input.name}": ${(err as Error).message}`;
      throw err;
    }
  });
  const current = await allProviders(store, projectId);
  const byName = new Map(current.map((row) => [row.name, row]));
  const steps: PlanStep[] = [];
  for (const { input, valid } of validated) {
    const row = byName.get(input.name);
    if (!row) {
      steps.push({ action: 'create', name: input.name, input });
      continue;
    }
    if (row.authType !== valid.authType) {
      throw new InvalidFieldError('providers', `provider "${input.name}" is ${row.authType}; auth_type cannot change (delete it first)`);
    }
    const changes = diff(row, valid, input, providers);
    steps.push(changes.length ? { action: 'update', name: input.name, input, changes } : { action: 'unchanged', name: input.name });
  }
  for (const row of current) {
    if (!seen.has(row.name)) steps.push({ action: options.prune ? 'delete' : 'keep', name: row.name });
  }
  return steps;
}

/** Deletes a provider: ProviderRemoval (connections/provider-removal.ts), named by shape so providers/ does not import connections/. */
export interface ProviderDeleter {
  delete(caller: Principal, idOrName: string, force: boolean): Promise<void>;
}

/** `removal` deletes pruned providers, never forced: one with live connections stops the apply (PROVIDER_IN_USE). */
export async function applyPlan(providers: ProviderService, removal: ProviderDeleter, caller: Principal, steps: PlanStep[]): Promise<void> {
  for (const step of steps) {
    if (step.action === 'create') await providers.create(caller, step.input);
    else if (step.action === 'update') await providers.update(caller, step.name, step.input, []);
    else if (step.action === 'delete') await removal.delete(caller, step.name, false);
  }
}

export function describePlan(steps: PlanStep[]): string {
  const lines = steps.map((s) => {
    switch (s.action) {
      case 'create':
        return `  + ${s.name} (create ${s.input.authType ?? ''})`.trimEnd();
      case 'update':
        return `  ~ ${s.name} (update: ${s.changes.join(', ')})`;
      case 'unchanged':
        return `  = ${s.name} (unchanged)`;
      case 'delete':
        return `  - ${s.name} (delete)`;
      case 'keep':
        return `  ? ${s.name} (not in the file; kept, --prune deletes it)`;
    }
  });
  const count = (a: PlanStep['action']) => steps.filter((s) => s.action === a).length;
  lines.push(`Plan: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${count('unchanged')} unchanged.`);
  return lines.join('\n');
}

export function hasChanges(steps: PlanStep[]): boolean {
  return steps.some((s) => s.action === 'create' || s.action === 'update' || s.action === 'delete');
}

function diff(row: ProviderRow, valid: ValidatedProvider, input: ProviderInput, providers: ProviderService): string[] {
  const changes: string[] = [];
  for (const [key, label] of COMPARED) {
    if (!same(row[key], valid[key])) changes.push(label);
  }
  if (valid.oauth2 && row.oauth2) {
    const before = { ...OAUTH2_DEFAULTS, ...row.oauth2 } as Record<string, unknown>;
    const after = { ...OAUTH2_DEFAULTS, ...valid.oauth2 } as Record<string, unknown>;
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (!same(before[key], after[key])) changes.push(`oauth2.${snake(key)}`);
    }
    const secret = input.oauth2?.clientSecret ?? '';
    // An omitted secret keeps the stored one (as UpdateProvider does).
    if (secret && !providers.clientSecretMatches(row, secret)) changes.push('oauth2.client_secret');
  }
  if ((input.catalogName ?? null) !== null && input.catalogName !== row.catalogName) changes.push('catalog');
  return changes;
}

/** Deep equality of stored JSON, ignoring key order and absent-versus-undefined members. */
function same(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));
  return isDeepStrictEqual(norm(a), norm(b));
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

async function allProviders(store: Persistence, projectId: string): Promise<ProviderRow[]> {
  const rows: ProviderRow[] = [];
  for (;;) {
    const page = await store.providers.list({ projectId, enabledOnly: false, afterName: rows.at(-1)?.name, limit: 500 });
    rows.push(...page);
    if (page.length < 500) return rows;
  }
}

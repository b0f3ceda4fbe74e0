import { readFileSync } from 'node:fs';
import { commandEnv } from '../hosted-command.js';
import { parse } from 'yaml';
import type { ProviderCatalog } from '../domain/catalog/provider-catalog.js';
import { checkProviderDocument, providerInputFromDocument, type ProviderDocument } from '../domain/providers/provider-document.js';
import type { ProviderInput } from '../domain/providers/provider-input.js';

/**
 * Reads a providers YAML file: `providers:` is a list of providers in the
 * same shape as the API's Provider message (snake_case). An entry with
 * `catalog: <entry>` starts from that built-in catalog entry and needs only
 * what the catalog cannot know (oauth2.client_id and client_secret); any
 * other field it gives overrides the entry's (oauth2 settings one by one).
 * `${ENV}` in a string is replaced from the environment, so secrets stay out
 * of the file. Unknown keys and enum values are refused here, before any
 * database is opened, with a suggestion ("did you mean `enabled`?").
 */
export function readProvidersFile(path: string, catalog: ProviderCatalog, env: NodeJS.ProcessEnv = commandEnv()): ProviderInput[] {
  let doc: { providers?: unknown };
  try {
    doc = parse(readFileSync(path, 'utf8')) as { providers?: unknown };
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || !Array.isArray(doc.providers)) throw new Error(`${path}: expected a top-level "providers:" list`);
  return doc.providers.map((raw, i) => {
    const where = `${path}: providers[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: must be a mapping`);
    const entry = substitute(raw, env, where) as ProviderDocument;
    checkProviderDocument(entry, where, ['catalog']);
    if (entry.catalog === undefined) return providerInputFromDocument(entry, where);
    const { catalog: catalogName, ...overrides } = entry;
    const base = catalog.get(String(catalogName));
    const merged: ProviderDocument = { ...base.document, ...overrides, name: overrides.name ?? base.name };
    if (base.document.oauth2 || overrides.oauth2) {
      merged.oauth2 = { ...(base.document.oauth2 as object | undefined), ...(overrides.oauth2 as object | undefined) };
    }
    return { ...providerInputFromDocument(merged, where), catalogName: base.name };
  });
}

function substitute(value: unknown, env: NodeJS.ProcessEnv, where: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) throw new Error(`${where}: environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, env, where));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, env, where)]));
  }
  return value;
}

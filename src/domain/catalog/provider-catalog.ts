import { readFileSync } from 'node:fs';
import { packagePath } from '../../platform/paths.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import type { ProviderRow } from '../model/provider.js';
import { CatalogEntryNotFoundError, InvalidFieldError } from '../shared/errors.js';
import { monogramLogo } from './monogram.js';
import { decodePageToken, encodePageToken, pageSize } from '../shared/page-token.js';
import { providerInputFromDocument, type ProviderDocument } from '../providers/provider-document.js';
import type { ProviderInput } from '../providers/provider-input.js';
import { validateProvider, type ValidatedProvider } from '../providers/provider-validation.js';

export const CATALOG_FILE = packagePath('catalog', 'providers.yaml');
export const CATALOG_SCHEMA_FILE = packagePath('catalog', 'providers.schema.json');

export interface CatalogEntry {
  name: string;
  docsUrl: string;
  /** The entry as written in the file (without docs_url), for merging with a providers file. */
  document: ProviderDocument;
  /** The provider as the catalog describes it: no client id or secret. */
  input: ProviderInput;
  /** The same, validated and in stored form (a placeholder client id), for display. */
  template: ValidatedProvider;
}

/** What an admin supplies to enable a catalog entry. */
export interface CatalogEnableInput {
  name: string;
  clientId: string;
  clientSecret: string;
  defaultScopes: string[];
  enabled?: boolean | undefined;
}

/**
 * The built-in provider catalog (catalog/providers.yaml): well-known services
 * with their published endpoints, scopes and quirks. Loaded once and checked
 * twice, against catalog/providers.schema.json and as providers, on its first
 * use (a catalog RPC, `providers apply`): the parsed entries take a few MiB a
 * server without catalog calls never needs. The unit tier loads the shipped
 * file (test/unit/catalog/catalog-file.test.ts), so a broken entry fails CI.
 */
export class ProviderCatalog {
  private readonly byName: Map<string, CatalogEntry>;
  private readonly sorted: CatalogEntry[];

  private constructor(entries: CatalogEntry[]) {
    this.sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.byName = new Map(this.sorted.map((e) => [e.name, e]));
  }

  private static builtIn: ProviderCatalog | undefined;

  /** The built-in catalog, loaded once per process. */
  static builtin(): ProviderCatalog {
    ProviderCatalog.builtIn ??= ProviderCatalog.load();
    return ProviderCatalog.builtIn;
  }

  static load(file = CATALOG_FILE, schemaFile = CATALOG_SCHEMA_FILE): ProviderCatalog {
    const doc: unknown = parse(readFileSync(file, 'utf8'));
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
    if (!validate(doc)) {
      const first = validate.errors?.[0];
      throw new Error(`${file}: ${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`);
    }
    const entries = (doc as { providers: ProviderDocument[] }).providers.map((raw, i) => {
      const { docs_url: docsUrl, sources: _sources, unverified: _unverified, ...entry } = raw;
      // Catalog logos are monograms generated here, never a third party's URL (see monogram.ts).
      const provider = { ...entry, logo_url: monogramLogo(String(entry.name), String(entry.display_name ?? '')) };
      const input = providerInputFromDocument(provider, `providers[${i}]`);
      const placeholder = input.oauth2 ? { ...input, oauth2: { ...input.oauth2, clientId: 'catalog' } } : input;
      return { name: input.name, docsUrl: String(docsUrl), document: provider, input, template: validateProvider(placeholder, false) };
    });
    if (new Set(entries.map((e) => e.name)).size !== entries.length) throw new Error(`${file}: entry names must be unique`);
    return new ProviderCatalog(entries);
  }

  /** Every entry, ordered by name. */
  get all(): readonly CatalogEntry[] {
    return this.sorted;
  }

  get size(): number {
    return this.sorted.length;
  }

  list(req: { pageSize: number; pageToken: string; category: string }): { entries: CatalogEntry[]; nextPageToken: string } {
    const limit = pageSize(req.pageSize);
    const filters = { catalog: true, category: req.category };
    const after = decodePageToken(req.pageToken, filters);
    const matching = this.sorted.filter((e) => (!req.category || e.input.categories.includes(req.category)) && (after === undefined || e.name > after));
    const page = matching.slice(0, limit);
    return { entries: page, nextPageToken: matching.length > limit ? encodePageToken(page.at(-1)!.name, filters) : '' };
  }

  get(name: string): CatalogEntry {
    if (!name) throw new InvalidFieldError('name', 'is required');
    const entry = this.byName.get(name);
    if (!entry) throw new CatalogEntryNotFoundError(name);
    return entry;
  }

  /** The provider to create: the entry, the admin's client credentials, and the entry recorded as its origin. */
  providerInput(catalogName: string, req: CatalogEnableInput): ProviderInput {
    const entry = this.get(catalogName);
    const base = entry.input;
    if (!base.oauth2) {
      if (req.clientId || req.clientSecret || req.defaultScopes.length) {
        throw new InvalidFieldError('client_id', `catalog entry "${catalogName}" is ${base.authType}: it takes no client credentials or scopes`);
      }
      return { ...base, name: req.name || base.name, enabled: req.enabled ?? true, catalogName };
    }
    if (!req.clientId) throw new InvalidFieldError('client_id', `is required to enable the OAUTH2 catalog entry "${catalogName}"`);
    return {
      ...base,
      name: req.name || base.name,
      enabled: req.enabled ?? true,
      catalogName,
      oauth2: {
        ...base.oauth2,
        clientId: req.clientId,
        clientSecret: req.clientSecret,
        defaultScopes: req.defaultScopes.length ? req.defaultScopes : base.oauth2.defaultScopes,
      },
    };
  }
}

/** A catalog entry dressed as a provider row, for the one provider mapper. */
export function catalogTemplateRow(entry: CatalogEntry): ProviderRow {
  const epoch = new Date(0);
  return {
    ...entry.template,
    oauth2: entry.template.oauth2 ? { ...entry.template.oauth2, clientId: '' } : null,
    id: '',
    projectId: '',
    clientSecretSealed: null,
    catalogName: entry.name,
    createdAt: epoch,
    updatedAt: epoch,
  };
}

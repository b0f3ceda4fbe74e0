import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CATALOG_FILE } from '../../../src/domain/catalog/provider-catalog.js';
import { catalogStats, selectEntries, sourceKind } from '../../../scripts/catalog-stats.js';

type Entry = { name: string; sources: { url: string; values: string[]; kind?: 'docs' | 'repository' }[]; unverified?: string[] };
const entries = (parse(readFileSync(CATALOG_FILE, 'utf8')) as { providers: Entry[] }).providers;

describe('scripts/catalog-stats.ts', () => {
  it('tells a repository definition from a service page', () => {
    expect(sourceKind('https://github.com/NangoHQ/nango/blob/abc/packages/providers/providers.yaml')).toBe('repository');
    expect(sourceKind('https://android.googlesource.com/platform/external/x')).toBe('repository');
    expect(sourceKind('https://docs.mollie.com/reference/authorize-endpoint.md')).toBe('docs');
  });

  it('counts a value once, as docs when any documentation source confirms it', () => {
    const s = catalogStats([
      {
        name: 'x',
        sources: [
          { url: 'https://github.com/o/r/blob/c/p.yaml', values: ['oauth2.token_url', 'api_base_url'] },
          { url: 'https://docs.example.com/oauth', values: ['oauth2.token_url'] },
        ],
        unverified: ['oauth2.default_scopes'],
      },
      { name: 'y', sources: [] },
    ]);
    expect(s).toEqual({ entries: 2, entriesWithSources: 1, docs: 1, repositoryOnly: 1, unverified: 1 });
    // A service's docs read from the repository its docs site is built from say so (kind: docs).
    const declared = catalogStats([
      { name: 'z', sources: [{ url: 'https://github.com/github/docs/blob/c/content/oauth.md', values: ['oauth2.token_url'], kind: 'docs' }] },
    ]);
    expect([declared.docs, declared.repositoryOnly]).toEqual([1, 0]);
  });

  it('accounts for every value of the catalog, and selects ranges and names', () => {
    const s = catalogStats(entries);
    const accounted = entries.reduce((n, e) => n + new Set([...e.sources.flatMap((x) => x.values), ...(e.unverified ?? [])]).size, 0);
    expect(s.docs + s.repositoryOnly + s.unverified).toBe(accounted);
    expect(s.docs).toBeGreaterThan(0);
    const half = selectEntries(entries, ['--from', 'attio-mcp']);
    expect(half[0]?.name).toBe('attio-mcp');
    expect(half.at(-1)?.name).toBe(entries.at(-1)?.name);
    expect(
      selectEntries(entries, ['zoho', 'mollie'])
        .map((e) => e.name)
        .sort(),
    ).toEqual(['mollie', 'zoho']);
    expect(() => selectEntries(entries, ['--from', 'no-such-entry'])).toThrow(/no catalog entry/);
  });
});

// Counts how the values of catalog/providers.yaml are accounted for: confirmed by the
// service's own documentation, confirmed only by public repositories' provider
// definitions, or marked unverified. Run: npx tsx scripts/catalog-stats.ts
// [--from <entry>] [--to <entry>] [name...]  (a range of entries, inclusive, or names).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';

interface Source {
  url: string;
  values: string[];
  /** Declared by a source whose address alone misleads: the service's docs read from the repository its docs site is built from. */
  kind?: 'docs' | 'repository';
}
interface Entry {
  name: string;
  sources: Source[];
  unverified?: string[];
}

// A source on a code host is a repository's provider definition (Nango, Arctic, a
// service's own SDK repository); any other address is documentation the service publishes.
const REPOSITORY_HOSTS = ['github.com', 'raw.githubusercontent.com', 'gist.github.com', 'gitlab.com'];

export function sourceKind(url: string): 'docs' | 'repository' {
  const host = new URL(url).hostname.toLowerCase();
  const isRepo = REPOSITORY_HOSTS.includes(host) || host.endsWith('.googlesource.com');
  return isRepo ? 'repository' : 'docs';
}

export interface CatalogStats {
  entries: number;
  entriesWithSources: number;
  /** Values confirmed by at least one documentation source. */
  docs: number;
  /** Values confirmed only by repositories' provider definitions. */
  repositoryOnly: number;
  unverified: number;
}

export function catalogStats(entries: Entry[]): CatalogStats {
  const stats: CatalogStats = { entries: entries.length, entriesWithSources: 0, docs: 0, repositoryOnly: 0, unverified: 0 };
  for (const e of entries) {
    if (e.sources.length > 0) stats.entriesWithSources++;
    const kinds = new Map<string, Set<string>>();
    for (const s of e.sources) {
      for (const v of s.values) kinds.set(v, (kinds.get(v) ?? new Set()).add(s.kind ?? sourceKind(s.url)));
    }
    for (const k of kinds.values()) {
      if (k.has('docs')) stats.docs++;
      else stats.repositoryOnly++;
    }
    stats.unverified += (e.unverified ?? []).length;
  }
  return stats;
}

export function selectEntries(all: Entry[], args: string[]): Entry[] {
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const index = (name: string | undefined, fallback: number) => {
    if (name === undefined) return fallback;
    const i = all.findIndex((e) => e.name === name);
    if (i < 0) throw new Error(`no catalog entry named ${name}`);
    return i;
  };
  const from = index(flag('--from'), 0);
  const to = index(flag('--to'), all.length - 1);
  const names = args.filter((a, i) => !a.startsWith('--') && !['--from', '--to'].includes(args[i - 1] ?? ''));
  const range = all.slice(from, to + 1);
  return names.length ? range.filter((e) => names.includes(e.name)) : range;
}

function main() {
  const file = new URL('../catalog/providers.yaml', import.meta.url);
  const all = (parse(readFileSync(file, 'utf8')) as { providers: Entry[] }).providers;
  const s = catalogStats(selectEntries(all, process.argv.slice(2)));
  const total = s.docs + s.repositoryOnly + s.unverified;
  const pct = (n: number) => (total ? `${((100 * n) / total).toFixed(0)}%` : '-');
  console.log(`entries                                   ${s.entries} (${s.entriesWithSources} with sources)`);
  console.log(`values accounted for                      ${total}`);
  console.log(`  confirmed by the service's own docs     ${s.docs} (${pct(s.docs)})`);
  console.log(`  confirmed only by public repositories   ${s.repositoryOnly} (${pct(s.repositoryOnly)})`);
  console.log(`  unverified                              ${s.unverified} (${pct(s.unverified)})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();

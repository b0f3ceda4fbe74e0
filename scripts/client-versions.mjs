#!/usr/bin/env node
// One version for the three client packages: clients/VERSION. This script writes it into
// every place a package states its version (npm, PyPI, Go), or with --check fails (exit 1)
// naming each place that differs, which CI runs (.ci/run). To release a new version: edit
// clients/VERSION, run `npm run clients:version`, commit.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const version = readFileSync(path.join(root, 'clients/VERSION'), 'utf8').trim();
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
  console.error(`client-versions: clients/VERSION "${version}" is not a semantic version`);
  process.exit(2);
}

/** Each place: a file and the edit that puts `version` in it (the edit must find its target). */
const json = (edit) => (text) => `${JSON.stringify(edit(JSON.parse(text)), null, 2)}\n`;
const line = (pattern, make) => (text) => {
  if (!pattern.test(text)) throw new Error(`no line matching ${pattern}`);
  return text.replace(pattern, make(version));
};
const places = {
  'clients/ts/package.json': json((p) => ({ ...p, version })),
  'clients/ts/package-lock.json': json((p) => {
    p.version = version;
    if (p.packages?.['']) p.packages[''].version = version;
    return p;
  }),
  'clients/ts/src/version.ts': line(/^export const VERSION = '[^']*';$/m, (v) => `export const VERSION = '${v}';`),
  'clients/python/pyproject.toml': line(/^version = "[^"]*"$/m, (v) => `version = "${v}"`),
  'clients/python/src/nexus_broker/_version.py': line(/^__version__ = "[^"]*"$/m, (v) => `__version__ = "${v}"`),
  'clients/go/nexusauth/version.go': line(/^const Version = "[^"]*"$/m, (v) => `const Version = "${v}"`),
  // The Go client requires the generated module at the same tag (gen/go/vX.Y.Z).
  'clients/go/go.mod': line(/^(\tgithub\.com\/nexus-broker\/nexus\/gen\/go) v\S+$/m, (v) => `$1 v${v}`),
  // The docs' install lines name the packed tarball.
  'docs/clients/typescript.md': line(/nexus-broker-client-\d+\.\d+\.\d+[^/\s]*?\.tgz/g, (v) => `nexus-broker-client-${v}.tgz`),
};

const stale = [];
for (const [file, edit] of Object.entries(places)) {
  const full = path.join(root, file);
  const before = readFileSync(full, 'utf8');
  let after;
  try {
    after = edit(before);
  } catch (err) {
    console.error(`client-versions: ${file}: ${err.message}`);
    process.exit(2);
  }
  if (after === before) continue;
  stale.push(file);
  if (!check) writeFileSync(full, after);
}
if (check && stale.length) {
  console.error(`client-versions: not at clients/VERSION ${version}: ${stale.join(', ')} (run 'npm run clients:version')`);
  process.exit(1);
}
console.error(`client-versions: ${version}${stale.length ? (check ? '' : `, wrote ${stale.join(', ')}`) : ', every package agrees'}`);

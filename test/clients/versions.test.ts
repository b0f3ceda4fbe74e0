// The client packages move together with the proto API: one version, clients/VERSION.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support.js';

const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');

describe('client package versions', () => {
  const version = read('clients/VERSION').trim();

  it('is one semantic version', () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('is the version of the TypeScript package', () => {
    expect(JSON.parse(read('clients/ts/package.json')).version).toBe(version);
    expect(JSON.parse(read('clients/ts/package-lock.json')).version).toBe(version);
    expect(read('clients/ts/src/version.ts')).toContain(`VERSION = '${version}'`);
  });

  it('is the version of the Python package', () => {
    expect(read('clients/python/pyproject.toml')).toMatch(new RegExp(`^version = "${version.replace(/\./g, '\\.')}"$`, 'm'));
    expect(read('clients/python/src/nexus_broker/_version.py')).toContain(`__version__ = "${version}"`);
  });

  it('is the version of the Go package', () => {
    expect(read('clients/go/nexusauth/version.go')).toContain(`const Version = "${version}"`);
  });
});

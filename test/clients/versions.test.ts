// The client packages move together with the proto API: one version, clients/VERSION.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support.js';

const PLACES = [
  'clients/ts/package.json',
  'clients/ts/package-lock.json',
  'clients/ts/src/version.ts',
  'clients/python/pyproject.toml',
  'clients/python/src/nexus_broker/_version.py',
  'clients/go/nexusauth/version.go',
  'clients/go/go.mod',
  'docs/clients/typescript.md',
];

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

  it('is derived from clients/VERSION by scripts/client-versions.mjs, which CI runs with --check', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nexus-versions-'));
    try {
      for (const file of ['scripts/client-versions.mjs', 'clients/VERSION', ...PLACES]) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        cpSync(path.join(REPO_ROOT, file), path.join(dir, file));
      }
      const script = path.join(dir, 'scripts/client-versions.mjs');
      const runScript = (...args: string[]) => execFileSync(process.execPath, [script, ...args], { stdio: 'pipe' });
      runScript('--check');
      writeFileSync(path.join(dir, 'clients/VERSION'), '7.8.9\n');
      expect(() => runScript('--check')).toThrow(/not at clients\/VERSION 7\.8\.9: clients\/ts\/package\.json, .*clients\/go\/nexusauth\/version\.go/);
      runScript();
      runScript('--check');
      const at = (file: string) => readFileSync(path.join(dir, file), 'utf8');
      expect(JSON.parse(at('clients/ts/package.json')).version).toBe('7.8.9');
      expect(JSON.parse(at('clients/ts/package-lock.json')).packages[''].version).toBe('7.8.9');
      expect(at('clients/ts/src/version.ts')).toContain("VERSION = '7.8.9'");
      expect(at('clients/python/pyproject.toml')).toMatch(/^version = "7\.8\.9"$/m);
      expect(at('clients/python/src/nexus_broker/_version.py')).toContain('__version__ = "7.8.9"');
      expect(at('clients/go/nexusauth/version.go')).toContain('const Version = "7.8.9"');
      expect(at('clients/go/go.mod')).toMatch(/^\tgithub\.com\/nexus-broker\/nexus\/gen\/go v7\.8\.9$/m);
      expect(at('docs/clients/typescript.md')).toContain('npm install /path/to/nexus-broker-client-7.8.9.tgz');
      // Only the version moved.
      for (const file of PLACES) {
        expect(at(file).replaceAll('7.8.9', version)).toBe(read(file));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

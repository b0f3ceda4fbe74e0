import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProvidersFile } from '../../src/cli/providers-file.js';
import { ProviderCatalog } from '../../src/domain/catalog/provider-catalog.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/** `nexus providers apply`: what the file reader once read as "unset" is an error, with a suggestion, before any database is opened. */
describe('providers file: unknown keys and enum values', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nexus-bad-providers-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, body: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, `providers:\n${body}`);
    return p;
  };
  const read = (name: string, body: string) => () => readProvidersFile(file(name, body), ProviderCatalog.builtin(), {});
  const custom = '  - name: custom\n    auth_type: API_KEY\n';
  const apiKey = `${custom}    api_key: { name: X-Key }\n`;

  it.each([
    ['enabld: false (the provider stayed enabled and public)', `${apiKey}    enabld: false\n`, /providers\[0\]\.enabld: unknown key; did you mean "enabled"\?/],
    [
      'a misspelled nested key',
      `${custom}    api_key: { name: X-Key, locaton: query }\n`,
      /providers\[0\]\.api_key\.locaton: unknown key; did you mean "location"\?/,
    ],
    ['an oauth2 key in the wrong place', `  - catalog: github\n    client_id: abc\n`, /providers\[0\]\.client_id: unknown key/],
    [
      'a misspelled oauth2 key on a catalog entry',
      `  - catalog: github\n    oauth2: { client_id: a, client_secert: b }\n`,
      /oauth2\.client_secert: unknown key; did you mean "client_secret"\?/,
    ],
    ['an unknown auth type', `  - name: x\n    auth_type: OATH2\n`, /providers\[0\]\.auth_type: unknown value "OATH2"; did you mean "OAUTH2"\?/],
    [
      'an unknown api_key location',
      `${apiKey.replace('{ name: X-Key }', '{ name: X-Key, location: querry }')}`,
      /api_key\.location: unknown value "querry"; did you mean "query"\?/,
    ],
    [
      'an unknown client auth method',
      `  - catalog: github\n    oauth2: { client_id: a, client_auth_method: client_secret_jwt }\n`,
      /client_auth_method: unknown value "client_secret_jwt"/,
    ],
    ['enabled that is not a boolean', `${apiKey}    enabled: "no"\n`, /providers\[0\]\.enabled: must be true or false/],
  ])('refuses %s', (_what, body, message) => {
    expect(read(`f${Math.random()}.yaml`, body)).toThrow(message);
  });

  it('still reads a correct file, enum values in either case', () => {
    const [p] = readProvidersFile(
      file('ok.yaml', `${custom}    enabled: false\n    api_key: { name: X-Key, location: QUERY }\n`),
      ProviderCatalog.builtin(),
      {},
    );
    expect(p).toMatchObject({ name: 'custom', enabled: false, apiKey: { location: 'query' } });
  });

  it('`providers apply --dry-run` reports a bad file without opening the database', { timeout: 60_000 }, async () => {
    const bad = file('dry-run.yaml', `${apiKey}    enabld: false\n`);
    // A database that cannot be reached (or an embedded one locked by a running server) is never opened.
    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:1/none',
      NEXUS_ADMIN_API_KEY: 'nxs_unused_key_for_this_test_only',
    };
    const res = await run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'providers', 'apply', '-f', bad, '--dry-run'], { cwd: ROOT, env }).catch(
      (e: { stdout: string; stderr: string; code: number }) => e,
    );
    const out = res as { stdout: string; stderr: string; code?: number };
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('enabld: unknown key; did you mean "enabled"?');
    expect(out.stderr).not.toMatch(/ECONNREFUSED|database/i);
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing, open as openSealed } from '../../src/crypto/index.js';
import { clientSecretAad } from '../../src/domain/keys/sealed-secrets.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { ADMIN_KEY } from '../support/test-app.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

const FILE = (description: string, withCustom = true) => `
providers:
  - catalog: github
    oauth2:
      client_id: gh-client
      client_secret: \${GH_SECRET}
  - catalog: zendesk
    name: support
    oauth2:
      client_id: zd-client
      client_secret: \${ZD_SECRET}
      default_scopes: [read]
${
  withCustom
    ? `  - name: custom-key
    display_name: Custom
    description: ${description}
    categories: [testing]
    auth_type: API_KEY
    api_key: { location: header, name: X-Custom-Key }
`
    : ''
}`;

/** `nexus providers apply` as a real process: plan, apply, idempotence, updates, bad files, prune. */
describe('nexus providers apply', () => {
  let db: TestDatabase;
  let dir: string;
  const ring = KeyRing.generate('a1');
  const env: NodeJS.ProcessEnv = {};
  const secrets = { GH_SECRET: 'gh-secret-first-31337', ZD_SECRET: 'zd-secret-abc-999' };

  const apply = async (file: string, ...flags: string[]) => {
    const res = await run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'providers', 'apply', '-f', file, ...flags], { cwd: ROOT, env }).catch(
      (e: { stdout: string; stderr: string; code: number }) => e,
    );
    const out = res as { stdout: string; stderr: string; code?: number };
    // Secrets come from the environment and are never printed, whatever happens.
    for (const s of [secrets.GH_SECRET, secrets.ZD_SECRET, 'gh-secret-second-424242']) {
      expect(out.stdout + out.stderr).not.toContain(s);
    }
    return { stdout: out.stdout, stderr: out.stderr, code: out.code ?? 0 };
  };
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const rows = async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT id, name, description, catalog_name, client_secret_sealed FROM providers WHERE project_id = 'prj_default' ORDER BY name`,
      );
      return rows as { id: string; name: string; description: string; catalog_name: string | null; client_secret_sealed: string | null }[];
    } catch {
      return []; // not migrated yet
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(path.join(tmpdir(), 'nexus-apply-'));
    Object.assign(env, process.env, { DATABASE_URL: db.url, NEXUS_ENCRYPTION_KEYS: ring.toSpec(), NEXUS_ADMIN_API_KEY: ADMIN_KEY, ...secrets });
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  // Each CLI run is a fresh Node process loading TypeScript: seconds apiece on a busy machine.
  it('plans, applies, re-applies as a no-op, updates only what changed, and prunes on request', { timeout: 600_000 }, async () => {
    const file = write('providers.yaml', FILE('first description'));

    const dry = await apply(file, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('+ github (create OAUTH2)');
    expect(dry.stdout).toContain('+ support (create OAUTH2)');
    expect(dry.stdout).toContain('+ custom-key (create API_KEY)');
    expect(dry.stdout).toContain('Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged.');
    expect(dry.stdout).toContain('Dry run: nothing applied.');
    expect(await rows()).toEqual([]);

    const first = await apply(file);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Applied.');
    const stored = await rows();
    expect(stored.map((r) => [r.name, r.catalog_name])).toEqual([
      ['custom-key', null],
      ['github', 'github'],
      ['support', 'zendesk'],
    ]);
    const github = stored.find((r) => r.name === 'github')!;
    expect(github.client_secret_sealed).not.toContain(secrets.GH_SECRET);
    expect(openSealed(ring, github.client_secret_sealed!, clientSecretAad(github.id)).toString()).toBe(secrets.GH_SECRET);

    const again = await apply(file);
    expect(again.stdout).toContain('= github (unchanged)');
    expect(again.stdout).toContain('Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged.');
    expect(again.stdout).toContain('No changes.');
    expect((await rows()).find((r) => r.name === 'github')!.client_secret_sealed).toBe(github.client_secret_sealed);

    // A new description and a rotated secret: exactly those two changes, the secret by name only.
    env.GH_SECRET = 'gh-secret-second-424242';
    const changed = write('providers.yaml', FILE('second description'));
    const update = await apply(changed);
    expect(update.stdout).toContain('~ github (update: oauth2.client_secret)');
    expect(update.stdout).toContain('~ custom-key (update: description)');
    expect(update.stdout).toContain('= support (unchanged)');
    expect(update.stdout).toContain('Applied.');
    const after = await rows();
    expect(after.find((r) => r.name === 'custom-key')!.description).toBe('second description');
    const rotated = after.find((r) => r.name === 'github')!;
    expect(rotated.id).toBe(github.id);
    expect(openSealed(ring, rotated.client_secret_sealed!, clientSecretAad(rotated.id)).toString()).toBe('gh-secret-second-424242');
    expect((await apply(changed)).stdout).toContain('No changes.');

    // Dropped from the file: kept unless --prune.
    const without = write('providers.yaml', FILE('second description', false));
    const kept = await apply(without);
    expect(kept.stdout).toContain('? custom-key (not in the file; kept, --prune deletes it)');
    expect(kept.stdout).toContain('No changes.');
    const pruned = await apply(without, '--prune');
    expect(pruned.stdout).toContain('- custom-key (delete)');
    expect((await rows()).map((r) => r.name)).toEqual(['github', 'support']);
  });

  it('refuses a bad file with a clear message and applies nothing of it', { timeout: 400_000 }, async () => {
    const before = await rows();
    // A valid new provider first, then an invalid one: the valid one must not be created either.
    const bad = write(
      'bad.yaml',
      `providers:
  - name: would-be-created
    auth_type: BEARER
  - name: broken
    auth_type: OAUTH2
    oauth2: { client_id: x, authorization_url: https://example.com/authorize }
`,
    );
    const res = await apply(bad);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/provider "broken".*token_url/);
    expect(res.stderr).not.toContain('    at ');
    expect(await rows()).toEqual(before);

    const unknownEntry = await apply(write('unknown.yaml', 'providers:\n  - catalog: not-a-service\n'));
    expect(unknownEntry.code).toBe(1);
    expect(unknownEntry.stderr).toContain('no entry "not-a-service"');

    const missingEnv = await apply(write('env.yaml', 'providers:\n  - catalog: github\n    oauth2: { client_id: a, client_secret: "${NOT_SET_ANYWHERE}" }\n'));
    expect(missingEnv.code).toBe(1);
    expect(missingEnv.stderr).toContain('environment variable NOT_SET_ANYWHERE is not set');

    const notYaml = await apply(write('garbage.yaml', 'providers: [unclosed\n'));
    expect(notYaml.code).toBe(1);
    expect(notYaml.stderr).toContain('garbage.yaml');
    expect(await rows()).toEqual(before);
  });
});

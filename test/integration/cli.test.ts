import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { KeyRing, keyIdOf } from '../../src/crypto/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { ADMIN_KEY, clients, startTestApp } from '../support/test-app.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('nexus CLI', () => {
  let db: TestDatabase;
  const ring = KeyRing.generate('c1');
  let env: NodeJS.ProcessEnv;

  const nexus = (...args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), ...args], { cwd: ROOT, env });

  beforeAll(async () => {
    db = await createTestDatabase();
    env = {
      ...process.env,
      DATABASE_URL: db.url,
      NEXUS_ENCRYPTION_KEYS: ring.toSpec(),
      NEXUS_ADMIN_API_KEY: ADMIN_KEY,
      DEMO_CLIENT_SECRET: 'demo-secret-from-env',
    };
  });
  afterAll(async () => {
    await db?.drop();
  });

  // Each CLI run is a fresh Node process that loads TypeScript: seconds apiece on a busy machine.
  it('migrates, applies a providers file idempotently, creates keys and re-seals', { timeout: 420_000 }, async () => {
    expect((await nexus('migrate')).stdout).toContain('migrations are up to date');

    const first = await nexus('providers:apply', '-f', 'demo/providers.yaml');
    expect(first.stdout).toMatch(/\+ demo-oauth \(create OAUTH2\)/);
    expect(first.stdout).toMatch(/\+ demo-api-key \(create API_KEY\)/);
    expect(first.stdout).toMatch(/Applied\./);
    const second = await nexus('providers:apply', '-f', 'demo/providers.yaml');
    expect(second.stdout).toMatch(/= demo-oauth \(unchanged\)/);
    expect(second.stdout).toMatch(/No changes\./);

    const created = await nexus('api-keys:create', '--name', 'agent', '--scopes', 'tokens');
    const key = created.stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^nxs_/);

    const app = await startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing: ring });
    try {
      const admin = clients(app.baseUrl, ADMIN_KEY);
      const list = await admin.providers.listProviders({});
      expect(list.providers.map((p) => p.name).sort()).toEqual(expect.arrayContaining(['demo-api-key', 'demo-oauth']));
      const oauth = list.providers.find((p) => p.name === 'demo-oauth')!;
      expect(oauth.authType).toBe(AuthType.OAUTH2);
      expect(oauth.oauth2?.clientSecretSet).toBe(true);
      expect(app.app.providers.clientSecret((await app.app.store.providers.findByName('prj_default', 'demo-oauth'))!)).toBe('demo-secret-from-env');
      // The key printed by the CLI works, with exactly its scope.
      const agent = clients(app.baseUrl, key);
      await expect(agent.tokens.getToken({ connectionId: 'conn_missing' })).rejects.toThrow(/not found/);
      await expect(agent.connections.listConnections({})).rejects.toThrow(/connections/);
    } finally {
      await app.close();
    }

    // Rotation: a ring with a new primary, then keys:reseal moves every secret onto it.
    const next = ring.withNewPrimary('c2');
    env = { ...env, NEXUS_ENCRYPTION_KEYS: next.toSpec() };
    const resealed = await nexus('keys:reseal');
    expect(resealed.stdout).toMatch(/re-sealed 0 connection\(s\), 1 provider secret\(s\)/);
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query(`SELECT client_secret_sealed FROM providers WHERE client_secret_sealed IS NOT NULL`);
    await client.end();
    expect(rows.map((r: { client_secret_sealed: string }) => keyIdOf(r.client_secret_sealed))).toEqual(['c2']);
  });

  it("a one-shot command run with another NEXUS_ADMIN_API_KEY leaves the server's admin key alone", { timeout: 180_000 }, async () => {
    const other = await createTestDatabase();
    try {
      const withServerKey = { ...env, DATABASE_URL: other.url };
      const withOtherKey = { ...withServerKey, NEXUS_ADMIN_API_KEY: 'nxs_a_different_value_from_an_old_shell_0123456789' };
      await run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'migrate'], { cwd: ROOT, env: withServerKey });
      const app = await startTestApp({ backend: 'postgres', databaseUrl: other.url, keyRing: ring });
      try {
        // Only a server registers the bootstrap key; a command from a shell with another value
        // must not retire the server's key (before: it was revoked, and the next start refused).
        const listed = await run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'api-keys', 'list'], { cwd: ROOT, env: withOtherKey });
        expect(listed.stdout).toContain('NEXUS_ADMIN_API_KEY');
        expect(listed.stdout).not.toMatch(/revoked/i);
        const admin = clients(app.baseUrl, ADMIN_KEY);
        expect((await admin.providers.listProviders({})).providers).toBeDefined();
      } finally {
        await app.close();
      }
      const again = await startTestApp({ backend: 'postgres', databaseUrl: other.url, keyRing: ring });
      await again.close();
    } finally {
      await other.drop();
    }
  });

  it('explains a bad configuration without a stack trace', { timeout: 120_000 }, async () => {
    const err = await nexus('migrate').catch((e: { stderr: string; code: number }) => e);
    expect(err).not.toHaveProperty('code'); // the good config still works
    env = { ...env, NEXUS_PROVIDER_TIMEOUT_MS: 'soon' };
    const bad = (await nexus('migrate').catch((e) => e)) as { stderr: string; code: number };
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('NEXUS_PROVIDER_TIMEOUT_MS');
    expect(bad.stderr).not.toContain('    at ');
    env = { ...env, NEXUS_PROVIDER_TIMEOUT_MS: '5000', BASE_URL: '/' };
    const relative = (await nexus('migrate').catch((e) => e)) as { stderr: string; code: number };
    expect(relative.code).toBe(1);
    expect(relative.stderr).toContain('BASE_URL must be an absolute http(s) URL');
  });
});

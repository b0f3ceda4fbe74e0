// Attack: a leaked API key keeps working. Before, no command revoked a key,
// each replica cached a key for 10 s without hearing revocations, and a new
// NEXUS_ADMIN_API_KEY left the previous one working forever.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, listApiKeys, revokeApiKey } from '../../src/cli/api-keys.js';
import { KeyRing } from '../../src/crypto/index.js';
import { BootstrapKeyRevokedError } from '../../src/domain/access/api-keys.js';
import { ShorterKeyPrefixes1796083218145 } from '../../src/storage/migrations/1796083218145-shorter-key-prefixes.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, clients, startTestApp, type TestApp } from '../support/test-app.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const PROJECT = 'prj_default';

const call = (app: TestApp, key: string) => clients(app.baseUrl, key).connections.listConnections({});

/** Polls until `key` is refused by `app`; returns how long that took. Fails after `limitMs`. */
async function refusedWithin(app: TestApp, key: string, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await call(app, key);
    } catch {
      await expectConnectError(call(app, key), Code.Unauthenticated, 'UNAUTHENTICATED');
      return Date.now() - started;
    }
    if (Date.now() - started > limitMs) throw new Error(`the key still works on ${app.baseUrl} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const keyOf = (created: string) => created.trim().split('\n').at(-1)!;

describe('API key revocation across two replicas (postgres)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const keyRing = KeyRing.generate('v1');

  beforeAll(async () => {
    db = await createTestDatabase();
    [a, b] = await Promise.all([
      startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing }),
      startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing }),
    ]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('a key revoked through one replica is refused by the other within 1 s, though the other had it cached', async () => {
    const key = keyOf(await createApiKey(a.app, PROJECT, 'leaked', ['connections']));
    const id = (await a.app.apiKeys.list(PROJECT)).find((k) => k.name === 'leaked')!.id;
    // Both replicas cache it (the cache lives 10 s).
    await call(a, key);
    await call(b, key);
    expect(await revokeApiKey(a.app, PROJECT, id)).toBe(`revoked ${id}`);
    await expectConnectError(call(a, key), Code.Unauthenticated, 'UNAUTHENTICATED');
    expect(await refusedWithin(b, key, 1_000)).toBeLessThan(1_000);
    expect(await revokeApiKey(b.app, PROJECT, id)).toBe(`${id} was already revoked`);
    await expect(revokeApiKey(b.app, PROJECT, 'key_nosuchkey')).rejects.toThrow(/has no API key key_nosuchkey/);
  });

  it('lists keys by id, name, a short prefix and status, never the key or its hash', async () => {
    const key = keyOf(await createApiKey(a.app, PROJECT, 'listed', ['tokens']));
    const listing = await listApiKeys(b.app, PROJECT);
    expect(listing).toMatch(/^ID\s+NAME\s+KEY\s+SCOPES\s+CREATED\s+STATUS/);
    expect(listing).toMatch(/key_\w+\s+listed\s+nxs_\S+…\s+tokens\s+\S+\s+active/);
    expect(listing).toMatch(/leaked .* revoked \d{4}-/);
    expect(listing).not.toContain(key);
    expect(listing).not.toContain(key.slice(0, 12));
    for (const row of await a.app.store.apiKeys.listByProject(PROJECT)) expect(listing).not.toContain(row.keyHash);
    await expect(listApiKeys(a.app, 'prj_nosuchproject')).rejects.toThrow(/does not exist/);
  });

  it('the nexus CLI revokes a key while replicas run: both refuse it within 1 s', { timeout: 120_000 }, async () => {
    const key = keyOf(await createApiKey(a.app, PROJECT, 'cli-revoked', ['connections']));
    const id = (await a.app.apiKeys.list(PROJECT)).find((k) => k.name === 'cli-revoked')!.id;
    await call(a, key);
    await call(b, key);
    const env = { ...process.env, DATABASE_URL: db.url, NEXUS_ENCRYPTION_KEYS: keyRing.toSpec(), NEXUS_ADMIN_API_KEY: ADMIN_KEY };
    const nexus = (...args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), ...args], { cwd: ROOT, env });
    const listed = await nexus('api-keys', 'list');
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(key);
    const revoked = await nexus('api-keys', 'revoke', id);
    expect(revoked.stdout.trim()).toBe(`revoked ${id}`);
    // The CLI process is gone; its NOTIFY reached both servers at commit.
    expect(await refusedWithin(a, key, 1_000)).toBeLessThan(1_000);
    expect(await refusedWithin(b, key, 1_000)).toBeLessThan(1_000);
    await expect(nexus('api-keys', 'revoke', 'key_nosuchkey')).rejects.toMatchObject({ stderr: expect.stringMatching(/has no API key key_nosuchkey/) });
  });

  it('a changed NEXUS_ADMIN_API_KEY retires the previous key on every replica; the retired key cannot come back', async () => {
    const next = 'nxs_the_next_admin_key_for_this_deployment';
    await call(a, ADMIN_KEY);
    await call(b, ADMIN_KEY);
    // A third replica starts with the new key (a rolling restart).
    const c = await startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing, config: { adminApiKey: next } });
    try {
      await call(c, next);
      await call(a, next);
      expect(await refusedWithin(a, ADMIN_KEY, 1_000)).toBeLessThan(1_000);
      expect(await refusedWithin(b, ADMIN_KEY, 1_000)).toBeLessThan(1_000);
      await expectConnectError(call(c, ADMIN_KEY), Code.Unauthenticated, 'UNAUTHENTICATED');
      expect(c.logs.join('')).toContain('NEXUS_ADMIN_API_KEY changed: the previous key is revoked');
      // Restarting with the old key would resurrect it: refused with a clear message.
      await expect(startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing })).rejects.toThrow(BootstrapKeyRevokedError);
      // Restarting with the current key is a no-op.
      const d = await startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing, config: { adminApiKey: next } });
      await call(d, next);
      await d.close();
      const active = (await a.app.apiKeys.list(PROJECT)).filter((k) => k.name === 'NEXUS_ADMIN_API_KEY' && !k.revokedAt);
      expect(active).toHaveLength(1);
    } finally {
      await c.close();
    }
  });
});

describe('API key revocation (embedded)', () => {
  let nexus: TestApp;

  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'embedded' });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('a cached key is refused at once after revocation', async () => {
    const key = keyOf(await createApiKey(nexus.app, PROJECT, 'agent', ['connections']));
    const id = (await nexus.app.apiKeys.list(PROJECT)).find((k) => k.name === 'agent')!.id;
    await call(nexus, key);
    expect(await revokeApiKey(nexus.app, PROJECT, id)).toBe(`revoked ${id}`);
    await expectConnectError(call(nexus, key), Code.Unauthenticated, 'UNAUTHENTICATED');
    expect(await listApiKeys(nexus.app, PROJECT)).toMatch(new RegExp(`${id}\\s+agent\\s+.*revoked`));
  });

  it('stores 4 characters of a generated key and none of an operator key; the migration shortens older rows', async () => {
    const key = keyOf(await createApiKey(nexus.app, PROJECT, 'short-prefix', ['tokens']));
    const rows = await nexus.app.store.apiKeys.listByProject(PROJECT);
    expect(rows.find((k) => k.name === 'short-prefix')!.displayPrefix).toBe(key.slice(0, 8));
    expect(rows.find((k) => k.name === 'NEXUS_ADMIN_API_KEY')!.displayPrefix).toBe('');
    // Rows written before: 8 characters after nxs_ for generated keys, the first 8 of an operator's key.
    const ds = nexus.app.database.dataSource;
    await ds.query(
      `INSERT INTO api_keys (id, project_id, name, display_prefix, key_hash, scopes) VALUES
      ('key_old_generated', $1, 'old', 'nxs_abcdefgh', 'h1', '{tokens}'),
      ('key_old_operator', $1, 'NEXUS_ADMIN_API_KEY', 'operator', 'h2', '{admin}')`,
      [PROJECT],
    );
    const runner = ds.createQueryRunner();
    try {
      await new ShorterKeyPrefixes1796083218145().up(runner);
    } finally {
      await runner.release();
    }
    const after = new Map((await nexus.app.store.apiKeys.listByProject(PROJECT)).map((k) => [k.id, k.displayPrefix]));
    expect(after.get('key_old_generated')).toBe('nxs_abcd');
    expect(after.get('key_old_operator')).toBe('');
    await ds.query(`DELETE FROM api_keys WHERE id LIKE 'key_old_%'`);
  });

  it('revoking the last admin key says how to get one back', async () => {
    const admin = (await nexus.app.apiKeys.list(PROJECT)).find((k) => k.name === 'NEXUS_ADMIN_API_KEY')!;
    expect(await revokeApiKey(nexus.app, PROJECT, admin.id)).toMatch(/no active admin key left: create one with "nexus api-keys create --scopes admin"/);
    await expectConnectError(call(nexus, ADMIN_KEY), Code.Unauthenticated, 'UNAUTHENTICATED');
  });
});

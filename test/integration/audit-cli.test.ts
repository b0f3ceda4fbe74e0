import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/crypto/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { ADMIN_KEY, startTestApp } from '../support/test-app.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('nexus audit verify / export (a one-shot process, no server)', () => {
  let db: TestDatabase;
  const ring = KeyRing.generate('a1');
  let env: NodeJS.ProcessEnv;
  const nexus = (...args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), ...args], { cwd: ROOT, env });

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { ...process.env, DATABASE_URL: db.url, NEXUS_ENCRYPTION_KEYS: ring.toSpec(), NEXUS_ADMIN_API_KEY: ADMIN_KEY };
    const app = await startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing: ring });
    for (let i = 1; i <= 5; i++) {
      app.app.audit.record({
        projectId: 'prj_default',
        actor: { kind: 'api_key', keyId: 'key_cli' },
        action: 'token.read',
        target: { type: 'connection', id: `conn_${i}` },
        outcome: 'success',
        clientIp: '10.1.1.1',
      });
    }
    await app.close();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('prints OK with the count, exports JSON lines from a cursor, and exits 1 naming the first bad seq', { timeout: 300_000 }, async () => {
    expect((await nexus('audit', 'verify')).stdout.trim()).toBe('OK prj_default: 5 event(s) verified (seq 1 to 5)');

    const exported = (await nexus('audit', 'export', '--cursor', '3')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; target: { id: string } });
    expect(exported.map((e) => [e.seq, e.target.id])).toEqual([
      [4, 'conn_4'],
      [5, 'conn_5'],
    ]);

    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
      await c.query(`UPDATE audit_events SET client_ip = '192.0.2.1' WHERE seq = 2`);
      await c.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
    const failed = await nexus('audit', 'verify', '--project', 'prj_default').then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('BROKEN prj_default: first bad event at seq 2: event 2 does not match its hash: edited');

    await expect(nexus('audit', 'export', '--since', 'yesterday')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--since "yesterday"') });
  });
});

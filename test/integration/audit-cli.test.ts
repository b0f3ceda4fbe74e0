import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
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

describe('nexus audit verify on the embedded database (a one-shot process on the data directory; edits and forgeries: test/security/audit.test.ts, both databases)', () => {
  const ring = KeyRing.generate('a2');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nexus-audit-cli-'));
  const env = () => {
    const { DATABASE_URL: _url, ...rest } = process.env;
    return { ...rest, NEXUS_DATA_DIR: dataDir, NEXUS_ENCRYPTION_KEYS: ring.toSpec(), NEXUS_ADMIN_API_KEY: ADMIN_KEY };
  };
  const nexus = (...args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), ...args], { cwd: ROOT, env: env() });
  const verifyFails = () =>
    nexus('audit', 'verify').then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints OK, then exits 1 for a truncated chain, naming the first missing seq', { timeout: 300_000 }, async () => {
    const write = async (tamper?: string) => {
      const app = await startTestApp({ backend: 'embedded', keyRing: ring, config: { dataDir } });
      try {
        for (let i = 1; i <= 4; i++) {
          app.app.audit.record({
            projectId: 'prj_embedded',
            actor: { kind: 'system' },
            action: 'token.read',
            target: { type: 'connection', id: `conn_${i}` },
            outcome: 'success',
          });
        }
        await app.app.audit.flush();
        if (tamper) {
          await app.app.database.dataSource.transaction(async (tx) => {
            await tx.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
            await tx.query(tamper);
            await tx.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
          });
        }
      } finally {
        await app.close();
      }
    };
    await write();
    expect((await nexus('audit', 'verify', '--project', 'prj_embedded')).stdout.trim()).toBe('OK prj_embedded: 4 event(s) verified (seq 1 to 4)');

    // Truncated: the newest events deleted (the chain head still records seq 8).
    await write(`DELETE FROM audit_events WHERE project_id = 'prj_embedded' AND seq >= 7`);
    const truncated = await verifyFails();
    expect(truncated?.code).toBe(1);
    expect(truncated?.stderr).toContain(
      'BROKEN prj_embedded: first bad event at seq 7: events 7 to 8 are missing (the chain head is at 8): deleted or truncated',
    );
  });
});

import { randomBytes } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { RetryInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { expectConnectError } from '../support/errors.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportAudit, verifyAudit } from '../../src/cli/audit.js';
import { AuditRecorder } from '../../src/domain/audit/audit-recorder.js';
import { chain, hashOf } from '../../src/domain/audit/chain.js';
import { AuditReader } from '../../src/domain/audit/audit-reader.js';
import { AuditRetention } from '../../src/domain/audit/audit-retention.js';
import type { AuditEventInput } from '../../src/domain/audit/types.js';
import { AuditRepository } from '../../src/storage/repositories/audit-repository.js';
import { openDatabase } from '../../src/storage/data-source.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type TestApp } from '../support/test-app.js';

const event = (projectId: string, i: number, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
  projectId,
  actor: { kind: 'api_key', keyId: `key_${i % 3}` },
  action: i % 2 ? 'token.read' : 'connection.delete',
  target: { type: 'connection', id: `conn_${i}` },
  outcome: 'success',
  clientIp: '10.0.0.1',
  requestId: `req-${i}`,
  detail: { n: i },
  ...extra,
});

describe.each(BACKENDS)('audit chain tampering and secrets (%s)', (backend) => {
  let nexus: TestApp;
  const secrets: string[] = [];
  const secret = (prefix: string) => {
    const value = `${prefix}${randomBytes(12).toString('hex')}`;
    secrets.push(value);
    return value;
  };

  /** Runs SQL the application cannot (its trigger refuses UPDATE and DELETE): what an attacker with database access does. */
  const tamper = (sql: string, params: unknown[]) =>
    nexus.app.database.dataSource.transaction(async (tx) => {
      await tx.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
      await tx.query(sql, params);
      await tx.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
    });

  /** Inserts a forged event linked to `prevHash`. */
  const forge = (projectId: string, seq: number, prevHash: string) =>
    tamper(
      `INSERT INTO audit_events (project_id, seq, time, actor_kind, actor_id, action, outcome, prev_hash, hash)
       VALUES ($1, $2, now(), 'system', '', 'token.read', 'success', $3, $4)`,
      [projectId, seq, prevHash, 'f'.repeat(64)],
    );

  async function chainOf(projectId: string, n: number): Promise<void> {
    for (let i = 1; i <= n; i++) nexus.app.audit.record(event(projectId, i));
    await nexus.app.audit.flush();
    expect(await verifyAudit(nexus.app, projectId)).toBe(`OK ${projectId}: ${n} event(s) verified (seq 1 to ${n})`);
  }

  const broken = async (projectId: string) => {
    const err = await verifyAudit(nexus.app, projectId).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err, 'verify must fail').toBeInstanceOf(Error);
    return err!.message;
  };

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('the table refuses UPDATE and DELETE from the application', async () => {
    await chainOf('prj_trigger', 2);
    await expect(nexus.app.database.dataSource.query(`UPDATE audit_events SET outcome = 'denied' WHERE project_id = 'prj_trigger'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(nexus.app.database.dataSource.query(`DELETE FROM audit_events WHERE project_id = 'prj_trigger'`)).rejects.toThrow(/append-only/);
  });

  it('detects an edited event and names its seq', async () => {
    await chainOf('prj_edit', 5);
    await tamper(`UPDATE audit_events SET actor_id = 'key_innocent' WHERE project_id = 'prj_edit' AND seq = 3`, []);
    expect(await broken('prj_edit')).toContain('BROKEN prj_edit: first bad event at seq 3: event 3 does not match its hash: edited');
  });

  it('detects an edited event whose hash was recomputed (the next link breaks)', async () => {
    await chainOf('prj_rehash', 4);
    const [row] = await nexus.app.auditReader.query({ projectId: 'prj_rehash', afterSeq: 1, limit: 1 });
    const forged = { ...row!, actorId: 'key_innocent' };
    await tamper(`UPDATE audit_events SET actor_id = $1, hash = $2 WHERE project_id = 'prj_rehash' AND seq = 2`, ['key_innocent', hashOf(forged)]);
    expect(await broken('prj_rehash')).toContain('first bad event at seq 3: event 3 does not link to event 2');
  });

  it('detects a deleted event', async () => {
    await chainOf('prj_delete', 5);
    await tamper(`DELETE FROM audit_events WHERE project_id = 'prj_delete' AND seq = 2`, []);
    expect(await broken('prj_delete')).toContain('first bad event at seq 2: event 2 is missing: deleted');
  });

  it('detects an inserted event, in the middle (renumbered) and at the end', async () => {
    await chainOf('prj_insert', 4);
    // Past the head: the head row still says 4.
    const [last] = await nexus.app.auditReader.query({ projectId: 'prj_insert', afterSeq: 3, limit: 1 });
    await forge('prj_insert', 5, last!.hash);
    expect(await broken('prj_insert')).toContain('first bad event at seq 5: event 5 is past the chain head (4): inserted');

    await chainOf('prj_insert_mid', 4);
    // Renumber 3..4 to 4..5 and slip a forged event in at 3.
    await tamper(`UPDATE audit_events SET seq = seq + 10 WHERE project_id = 'prj_insert_mid' AND seq >= 3`, []);
    await tamper(`UPDATE audit_events SET seq = seq - 9 WHERE project_id = 'prj_insert_mid' AND seq >= 13`, []);
    const [second] = await nexus.app.auditReader.query({ projectId: 'prj_insert_mid', afterSeq: 1, limit: 1 });
    await forge('prj_insert_mid', 3, second!.hash);
    expect(await broken('prj_insert_mid')).toContain('first bad event at seq 3: event 3 does not match its hash: edited');
  });

  it('detects a truncated tail (the chain head records the last seq and hash)', async () => {
    await chainOf('prj_tail', 6);
    await tamper(`DELETE FROM audit_events WHERE project_id = 'prj_tail' AND seq >= 5`, []);
    expect(await broken('prj_tail')).toContain('first bad event at seq 5: events 5 to 6 are missing (the chain head is at 6): deleted or truncated');
  });

  it('pruning deletes the oldest events, leaves an anchor, and the rest still verifies', async () => {
    await chainOf('prj_prune', 6);
    const old = new Date(Date.now() - 400 * 86_400_000);
    // Rewrite the first four events at an old time, re-chained, as if they had been written then.
    const rows = await nexus.app.auditReader.query({ projectId: 'prj_prune', afterSeq: 0, limit: 10 });
    const rechained = chain(
      { seq: 0, hash: '' },
      rows.map((r, i) => ({ ...r, time: i < 4 ? old : r.time })),
    );
    for (const r of rechained)
      await tamper(`UPDATE audit_events SET time = $3, prev_hash = $4, hash = $5 WHERE project_id = $1 AND seq = $2`, [
        r.projectId,
        r.seq,
        r.time,
        r.prevHash,
        r.hash,
      ]);
    await tamper(`UPDATE audit_chain_heads SET hash = $2 WHERE project_id = $1`, ['prj_prune', rechained[5]!.hash]);
    expect(await verifyAudit(nexus.app, 'prj_prune')).toContain('6 event(s)');

    const pruned = await new AuditRetention(nexus.app.store.audit, 365 * 86_400_000).prune();
    expect(pruned).toBe(4);
    expect(await verifyAudit(nexus.app, 'prj_prune')).toBe('OK prj_prune: 2 event(s) verified (seq 5 to 6), anchored after pruning at seq 4');
    // Deleting the first survivor now is still detected.
    await tamper(`DELETE FROM audit_events WHERE project_id = 'prj_prune' AND seq = 5`, []);
    expect(await broken('prj_prune')).toContain('first bad event at seq 5: event 5 is missing: deleted');
  });

  it('exports JSON lines from a cursor', async () => {
    await chainOf('prj_export', 5);
    const out: string[] = [];
    expect(await exportAudit(nexus.app, { projectId: 'prj_export', cursor: 2 }, (l) => out.push(l))).toBe(3);
    const lines = out
      .join('\n')
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; action: string; client_ip: string });
    expect(lines.map((l) => l.seq)).toEqual([3, 4, 5]);
    expect(lines[0]).toMatchObject({ action: 'token.read', client_ip: '10.0.0.1' });
  });

  it('never stores a secret: detail keys that name one are redacted, and a real flow leaves none', async () => {
    const password = secret('pw_');
    nexus.app.audit.record(event('prj_secret', 1, { detail: { client_secret: password, refresh_token: password, password, apiKey: password, note: 'fine' } }));
    const admin = clients(nexus.baseUrl, ADMIN_KEY);
    const anon = clients(nexus.baseUrl);
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'secret-api' }) });
    const created = await admin.connections.createConnection({
      workspaceId: 'ws-secret',
      provider: { case: 'providerName', value: 'secret-api' },
      returnUrl: RETURN_URL,
    });
    secrets.push(created.state);
    await anon.connections.submitCredentials({ state: created.state, credentials: { api_key: secret('ak_') } });
    await admin.tokens.getToken({ connectionId: created.connection!.id });
    await nexus.app.audit.flush();
    const all = JSON.stringify(await nexus.app.database.dataSource.query('SELECT * FROM audit_events'));
    expect(all).toContain('token.read');
    for (const s of [...secrets, ADMIN_KEY]) expect(all).not.toContain(s);
    expect(all).toContain('[redacted]');
  });
});

describe('two replicas writing one project keep one valid chain (postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('interleaves batches from two writers without a fork or a gap', async () => {
    const a = await openDatabase({ url: db.url, poolSize: 4 });
    const b = await openDatabase({ url: db.url, poolSize: 4 });
    try {
      const writers = [a, b].map((d) => new AuditRecorder(new AuditRepository(d.dataSource), { flushMs: 5, maxBuffered: 100_000, batchSize: 7 }));
      const rounds = 20;
      await Promise.all(
        writers.map(async (w, k) => {
          for (let r = 0; r < rounds; r++) {
            for (let i = 0; i < 10; i++) w.record(event('prj_race', r * 100 + i * 2 + k));
            await w.flush();
          }
        }),
      );
      await Promise.all(writers.map((w) => w.close()));
      const results = await new AuditReader(new AuditRepository(a.dataSource)).verify('prj_race');
      expect(results).toEqual([{ ok: true, projectId: 'prj_race', count: 400, firstSeq: 1, lastSeq: 400 }]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('a full audit buffer refuses calls rather than running them unrecorded (embedded)', () => {
  let nexus: TestApp;
  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'embedded', config: { audit: { retentionMs: 365 * 86_400_000, flushMs: 5_000, maxBuffered: 100 } } });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('answers UNAVAILABLE / AUDIT_BACKLOG_FULL with a RetryInfo, then serves again once written', async () => {
    const admin = clients(nexus.baseUrl, ADMIN_KEY);
    await nexus.app.audit.flush();
    for (let i = 0; i < 100; i++) nexus.app.audit.record(event('prj_default', i));
    const err = await expectConnectError(admin.tokens.getToken({ connectionId: 'conn_any' }), Code.Unavailable, 'AUDIT_BACKLOG_FULL');
    expect(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds).toBe(5n);
    expect(await (await fetch(`${nexus.baseUrl}/metrics`)).text()).toMatch(/^nexus_audit_buffered_events 100$/m);
    await nexus.app.audit.flush();
    await expectConnectError(admin.tokens.getToken({ connectionId: 'conn_any' }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    // Nothing was dropped: the 100 events, and the call served after the flush (the refused one never ran).
    expect(await verifyAudit(nexus.app, 'prj_default')).toMatch(/^OK prj_default: 10\d event\(s\)/);
  });
});

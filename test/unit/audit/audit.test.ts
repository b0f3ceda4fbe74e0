import { describe, expect, it } from 'vitest';
import { auditRefreshFailures } from '../../../src/domain/tokens/refresh-audit.js';
import { AuditRecorder } from '../../../src/domain/audit/audit-recorder.js';
import type { AuditEventRow } from '../../../src/domain/model/audit-event.js';
import type { AuditEventsPort } from '../../../src/domain/ports/persistence.js';
import { AuditBacklogFullError } from '../../../src/domain/shared/errors.js';
import { ChainVerifier, chain, hashOf, REDACTED, toUnchained } from '../../../src/domain/audit/chain.js';
import type { AuditEventInput } from '../../../src/domain/audit/types.js';
import { actionOf } from '../../../src/transport/audit-interceptor.js';

const input = (i: number): AuditEventInput => ({
  projectId: 'p',
  actor: { kind: 'api_key', keyId: `k${i}` },
  action: 'token.read',
  outcome: 'success',
  detail: { i },
});

describe('audit actions', () => {
  it('derives the action from the method', () => {
    expect(actionOf('nexus.v1.TokenService', 'GetToken')).toBe('token.read');
    expect(actionOf('nexus.v1.TokenService', 'RefreshToken')).toBe('token.refresh');
    expect(actionOf('nexus.v1.ConnectionService', 'WatchConnections')).toBe('connection.watch');
    expect(actionOf('nexus.v1.ConnectionService', 'GetPendingFields')).toBe('connection.read_pending_fields');
    expect(actionOf('nexus.v1.ProviderService', 'EnableCatalogProvider')).toBe('provider.enable_catalog');
    expect(actionOf('nexus.v1.ClientService', 'DeleteClient')).toBe('client.delete');
    expect(actionOf('nexus.v1.ApiKeyService', 'RotateApiKey')).toBe('api_key.rotate');
    expect(actionOf('nexus.v1.ApiKeyService', 'ListApiKeys')).toBe('api_key.list');
    expect(actionOf('nexus.v1.ProjectService', 'CreateProject')).toBe('project.create');
    expect(actionOf('nexus.v1.AuditService', 'ListAuditEvents')).toBe('audit.list_events');
  });
});

describe('audit chain', () => {
  const rows = chain(
    { seq: 0, hash: '' },
    [1, 2, 3].map((i) => toUnchained(input(i), new Date(1_700_000_000_000 + i))),
  );
  const head = { projectId: 'p', seq: 3, hash: rows[2]!.hash, anchorSeq: 0, anchorHash: '' };
  const verify = (r: typeof rows) => {
    const v = new ChainVerifier(head);
    v.feed(r);
    return v.finish();
  };

  it('links each event to the previous one', () => {
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows[1]!.prevHash).toBe(rows[0]!.hash);
    expect(hashOf(rows[1]!)).toBe(rows[1]!.hash);
    expect(verify(rows)).toEqual({ ok: true, projectId: 'p', count: 3, firstSeq: 1, lastSeq: 3 });
  });

  it('covers every field: any change breaks the hash', () => {
    for (const change of [
      { actorId: 'x' },
      { action: 'token.refresh' },
      { outcome: 'denied' },
      { clientIp: '1.1.1.1' },
      { time: new Date(0) },
      { detail: { i: 9 } },
    ]) {
      const edited = rows.map((r, i) => (i === 1 ? { ...r, ...change } : r));
      expect(verify(edited)).toMatchObject({ ok: false, seq: 2 });
    }
  });

  it('detects a gap, a truncated tail and a reordering', () => {
    expect(verify([rows[0]!, rows[2]!])).toMatchObject({ ok: false, seq: 2, problem: expect.stringContaining('deleted') });
    expect(verify(rows.slice(0, 2))).toMatchObject({ ok: false, seq: 3, problem: expect.stringContaining('truncated') });
    expect(verify([rows[0]!, rows[0]!])).toMatchObject({ ok: false, seq: 1 });
  });

  it('redacts detail keys that name a secret and bounds values', () => {
    const e = toUnchained({ ...input(1), detail: { client_secret: 's', refreshToken: 's', password: 's', note: 'x'.repeat(1000), ok: true } }, new Date());
    expect(e.detail).toMatchObject({ client_secret: REDACTED, refreshToken: REDACTED, password: REDACTED, ok: true });
    expect((e.detail.note as string).length).toBe(256);
  });

  it('stores what a refused request carried without a NUL or a lone surrogate (PostgreSQL refuses the one, alters the other)', () => {
    const e = toUnchained({ ...input(1), target: { type: 'connection', id: 'conn_\u0000x' }, detail: { note: 'a\uD800b', pair: '\uD83D\uDE00' } }, new Date());
    expect(e.targetId).toBe('conn_\uFFFDx');
    expect(e.detail).toMatchObject({ note: 'a\uFFFDb', pair: '\uD83D\uDE00' });
    // A cut that splits a surrogate pair leaves no lone half either.
    const cut = toUnchained({ ...input(1), target: { type: 'connection', id: `${'x'.repeat(255)}\uD83D\uDE00` } }, new Date());
    expect(cut.targetId).toBe(`${'x'.repeat(255)}\uFFFD`);
  });

  it('records refresh failures, not successes', () => {
    const seen: AuditEventInput[] = [];
    const observer = auditRefreshFailures({ record: (e) => seen.push(e) });
    observer.refreshed('success', 'worker', 0.1, { projectId: 'p', id: 'c1' });
    observer.refreshed('rejected', 'worker', 0.1, { projectId: 'p', id: 'c2' });
    observer.refreshed('transient_failure', 'on_demand', 0.1, { projectId: 'p', id: 'c3' });
    expect(seen.map((e) => [e.target?.id, e.outcome, e.reason])).toEqual([
      ['c2', 'failed', 'ATTENTION_REQUIRED'],
      ['c3', 'failed', 'PROVIDER_UNAVAILABLE'],
    ]);
  });
});

describe('the audit buffer', () => {
  /** A store that fails while `down`, and keeps what it wrote. */
  function flakyStore() {
    const written: AuditEventRow[] = [];
    const state = { down: true, head: { seq: 0, hash: '' } };
    const store = {
      appendChain: async (_projectId: string, build: (head: { seq: number; hash: string }) => AuditEventRow[]) => {
        if (state.down) throw new Error('database unavailable');
        const rows = build(state.head);
        written.push(...rows);
        if (rows.length) state.head = { seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash };
        return rows;
      },
    } as unknown as AuditEventsPort;
    return { store, written, state };
  }

  it('refuses new calls while full, drops nothing, and writes everything in order once the database is back', async () => {
    const { store, written, state } = flakyStore();
    const recorder = new AuditRecorder(store, { flushMs: 10_000, maxBuffered: 5 });
    for (let i = 1; i <= 5; i++) recorder.record(input(i));
    await recorder.flush();
    expect(recorder.buffered).toBe(5);
    expect(() => recorder.admit()).toThrow(AuditBacklogFullError);
    try {
      recorder.admit();
    } catch (err) {
      expect(err).toMatchObject({ kind: 'unavailable', reason: 'AUDIT_BACKLOG_FULL', retryDelayMs: 10_000 });
    }
    // Events of calls already admitted are still taken.
    recorder.record(input(6));
    state.down = false;
    await recorder.flush();
    expect(recorder.buffered).toBe(0);
    expect(() => recorder.admit()).not.toThrow();
    expect(written.map((r) => r.actorId)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    expect(written.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    await recorder.close();
  });

  it('write() resolves only once the event is stored; close() flushes what is left', async () => {
    const { store, written, state } = flakyStore();
    state.down = false;
    const recorder = new AuditRecorder(store, { flushMs: 10_000, maxBuffered: 100 });
    await recorder.write(input(1));
    expect(written).toHaveLength(1);
    recorder.record(input(2));
    expect(written).toHaveLength(1);
    await recorder.close();
    expect(written.map((r) => r.seq)).toEqual([1, 2]);
  });
});

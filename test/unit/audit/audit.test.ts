import { describe, expect, it } from 'vitest';
import { auditRefreshFailures } from '../../../src/domain/tokens/refresh-audit.js';
import { ChainVerifier, chain, hashOf, REDACTED, toUnchained } from '../../../src/domain/audit/chain.js';
import type { AuditEventInput } from '../../../src/domain/audit/types.js';
import { actionOf } from '../../../src/transport/audit-interceptor.js';

const input = (i: number): AuditEventInput => ({ projectId: 'p', actor: { kind: 'api_key', keyId: `k${i}` }, action: 'token.read', outcome: 'success', detail: { i } });

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
  const rows = chain({ seq: 0, hash: '' }, [1, 2, 3].map((i) => toUnchained(input(i), new Date(1_700_000_000_000 + i))));
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
    for (const change of [{ actorId: 'x' }, { action: 'token.refresh' }, { outcome: 'denied' }, { clientIp: '1.1.1.1' }, { time: new Date(0) }, { detail: { i: 9 } }]) {
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

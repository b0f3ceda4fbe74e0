// Refusals of callers that prove nothing are audited, but an attacker spraying
// guessed API keys cannot flood the audit log: a per-IP budget per minute, the
// rest counted in one summary event. On both databases, over real HTTP.
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/cli/audit.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { clients, startTestApp, type TestApp } from '../support/test-app.js';

const PER_IP = 5;
const SPRAY = 40;

describe.each(BACKENDS)('spraying guessed API keys (%s)', (backend) => {
  let nexus: TestApp;
  let now = Date.parse('2026-12-01T09:00:00Z');

  beforeAll(async () => {
    nexus = await startTestApp({
      backend,
      clock: () => now,
      config: { audit: { retentionMs: 365 * 86_400_000, flushMs: 200, maxBuffered: 20_000, refusalsPerIpPerMinute: PER_IP } },
    });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it(`records ${PER_IP} refusals per address a minute, then one summary with the count; never a key`, async () => {
    const guesses = Array.from({ length: SPRAY }, (_, i) => `nxs_${String(i).padStart(4, '0')}${'k'.repeat(39)}`);
    for (const guess of guesses) {
      await expectConnectError(clients(nexus.baseUrl, guess).tokens.getToken({ connectionId: 'conn_spray' }), Code.Unauthenticated, 'UNAUTHENTICATED');
    }
    await nexus.app.audit.flush();
    const q = (sql: string) => nexus.app.database.dataSource.query(sql) as Promise<Record<string, unknown>[]>;
    const refusals = await q(`SELECT actor_kind, actor_id, client_ip FROM audit_events WHERE target_id = 'conn_spray' ORDER BY seq`);
    expect(refusals).toHaveLength(PER_IP);
    expect(refusals.map((r) => r.actor_id)).toEqual(guesses.slice(0, PER_IP).map((g) => g.slice(0, 8)));
    expect(refusals.every((r) => r.actor_kind === 'anonymous' && r.client_ip === '127.0.0.1')).toBe(true);

    // The minute ends: the next refusal is recorded after the summary of what was suppressed.
    now += 61_000;
    await expectConnectError(clients(nexus.baseUrl, guesses[0]).tokens.getToken({ connectionId: 'conn_spray' }), Code.Unauthenticated, 'UNAUTHENTICATED');
    await nexus.app.audit.flush();
    const summary = await q(`SELECT actor_kind, client_ip, detail FROM audit_events WHERE project_id = 'prj_default' AND action = 'audit.refusals_suppressed'`);
    expect(summary).toEqual([{ actor_kind: 'system', client_ip: '127.0.0.1', detail: { suppressed: SPRAY - PER_IP, recorded: PER_IP, window_seconds: 60 } }]);
    expect((await q(`SELECT 1 FROM audit_events WHERE target_id = 'conn_spray'`)).length).toBe(PER_IP + 1);

    const text = JSON.stringify(await q('SELECT * FROM audit_events'));
    for (const guess of guesses) expect(text).not.toContain(guess.slice(0, 12));
    expect(await verifyAudit(nexus.app, 'prj_default')).toMatch(/^OK prj_default/);
  });
});

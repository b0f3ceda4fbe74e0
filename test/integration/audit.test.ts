import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

interface Row {
  project_id: string;
  seq: string;
  actor_kind: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  outcome: string;
  reason: string;
  client_ip: string;
  request_id: string;
}

describe.each(BACKENDS)('audit log (%s)', (backend) => {
  let nexus: TestApp;
  let admin: Clients;
  let anon: Clients;
  const rows = async (): Promise<Row[]> => {
    await nexus.app.audit.flush();
    return nexus.app.database.dataSource.query('SELECT * FROM audit_events ORDER BY project_id, seq');
  };

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    anon = clients(nexus.baseUrl);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('records an admin change before the call returns, and a credential read with IP and request id', async () => {
    await admin.providers.createProvider({ provider: apiKeyProvider() });
    // Written synchronously: visible without a flush.
    const direct: Row[] = await nexus.app.database.dataSource.query(`SELECT * FROM audit_events WHERE action = 'provider.create'`);
    expect(direct).toHaveLength(1);
    expect(direct[0]).toMatchObject({ actor_kind: 'api_key', outcome: 'success', target_type: 'provider' });

    const created = await admin.connections.createConnection({ workspaceId: 'ws-audit', provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL });
    await anon.connections.submitCredentials({ state: created.state, credentials: { api_key: 'audit-secret-value-1' } });
    const id = created.connection!.id;
    await admin.tokens.getToken({ connectionId: id });
    const read = (await rows()).filter((r) => r.action === 'token.read');
    expect(read).toHaveLength(1);
    expect(read[0]).toMatchObject({ target_type: 'connection', target_id: id, outcome: 'success', client_ip: '127.0.0.1' });
    expect(read[0]!.request_id).not.toBe('');
    const all = await rows();
    expect(all.find((r) => r.action === 'connection.create')).toMatchObject({ target_type: 'connection', target_id: id });
    // Never a secret.
    expect(JSON.stringify(all)).not.toContain('audit-secret-value-1');
  });

  it('records a refusal with its reason, and verifies', async () => {
    await expectConnectError(admin.tokens.getToken({ connectionId: 'conn_doesnotexist' }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    const failed = (await rows()).filter((r) => r.action === 'token.read' && r.outcome !== 'success');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ outcome: 'failed', reason: 'CONNECTION_NOT_FOUND', target_id: 'conn_doesnotexist' });
    const results = await nexus.app.auditReader.verify();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: true });
  });
});

import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing, keyIdOf } from '../../src/crypto/index.js';
import { openCredentials } from '../../src/domain/connections/sealed-credentials.js';
import { resealAll } from '../../src/domain/keys/key-rotation.js';
import type { TokenSet } from '../../src/domain/oauth/token-set.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';
import { user } from '../support/consent.js';

async function captureApiKey(api: Clients, workspaceId: string, key: string): Promise<string> {
  const created = await api.connections.createConnection({
    workspaceId,
    provider: { case: 'providerName', value: 'acme-api' },
    returnUrl: RETURN_URL,
  });
  await api.connections.submitCredentials({ state: created.state, credentials: { api_key: key } });
  return created.connection!.id;
}

describe('secrets at rest and in logs', () => {
  let auth: TestAuthServer;
  let db: TestDatabase;
  let nexus: TestApp;
  let api: Clients;
  const ring1 = KeyRing.generate('k1');

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    db = await createTestDatabase();
    nexus = await startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing: ring1 });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: oauthProvider(auth) });
    await api.providers.createProvider({ provider: apiKeyProvider() });
  });
  afterAll(async () => {
    await nexus?.close();
    await db?.drop();
    await auth?.stop();
  });

  it('a sealed credential copied to another connection does not decrypt', async () => {
    const a = await captureApiKey(api, 'ws-a', 'key-of-workspace-a-1234');
    const b = await captureApiKey(api, 'ws-b', 'key-of-workspace-b-5678');
    const q = (sql: string, p: unknown[]) => nexus.app.database.dataSource.query(sql, p);
    await q(`UPDATE connections SET credentials_sealed = (SELECT credentials_sealed FROM connections WHERE id = $1) WHERE id = $2`, [a, b]);
    const err = await expectConnectError(api.tokens.getToken({ connectionId: b }), Code.DataLoss, 'CREDENTIAL_UNREADABLE');
    expect(err.rawMessage).not.toContain('key-of-workspace');
    // The original still opens: the failure is the binding, not the key.
    const ok = (await api.tokens.getToken({ connectionId: a })).credential!;
    expect(ok.credentials.value).toMatchObject({ apiKey: 'key-of-workspace-a-1234' });
  });

  it('stores API keys as hashes and credentials sealed, never in clear', async () => {
    const keys = await nexus.app.database.dataSource.query(`SELECT key_hash FROM api_keys`);
    expect(keys.length).toBeGreaterThan(0);
    for (const { key_hash } of keys) expect(key_hash).not.toContain(ADMIN_KEY);
    const id = await captureApiKey(api, 'ws-plain', 'plain-secret-value-999');
    const [row] = await nexus.app.database.dataSource.query(`SELECT credentials_sealed FROM connections WHERE id = $1`, [id]);
    expect(row.credentials_sealed).toMatch(/^v1\.k1\./);
    expect(row.credentials_sealed).not.toContain('plain-secret-value-999');
    expect(row.credentials_sealed).not.toContain(Buffer.from('plain-secret-value-999').toString('base64'));
  });

  it('never writes a token, code, state, key or client secret to the log', async () => {
    const created = await api.connections.createConnection({
      workspaceId: 'ws-logs',
      provider: { case: 'providerName', value: 'local-oauth' },
      returnUrl: RETURN_URL,
    });
    const callbackUrl = new URL(await auth.consent(created.authUrl));
    await user.fetch(callbackUrl.href);
    await api.tokens.refreshToken({ connectionId: created.connection!.id });
    const token = (await api.tokens.getToken({ connectionId: created.connection!.id })).credential!;
    const row = (await nexus.app.store.connections.findById(created.connection!.projectId, created.connection!.id))!;
    const stored = openCredentials<TokenSet>(ring1, row);
    // A failed call with a secret-looking key must not echo it either.
    const wrongKey = 'nxs_this-is-a-wrong-key-that-must-not-be-logged';
    await expectConnectError(clients(nexus.baseUrl, wrongKey).tokens.getToken({ connectionId: 'x' }), Code.Unauthenticated, 'UNAUTHENTICATED');
    const logs = nexus.logs.join('\n');
    expect(logs).toContain('/oauth/callback'); // the request was logged, with its query redacted
    for (const secret of [
      ADMIN_KEY,
      wrongKey,
      auth.clientSecret,
      callbackUrl.searchParams.get('code')!,
      callbackUrl.searchParams.get('state')!,
      (token.credentials.value as { accessToken: string }).accessToken,
      stored.refreshToken!,
      stored.accessToken,
    ]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(logs).not.toContain(secret);
    }
  });

  it('logs each request once, with its method, redacted URL, status and duration', async () => {
    const before = nexus.logs.length;
    const state = 'state-value-that-must-not-be-logged-1234';
    await fetch(`${nexus.baseUrl}/oauth/callback?state=${state}&code=code-value-that-must-not-be-logged`, { redirect: 'manual' });
    const lines = nexus.logs
      .slice(before)
      .flatMap((chunk) => chunk.split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; req?: { method: string; url: string }; statusCode?: number; responseTime?: number });
    const requestLines = lines.filter((l) => l.req?.url.startsWith('/oauth/callback'));
    expect(requestLines).toHaveLength(1);
    const [line] = requestLines;
    expect(line!.msg).toBe('request completed');
    expect(line!.req!.method).toBe('GET');
    expect(line!.req!.url).not.toContain(state);
    expect(line!.statusCode).toBeGreaterThanOrEqual(300);
    expect(line!.responseTime).toBeGreaterThan(0);
  });

  it('rotates keys: re-seals everything under the new primary, after which the old key can go', async () => {
    const id = await captureApiKey(api, 'ws-rotate', 'rotating-secret-4242');
    const ring2 = ring1.withNewPrimary('k2');
    const report = await resealAll(nexus.app.store, ring2);
    expect(report.connections).toBeGreaterThan(0);
    expect(report.providerSecrets).toBe(1);
    // The JWT signing key's private half is sealed too: it must move, or dropping k1 would stop sign-in.
    expect(report.signingKeys).toBeGreaterThan(0);
    // The row altered by the copy test above is reported, not fatal.
    expect(report.unreadable).toHaveLength(1);
    const rows = await nexus.app.database.dataSource.query(
      `SELECT id, credentials_sealed AS sealed FROM connections WHERE credentials_sealed IS NOT NULL
       UNION ALL SELECT id, client_secret_sealed FROM providers WHERE client_secret_sealed IS NOT NULL
       UNION ALL SELECT id, private_key_sealed FROM signing_keys`,
    );
    for (const r of rows) expect(keyIdOf(r.sealed)).toBe(report.unreadable.includes(r.id) ? 'k1' : 'k2');
    expect(await resealAll(nexus.app.store, ring2)).toEqual({
      connections: 0,
      providerSecrets: 0,
      signingKeys: 0,
      webhookSecrets: 0,
      unreadable: report.unreadable,
    });

    // A replica that only knows k2 serves every credential, and the OAuth client secret still works.
    const onlyK2 = ring2.withoutKey('k1');
    const replica = await startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing: onlyK2 });
    try {
      const r = clients(replica.baseUrl, ADMIN_KEY);
      expect((await r.tokens.getToken({ connectionId: id })).credential!.credentials.value).toMatchObject({ apiKey: 'rotating-secret-4242' });
      const created = await r.connections.createConnection({
        workspaceId: 'ws-after-rotation',
        provider: { case: 'providerName', value: 'local-oauth' },
        returnUrl: RETURN_URL,
      });
      const failuresBefore = auth.clientAuthFailures.length;
      const res = await user.fetch(await auth.consent(created.authUrl));
      expect(new URL(res.headers.get('location')!).searchParams.get('status')).toBe('success');
      expect(auth.clientAuthFailures.length).toBe(failuresBefore);
    } finally {
      await replica.close();
    }
  });
});

import { Code, ConnectError } from '@connectrpc/connect';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/crypto/index.js';
import { connectViaConsent } from '../support/consent.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

// Long enough that only a connection event can explain an entry disappearing within a test.
const MAX_AGE_MS = 60_000;
// "Promptly": a notification round trip, with room for a loaded 2-core machine.
const PROMPTLY_MS = 3_000;

const accessToken = (r: { credentials: { case?: string; value?: unknown } }) => (r.credentials.value as { accessToken: string }).accessToken;

/** Polls `call` until it satisfies `done`; returns how long that took. */
async function within(ms: number, call: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await call())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - started;
}

const refused = (promise: Promise<unknown>) =>
  promise.then(
    () => false,
    (err) => {
      expect(err).toBeInstanceOf(ConnectError);
      expect([Code.NotFound, Code.FailedPrecondition]).toContain((err as ConnectError).code);
      return true;
    },
  );

describe('GetToken cache across two replicas on one PostgreSQL', () => {
  let auth: TestAuthServer;
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let apiA: Clients;
  let apiB: Clients;
  const ring = KeyRing.generate('tc1');

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    db = await createTestDatabase();
    const config = { tokenCacheMaxAgeMs: MAX_AGE_MS };
    a = await startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing: ring, config });
    b = await startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing: ring, config });
    apiA = clients(a.baseUrl, ADMIN_KEY);
    apiB = clients(b.baseUrl, ADMIN_KEY);
    await apiA.providers.createProvider({ provider: oauthProvider(auth) });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await auth?.stop();
  });

  /** Waits until replica B has dispatched every event committed so far. */
  async function everyEventReachedB(sql: pg.Client): Promise<void> {
    const newest = Number((await sql.query('SELECT max(id) AS id FROM connection_events')).rows[0].id);
    await within(PROMPTLY_MS, async () => (b.app.events.mark('prj_default')?.id ?? 0) >= newest);
  }

  async function connectedAndCachedOnB(workspaceId: string): Promise<{ id: string; token: string }> {
    const { created } = await connectViaConsent(auth, apiA, workspaceId);
    const id = created.connection!.id;
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    // The connection's own events must reach B first, or they would (rightly) drop B's entry below.
    await everyEventReachedB(sql);
    const token = accessToken((await apiB.tokens.getToken({ connectionId: id })).credential!);
    // B now answers from its cache: a row change that publishes no event stays invisible to it.
    await sql.query(`UPDATE connections SET status = 'FAILED' WHERE id = $1`, [id]);
    expect(accessToken((await apiB.tokens.getToken({ connectionId: id })).credential!)).toBe(token);
    await sql.query(`UPDATE connections SET status = 'ACTIVE' WHERE id = $1`, [id]);
    await sql.end();
    return { id, token };
  }

  it('refuses a connection deleted through replica A promptly on replica B', async () => {
    const { id } = await connectedAndCachedOnB('deleted');
    await apiA.connections.deleteConnection({ connectionId: id });
    const took = await within(PROMPTLY_MS, () => refused(apiB.tokens.getToken({ connectionId: id })));
    expect(took).toBeLessThan(PROMPTLY_MS);
  });

  it('refuses at once on the replica that made the change', async () => {
    const { created } = await connectViaConsent(auth, apiA, 'same-replica');
    const id = created.connection!.id;
    await apiA.tokens.getToken({ connectionId: id });
    await apiA.connections.deleteConnection({ connectionId: id });
    expect(await refused(apiA.tokens.getToken({ connectionId: id }))).toBe(true);
  });

  it('serves the refreshed token, not the cached one, after a refresh through replica A', async () => {
    const { id, token } = await connectedAndCachedOnB('refreshed');
    const refreshed = accessToken((await apiA.tokens.refreshToken({ connectionId: id })).credential!);
    expect(refreshed).not.toBe(token);
    await within(PROMPTLY_MS, async () => accessToken((await apiB.tokens.getToken({ connectionId: id })).credential!) === refreshed);
    // Replica A serves the new one at once.
    expect(accessToken((await apiA.tokens.getToken({ connectionId: id })).credential!)).toBe(refreshed);
  });

  it('refuses promptly once a rejected refresh on replica A made the connection need attention', async () => {
    const { id } = await connectedAndCachedOnB('attention');
    auth.refreshMode = 'invalid_grant';
    try {
      await expectConnectError(apiA.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    } finally {
      auth.refreshMode = 'ok';
    }
    await within(PROMPTLY_MS, () => refused(apiB.tokens.getToken({ connectionId: id })));
    await expectConnectError(apiB.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
  });

  it("serves a static credential in its provider's new shape promptly after the provider is updated through replica A", async () => {
    await apiA.providers.createProvider({ provider: apiKeyProvider({ name: 'reshaped-api', apiKey: { name: 'X-Old-Key' } }) });
    const created = await apiA.connections.createConnection({
      workspaceId: 'reshaped',
      provider: { case: 'providerName', value: 'reshaped-api' },
      returnUrl: RETURN_URL,
    });
    await apiA.connections.submitCredentials({ state: created.state, credentials: { api_key: 'reshaped-secret-1' } });
    const id = created.connection!.id;
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    // The connection's own events must reach B first, or they would (rightly) drop B's entry below.
    await everyEventReachedB(sql);
    const headerOn = async (api: Clients) => (await api.tokens.getToken({ connectionId: id })).credential!.strategy?.apiKey?.name;
    expect(await headerOn(apiB)).toBe('X-Old-Key');
    // B serves it from its cache from now on: a row change without an event stays invisible to it.
    await sql.query(`UPDATE providers SET api_key = jsonb_set(api_key, '{name}', '"X-Unseen"') WHERE name = 'reshaped-api'`);
    expect(await headerOn(apiB)).toBe('X-Old-Key');
    await sql.end();

    await apiA.providers.updateProvider({ provider: { name: 'reshaped-api', apiKey: { name: 'X-New-Key' } }, updateMask: { paths: ['api_key'] } });
    expect(await headerOn(apiA)).toBe('X-New-Key');
    const took = await within(PROMPTLY_MS, async () => (await headerOn(apiB)) === 'X-New-Key');
    expect(took).toBeLessThan(PROMPTLY_MS);
  });

  it("never hands another project's caller a cached entry", async () => {
    const { id } = await connectedAndCachedOnB('cross-project');
    await b.app.store.projects.ensure('prj_other', 'other');
    const otherKey = (await b.app.apiKeys.create('prj_other', 'k', ['tokens'])).key;
    await expectConnectError(clients(b.baseUrl, otherKey).tokens.getToken({ connectionId: id }), Code.NotFound, 'CONNECTION_NOT_FOUND');
  });

  it('never serves an entry past the max age, even when no event arrives', async () => {
    const c = await startTestApp({ backend: 'postgres', databaseUrl: db.url, keyRing: ring, config: { tokenCacheMaxAgeMs: 500 } });
    try {
      const apiC = clients(c.baseUrl, ADMIN_KEY);
      const { created } = await connectViaConsent(auth, apiA, 'max-age');
      const id = created.connection!.id;
      await apiC.tokens.getToken({ connectionId: id });
      // A change behind the hub's back (no event): only the max age bounds it.
      const sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      await sql.query(`UPDATE connections SET status = 'REVOKED' WHERE id = $1`, [id]);
      await sql.end();
      const started = Date.now();
      await within(PROMPTLY_MS, () => refused(apiC.tokens.getToken({ connectionId: id })));
      expect(Date.now() - started).toBeLessThan(500 + 1_000);
    } finally {
      await c.close();
    }
  });
});

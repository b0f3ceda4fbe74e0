import { Code } from '@connectrpc/connect';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { MinimalAuthServer } from '../support/minimal-as.js';
import { connectMinimal, eventually, minimalProvider, newKeys, readRow, readRows, replicaEnv } from '../support/refresh-fixtures.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, clients, type Clients } from '../support/test-app.js';

const HOUR_MS = 3_600_000;

async function metric(baseUrl: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => line.test(l))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('background refresh worker across two server processes on one PostgreSQL', () => {
  const CONNECTIONS = 30;
  let as: MinimalAuthServer;
  let db: TestDatabase;
  let replicas: ServerProcess[] = [];

  beforeAll(async () => {
    as = await MinimalAuthServer.start();
    db = await createTestDatabase();
    const env = replicaEnv(db.url, newKeys(), { NEXUS_REFRESH_BATCH_SIZE: '4', NEXUS_REFRESH_CONCURRENCY: '3' });
    replicas = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.drop();
    await as?.stop();
  });

  it('refreshes every due connection exactly once, before it expires, with no caller involved', async () => {
    const [a, b] = replicas.map((r) => clients(r.baseUrl, ADMIN_KEY)) as [Clients, Clients];
    await a.providers.createProvider({ provider: minimalProvider(as) });
    // Tokens from the consent expire in 30 s, inside the 60 s lead time: due at once. Refreshed ones last an hour.
    as.exchangeExpiresIn = 30;
    const ids: string[] = [];
    for (let i = 0; i < CONNECTIONS; i++) ids.push(await connectMinimal(i % 2 ? a : b, `ws-${i}`));

    await eventually(
      'every connection refreshed',
      async () => {
        const rows = await readRows(db.url, ids);
        const done = [...rows.values()].filter((r) => r.token_expires_at && r.token_expires_at.getTime() > Date.now() + HOUR_MS / 2);
        return done.length === CONNECTIONS ? true : undefined;
      },
      60_000,
    );
    // Give a duplicate refresh, if there were one, time to show up.
    await new Promise((r) => setTimeout(r, 1_000));

    // Exactly once: the AS saw each connection's first refresh token once, and nothing else.
    expect(as.presented).toHaveLength(CONNECTIONS);
    expect([...as.presented].sort()).toEqual([...as.issuedByExchange].sort());
    const rows = await readRows(db.url, ids);
    for (const row of rows.values()) {
      expect(row).toMatchObject({ status: 'ACTIVE', refresh_attempt_id: null, refresh_lease_until: null, refresh_failures: 0 });
      expect(row.refresh_token_rotates).toBe(true);
    }
    // Both workers' claims add up to the work done, and every refresh is counted as a worker success.
    const claimed = await Promise.all(replicas.map((r) => metric(r.baseUrl, /^nexus_refresh_worker_claimed_total /)));
    expect(claimed.reduce((x, y) => x + y, 0)).toBe(CONNECTIONS);
    const successes = await Promise.all(replicas.map((r) => metric(r.baseUrl, /^nexus_token_refreshes_total\{.*outcome="success".*trigger="worker"/)));
    expect(successes.reduce((x, y) => x + y, 0)).toBe(CONNECTIONS);
    // Agents get the refreshed token without a refresh of their own.
    const before = as.presented.length;
    const token = (await b.tokens.getToken({ connectionId: ids[0]! })).credential!;
    expect(token.expireTime!.seconds).toBeGreaterThan(BigInt(Math.floor((Date.now() + HOUR_MS / 2) / 1000)));
    expect(as.presented.length).toBe(before);
    // 30 connections through the consent page (GET, POST, consent, callback each), then up to 60 s of waiting.
  }, 90_000);
});

describe('background refresh when the authorization server fails (one server process)', () => {
  const BASE = 400;
  let as: MinimalAuthServer;
  let db: TestDatabase;
  let replica: ServerProcess;
  let api: Clients;

  beforeAll(async () => {
    as = await MinimalAuthServer.start();
    db = await createTestDatabase();
    replica = await startServerProcess(
      replicaEnv(db.url, newKeys(), {
        NEXUS_REFRESH_BACKOFF_BASE_MS: String(BASE),
        NEXUS_REFRESH_BACKOFF_MAX_MS: String(BASE * 8),
        NEXUS_PROVIDER_TIMEOUT_MS: '1000',
      }),
    );
    api = clients(replica.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: minimalProvider(as) });
    as.exchangeExpiresIn = 30;
  });
  afterAll(async () => {
    await replica?.stop();
    await db?.drop();
    await as?.stop();
  });

  it('5xx: callers get UNAVAILABLE, the connection stays ACTIVE, the worker retries with growing backoff and succeeds once the server recovers', async () => {
    as.mode = 'server_error';
    const start = as.refreshTimes.length;
    const id = await connectMinimal(api, 'ws-5xx');
    await expectConnectError(api.tokens.getToken({ connectionId: id }), Code.Unavailable, 'PROVIDER_UNAVAILABLE');
    expect((await api.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.ACTIVE);

    await eventually('five failed attempts', async () => (as.refreshTimes.length - start >= 5 ? true : undefined), 30_000);
    const times = as.refreshTimes.slice(start, start + 5);
    // Each processed attempt is one more failure; after the n-th the next waits [BASE*2^(n-1)/2, BASE*2^(n-1)]
    // (equal jitter). Attempts from the 2nd on are the worker's alone (the GetToken above was at most the 1st).
    for (let n = 2; n <= 4; n++) {
      const gap = times[n]! - times[n - 1]!;
      const ceiling = Math.min(BASE * 2 ** (n - 1), BASE * 8);
      expect(gap, `gap after failure ${n}`).toBeGreaterThanOrEqual(ceiling / 2 - 50);
      expect(gap, `gap after failure ${n}`).toBeLessThanOrEqual(ceiling + 2_000);
    }
    // The AS records a request before Nexus commits its failure: wait for the fifth to land.
    const failing = await eventually('five failures recorded', async () => {
      const r = await readRow(db.url, id);
      return r.refresh_failures >= 5 ? r : undefined;
    });
    expect(failing.status).toBe('ACTIVE');
    expect(failing.refresh_next_attempt_at!.getTime()).toBeGreaterThan(Date.now() - 100);

    as.mode = 'ok';
    await eventually(
      'the refresh after recovery',
      async () => {
        const row = await readRow(db.url, id);
        return row.token_expires_at!.getTime() > Date.now() + HOUR_MS / 2 ? row : undefined;
      },
      30_000,
    ).then((row) => {
      expect(row).toMatchObject({ status: 'ACTIVE', refresh_failures: 0, refresh_next_attempt_at: null, refresh_attempt_id: null });
    });
    const token = (await api.tokens.getToken({ connectionId: id })).credential!;
    expect(token.credentials.case).toBe('oauth2');
  });

  it('timeout: callers get UNAVAILABLE within the provider timeout, status unchanged, and the worker completes later', async () => {
    as.mode = 'hang';
    const id = await connectMinimal(api, 'ws-timeout');
    const started = Date.now();
    await expectConnectError(api.tokens.getToken({ connectionId: id }), Code.Unavailable, 'PROVIDER_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(1_000 * 2 + 3_000);
    expect((await readRow(db.url, id)).status).toBe('ACTIVE');
    as.mode = 'ok';
    await eventually(
      'the refresh after recovery',
      async () => {
        const row = await readRow(db.url, id);
        return row.token_expires_at!.getTime() > Date.now() + HOUR_MS / 2 ? true : undefined;
      },
      30_000,
    );
    expect((await readRow(db.url, id)).status).toBe('ACTIVE');
  });

  it('a rejection marks the connection ATTENTION_REQUIRED (with its event) and is never retried', async () => {
    as.mode = 'invalid_grant';
    const id = await connectMinimal(api, 'ws-rejected');
    const firstToken = as.issuedByExchange.at(-1)!;
    const row = await eventually('ATTENTION_REQUIRED', async () => {
      const r = await readRow(db.url, id);
      return r.status === 'ATTENTION_REQUIRED' ? r : undefined;
    });
    expect(row).toMatchObject({ status_reason: 'invalid_grant', refresh_attempt_id: null, refresh_lease_until: null });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(as.uses(firstToken)).toBe(1);
    await expectConnectError(api.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    // The same event an on-demand rejection publishes, for WatchConnection(s) on every replica.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query(`SELECT type FROM connection_events WHERE connection_id = $1 ORDER BY id`, [id]);
    await client.end();
    expect(rows.map((r: { type: string }) => r.type)).toContain('ATTENTION_REQUIRED');
    as.mode = 'ok';
  });

  it('parks a row whose clear expiry says due but whose token is fresh, instead of claiming it every poll', async () => {
    as.mode = 'ok';
    as.exchangeExpiresIn = 3_600;
    const id = await connectMinimal(api, 'ws-parked');
    const before = as.presented.length;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(`UPDATE connections SET token_expires_at = now() WHERE id = $1`, [id]);
    await client.end();
    const row = await eventually('parked', async () => {
      const r = await readRow(db.url, id);
      return r.refresh_next_attempt_at ? r : undefined;
    });
    // Until the sealed token's expiry minus the lead time (an hour minus a minute).
    expect(row.refresh_next_attempt_at!.getTime()).toBeGreaterThan(Date.now() + HOUR_MS / 2);
    expect(as.presented.length).toBe(before);
  });
});

import { Code } from '@connectrpc/connect';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { MinimalAuthServer } from '../support/minimal-as.js';
import { connectMinimal, eventually, minimalProvider, newKeys, readRow, replicaEnv } from '../support/refresh-fixtures.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, clients } from '../support/test-app.js';

const LEASE_MS = 4_000;
const HOUR_MS = 3_600_000;

/**
 * kill -9 of the replica in the middle of a refresh, at two moments: before
 * the authorization server processed the request, and after it processed it
 * (rotating the refresh token) but before its answer arrived. Three replicas
 * run the background worker on one PostgreSQL; the AS records every refresh
 * token presented to it. The guarantee (src/domain/tokens/refresher.ts):
 * a refresh token that may rotate is never sent twice; the dead replica's
 * lease is released by expiry; a non-rotating refresh is completed by
 * another replica; a rotating one whose outcome is unknown becomes
 * ATTENTION_REQUIRED (refresh_interrupted) instead of being resent.
 */
describe('kill -9 of one of three replicas in the middle of a refresh', () => {
  let as: MinimalAuthServer;
  let db: TestDatabase;
  let env: Record<string, string>;
  let replicas: ServerProcess[] = [];

  beforeAll(async () => {
    as = await MinimalAuthServer.start();
    db = await createTestDatabase();
    env = replicaEnv(db.url, newKeys(), { NEXUS_PROVIDER_TIMEOUT_MS: '1500', NEXUS_REFRESH_LEASE_MS: String(LEASE_MS) });
    replicas = await Promise.all([startServerProcess(env), startServerProcess(env), startServerProcess(env)]);
    await clients(replicas[0]!.baseUrl, ADMIN_KEY).providers.createProvider({ provider: minimalProvider(as) });
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
    await db?.drop();
    await as?.stop();
  });

  /** Kills the replica holding the connection's refresh lease; returns the survivors' clients. */
  async function killHolder(id: string) {
    const row = await readRow(db.url, id);
    expect(row.refresh_attempt_id).not.toBeNull();
    const holder = replicas.find((r) => row.refresh_attempt_by === `${hostname()}:${r.pid}`);
    expect(holder, `lease holder ${row.refresh_attempt_by}`).toBeDefined();
    await holder!.stop('SIGKILL');
    replicas = replicas.filter((r) => r !== holder);
    // Back to three for the next case.
    replicas.push(await startServerProcess(env));
    return replicas.slice(0, 2).map((r) => clients(r.baseUrl, ADMIN_KEY));
  }

  it('rotating, killed before the AS processed the request: the token is never sent again, the connection asks for attention', async () => {
    as.rotate = true;
    as.exchangeExpiresIn = 30; // due at once: the first worker to poll claims it
    as.expiresIn = HOUR_MS / 1000;
    const held = as.holdNextRefresh('before');
    const id = await connectMinimal(clients(replicas[0]!.baseUrl, ADMIN_KEY), 'ws-before');
    const h = await held;
    const [survivor] = await killHolder(id);
    await new Promise((r) => setTimeout(r, 300)); // let the AS see the dead client's socket close
    h.release();

    // A caller arriving now waits for the lease instead of hanging or refreshing beside it.
    const started = Date.now();
    await expectConnectError(survivor!.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    expect(Date.now() - started).toBeLessThan(LEASE_MS + 5_000);
    const row = await eventually('refresh_interrupted', async () => {
      const r = await readRow(db.url, id);
      return r.status === 'ATTENTION_REQUIRED' ? r : undefined;
    });
    expect(row).toMatchObject({ status_reason: 'refresh_interrupted', refresh_lease_until: null });
    await new Promise((r) => setTimeout(r, 1_000));
    // The AS never processed it, and no replica sent it again.
    expect(as.uses(h.refreshToken)).toBe(0);
  });

  it('rotating, killed while the AS was answering: the rotated token is sent exactly once, never twice', async () => {
    as.rotate = true;
    as.exchangeExpiresIn = 30;
    const held = as.holdNextRefresh('after');
    const id = await connectMinimal(clients(replicas[1]!.baseUrl, ADMIN_KEY), 'ws-after');
    const h = await held;
    const [survivor] = await killHolder(id);
    h.release(); // the answer goes to a dead socket

    const row = await eventually('refresh_interrupted', async () => {
      const r = await readRow(db.url, id);
      return r.status === 'ATTENTION_REQUIRED' ? r : undefined;
    });
    expect(row).toMatchObject({ status_reason: 'refresh_interrupted', refresh_lease_until: null });
    await expectConnectError(survivor!.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(as.uses(h.refreshToken)).toBe(1);
  });

  it('not rotating, killed while the AS was answering: another replica completes the refresh, no token lost', async () => {
    as.rotate = false;
    as.exchangeExpiresIn = 3_600;
    const api = clients(replicas[2]!.baseUrl, ADMIN_KEY);
    const id = await connectMinimal(api, 'ws-static-rt');
    // One refresh teaches Nexus that this provider keeps refresh tokens; its token then expires in 30 s (due).
    as.expiresIn = 30;
    const held = as.holdNextRefresh('after', 1);
    await api.tokens.refreshToken({ connectionId: id });
    expect((await readRow(db.url, id)).refresh_token_rotates).toBe(false);
    const h = await held;
    as.expiresIn = HOUR_MS / 1000;
    const [survivor] = await killHolder(id);
    h.release();

    await eventually('the refresh completed by another replica', async () => {
      const r = await readRow(db.url, id);
      return r.token_expires_at!.getTime() > Date.now() + HOUR_MS / 2 ? r : undefined;
    });
    const row = await readRow(db.url, id);
    expect(row).toMatchObject({ status: 'ACTIVE', refresh_attempt_id: null, refresh_lease_until: null });
    const token = (await survivor!.tokens.getToken({ connectionId: id })).credential!;
    expect(token.expireTime!.seconds).toBeGreaterThan(BigInt(Math.floor((Date.now() + HOUR_MS / 2) / 1000)));
    // Resent once by the replica that took over: harmless for a provider that does not rotate.
    expect(as.uses(h.refreshToken)).toBeGreaterThanOrEqual(2);
  });
});

import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { loadLoadConfig } from '../../src/config/config.js';
import { registerClient } from '../support/auth-flows.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, authClients, clients, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Unauthenticated calls had no limit: a 30 s GetNonce flood stored 1,569
 * rows. Calls without valid credentials now spend a per-IP token bucket
 * (RESOURCE_EXHAUSTED, RATE_LIMITED, RetryInfo), and what GetNonce can
 * store is capped per OAuth client (TOO_MANY_NONCES).
 */

async function nonceRows(nexus: TestApp): Promise<number> {
  const rows: { n: string }[] = await nexus.app.database.dataSource.query(`SELECT count(*) AS n FROM one_time_codes WHERE kind = 'nonce'`);
  return Number(rows[0]!.n);
}

describe('per-IP rate limit of unauthenticated calls', () => {
  let nexus: TestApp;
  let clientId: string;

  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'postgres', config: { load: { ...loadLoadConfig({}), unauthRatePerSecond: 2, unauthBurst: 5 } } });
    clientId = (await registerClient(nexus.baseUrl, ClientType.PUBLIC)).id;
  });

  afterAll(async () => {
    await nexus?.close();
  });

  it('a GetNonce flood gets its burst, then RATE_LIMITED with a RetryInfo; a junk bearer does not bypass it; valid keys are not counted', async () => {
    const anon = authClients(nexus.baseUrl);
    const junk = authClients(nexus.baseUrl, 'nxs_not_a_real_key');
    let granted = 0;
    let refused = 0;
    let retryMs = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await (i % 2 ? junk : anon).auth.getNonce({ clientId });
        granted++;
      } catch (err) {
        const e = await expectConnectError(Promise.reject(err), Code.ResourceExhausted, 'RATE_LIMITED');
        const delay = e.findDetails(RetryInfoSchema)[0]!.retryDelay!;
        retryMs = Number(delay.seconds) * 1000 + delay.nanos / 1e6;
        refused++;
      }
    }
    // The burst, plus what refilled (2/s) while the loop ran.
    expect(granted).toBeGreaterThanOrEqual(5);
    expect(granted).toBeLessThan(15);
    expect(refused).toBe(40 - granted);
    expect(retryMs).toBeGreaterThan(0);
    expect(retryMs).toBeLessThanOrEqual(500);
    expect(await nonceRows(nexus)).toBe(granted);

    // An admin key from the same address is served, however many calls it makes.
    const admin = clients(nexus.baseUrl, ADMIN_KEY);
    for (let i = 0; i < 20; i++) await admin.connections.listConnections({ pageSize: 1 });

    // After the suggested delay, an unauthenticated call is allowed again.
    await new Promise((r) => setTimeout(r, retryMs + 50));
    await anon.auth.getNonce({ clientId });
  });
});

describe('what unauthenticated calls can store', () => {
  let nexus: TestApp;

  beforeAll(async () => {
    nexus = await startTestApp({
      backend: 'postgres',
      config: { load: { ...loadLoadConfig({}), unauthRatePerSecond: 100_000, unauthBurst: 100_000, maxLiveNonces: 8 } },
    });
  });

  afterAll(async () => {
    await nexus?.close();
  });

  it('GetNonce stops at NEXUS_MAX_LIVE_NONCES unused nonces per client (TOO_MANY_NONCES), other clients are unaffected', async () => {
    const flooded = (await registerClient(nexus.baseUrl, ClientType.PUBLIC)).id;
    const other = (await registerClient(nexus.baseUrl, ClientType.PUBLIC)).id;
    const anon = authClients(nexus.baseUrl);
    for (let i = 0; i < 8; i++) await anon.auth.getNonce({ clientId: flooded });
    for (let i = 0; i < 5; i++) {
      const err = await expectConnectError(anon.auth.getNonce({ clientId: flooded }), Code.ResourceExhausted, 'TOO_MANY_NONCES');
      expect(err.findDetails(RetryInfoSchema)).toHaveLength(1);
    }
    expect(await nonceRows(nexus)).toBe(8);
    await anon.auth.getNonce({ clientId: other });
  });
});

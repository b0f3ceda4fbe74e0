import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, clients, startTestApp, type TestApp } from '../support/test-app.js';

describe('one port, every protocol', () => {
  let nexus: TestApp;
  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'embedded' });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it.each(['connect', 'grpc', 'grpc-web'] as const)('serves %s on the same port', async (kind) => {
    const api = clients(nexus.baseUrl, ADMIN_KEY, kind);
    const res = await api.providers.createProvider({
      provider: { name: `p-${kind}`, authType: 2 /* API_KEY */ },
    });
    expect(res.provider?.enabled).toBe(true);
    const got = await api.providers.getProvider({ idOrName: `p-${kind}` });
    expect(got.provider?.id).toBe(res.provider?.id);
  });

  it('answers a plain Connect JSON POST, as curl would send it', async () => {
    const res = await fetch(`${nexus.baseUrl}/nexus.v1.ProviderService/ListProviders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pageSize: 1 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { providers: { name: string }[]; nextPageToken?: string };
    expect(body.providers).toHaveLength(1);
    expect(body.nextPageToken).toBeTruthy();
  });

  it('reports health and readiness', async () => {
    expect(await (await fetch(`${nexus.baseUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${nexus.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('reports not ready once the database is gone', async () => {
    const other = await startTestApp({ backend: 'embedded' });
    await other.app.database.close();
    const ready = await fetch(`${other.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    await other.app.server.close();
  });
});

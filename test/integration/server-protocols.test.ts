import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, clients, startTestApp, type TestApp } from '../support/test-app.js';

describe('one port, every protocol', () => {
  let nexus: TestApp;
  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'embedded', config: { corsOrigins: ['https://console.example.com', 'http://127.0.0.1:*'] } });
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

  it('answers CORS preflights for listed origins only, allowing the Connect and auth headers', async () => {
    const preflight = (origin: string) =>
      fetch(`${nexus.baseUrl}/nexus.v1.TokenService/GetToken`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,connect-protocol-version',
        },
      });
    const allowed = await preflight('https://console.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
    const allowedHeaders = allowed.headers.get('access-control-allow-headers')?.toLowerCase() ?? '';
    for (const h of ['authorization', 'content-type', 'connect-protocol-version', 'x-api-key']) expect(allowedHeaders).toContain(h);
    expect((await preflight('http://127.0.0.1:5173')).headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
    for (const origin of ['https://evil.example.com', 'https://console.example.com.evil.io', 'null']) {
      expect((await preflight(origin)).headers.get('access-control-allow-origin')).toBeNull();
    }
    // A real cross-origin call gets the header too, and Connect's response headers are exposed.
    const res = await fetch(`${nexus.baseUrl}/nexus.v1.ProviderService/ListProviders`, {
      method: 'POST',
      headers: { origin: 'https://console.example.com', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
    expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('grpc-status');
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

import http2 from 'node:http2';
import net from 'node:net';
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
    const got = await api.providers.getProvider({ provider: `p-${kind}` });
    expect(got.provider?.id).toBe(res.provider?.id);
  });

  // The port sniffs each connection's first bytes; a client whose first
  // packets are tiny must still reach the right server with nothing lost.
  it('routes a connection whose first bytes arrive one at a time (HTTP/2 and HTTP/1.1)', async () => {
    const { port } = new URL(nexus.baseUrl);
    const tricklingSocket = () => {
      const socket = net.connect(Number(port), '127.0.0.1');
      const write = socket.write.bind(socket);
      let first = true;
      // The first write goes out byte by byte, each byte in its own packet.
      socket.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
        if (!first) return write(chunk, ...(rest as []));
        first = false;
        const bytes = Buffer.from(chunk);
        socket.setNoDelay(true);
        void (async () => {
          for (let i = 0; i < bytes.length; i++) {
            write(bytes.subarray(i, i + 1));
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
        return true;
      }) as typeof socket.write;
      return socket;
    };

    const session = http2.connect(nexus.baseUrl, { createConnection: () => tricklingSocket() });
    try {
      const req = session.request({ ':method': 'GET', ':path': '/healthz' });
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      const status = await new Promise<number>((resolve, reject) => {
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
      });
      await new Promise((r) => req.on('end', r));
      expect(status).toBe(200);
      expect(JSON.parse(body)).toEqual({ status: 'ok' });
    } finally {
      session.close();
    }

    const socket = tricklingSocket();
    let answer = '';
    socket.setEncoding('utf8').on('data', (c: string) => (answer += c));
    socket.write('GET /healthz HTTP/1.1\r\nhost: nexus\r\nconnection: close\r\n\r\n');
    await new Promise((r) => socket.on('close', r));
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('{"status":"ok"}');
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

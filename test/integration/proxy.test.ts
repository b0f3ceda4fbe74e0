import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { ApiKeyLocation } from '../../gen/ts/nexus/v1/provider_pb.js';
import { registerClient, signInUser } from '../support/auth-flows.js';
import { connectViaConsent } from '../support/consent.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { KeyRing } from '../../src/crypto/index.js';
import { nexusProxyFetch } from '../../clients/ts/src/proxy.js';
import { apiKeyProvider, basicAuthProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { allowOutbound } from '../support/outbound-hosts.js';
import { freePort } from '../support/ports.js';
import { ProxyUpstream } from '../support/proxy-upstream.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

const MiB = 1024 * 1024;
/** The streaming test's body size, each way. */
const BIG = 200 * MiB;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP/1.1 request (the path is sent exactly as given; fetch would normalize it). */
function request(baseUrl: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | Readable } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const req = http.request({ host: url.hostname, port: url.port, path, method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (init.body instanceof Readable) init.body.pipe(req);
    else req.end(init.body);
  });
}

/** Zeros, `total` bytes, produced chunk by chunk (never held at once). */
function zeros(total: number): Readable {
  const chunk = Buffer.alloc(64 * 1024);
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(chunk.length, left);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

function expectNexusError(answer: Answer, status: number, reason: string): void {
  expect(answer.status, answer.body).toBe(status);
  expect(answer.headers['nexus-error']).toBe(`ERROR_REASON_${reason}`);
  const body = JSON.parse(answer.body) as { code: string; reason: string; message: string };
  expect(body.reason).toBe(`ERROR_REASON_${reason}`);
  expect(body.message).toEqual(expect.any(String));
  expect(body.code).toEqual(expect.any(String));
}

describe.each(BACKENDS)('credential-injecting proxy (%s)', (backend) => {
  let upstream: ProxyUpstream;
  let auth: TestAuthServer;
  let nexus: TestApp;
  let admin: Clients;
  const KEY = 'ak_proxy_secret_0123456789';
  let acme: string;
  let queryConn: string;
  let basicConn: string;
  let bareConn: string;
  let deadConn: string;
  let attentionConn: string;
  let oauthConn: string;
  let tokensKey: string;
  let connectionsOnlyKey: string;
  let deadPort: number;

  async function staticConnection(provider: string, credentials: Record<string, string>, workspaceId = 'ws-proxy'): Promise<string> {
    const made = await admin.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: provider }, returnUrl: RETURN_URL });
    await admin.connections.submitCredentials({ state: made.state, credentials });
    return made.connection!.id;
  }

  const as = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });

  beforeAll(async () => {
    upstream = await ProxyUpstream.start();
    auth = await TestAuthServer.start();
    deadPort = await freePort();
    allowOutbound(`127.0.0.1:${deadPort}`);
    nexus = await startTestApp({
      backend,
      config: { proxy: { maxBodyBytes: 120 * MiB, connectTimeoutMs: 1_000, headersTimeoutMs: 1_000, idleTimeoutMs: 2_000 } },
    });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    const base = `${upstream.baseUrl}/api`;
    await admin.providers.createProvider({ provider: apiKeyProvider({ apiBaseUrl: base }) });
    await admin.providers.createProvider({
      provider: apiKeyProvider({ name: 'query-api', apiBaseUrl: base, apiKey: { location: ApiKeyLocation.QUERY, name: 'key', prefix: '' } }),
    });
    await admin.providers.createProvider({ provider: basicAuthProvider({ apiBaseUrl: base }) });
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'no-base' }) });
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'dead-api', apiBaseUrl: `http://127.0.0.1:${deadPort}` }) });
    await admin.providers.createProvider({ provider: oauthProvider(auth, { apiBaseUrl: base }) });
    acme = await staticConnection('acme-api', { api_key: KEY });
    queryConn = await staticConnection('query-api', { api_key: KEY });
    basicConn = await staticConnection('legacy-crm', { username: 'crm-user', password: 'crm-password-42' });
    bareConn = await staticConnection('no-base', { api_key: KEY });
    deadConn = await staticConnection('dead-api', { api_key: KEY });
    // One connection per provider and workspace: a second one elsewhere.
    attentionConn = await staticConnection('acme-api', { api_key: KEY }, 'ws-attention');
    await nexus.app.database.dataSource.query(`UPDATE connections SET status = 'ATTENTION_REQUIRED', status_reason = 'credentials_rejected' WHERE id = $1`, [
      attentionConn,
    ]);
    oauthConn = (await connectViaConsent(auth, admin, 'ws-proxy')).created.connection!.id;
    tokensKey = (await nexus.app.apiKeys.create('prj_default', 'agent', ['tokens'])).key;
    connectionsOnlyKey = (await nexus.app.apiKeys.create('prj_default', 'ui', ['connections'])).key;
  });
  afterAll(async () => {
    await nexus?.close();
    await upstream?.stop();
    await auth?.stop();
  });

  it("forwards method, path and query with the API key applied, and returns the provider's answer", async () => {
    const answer = await request(nexus.baseUrl, `/proxy/${acme}/echo/items?limit=5&q=a%20b`, {
      method: 'POST',
      headers: as(tokensKey, { 'content-type': 'application/json', 'x-custom': 'kept' }),
      body: Buffer.from('{"a":1}'),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['nexus-error']).toBeUndefined();
    const seen = JSON.parse(answer.body) as { method: string; url: string; headers: Record<string, string>; bodyBytes: number };
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/api/echo/items?limit=5&q=a%20b');
    expect(seen.headers['x-acme-key']).toBe(KEY);
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.bodyBytes).toBe(7);
  });

  it('accepts X-API-Key and places a query-parameter key, replacing one the agent sent', async () => {
    const answer = await request(nexus.baseUrl, `/proxy/${queryConn}/echo?key=forged&x=1`, { headers: { 'x-api-key': tokensKey } });
    const seen = JSON.parse(answer.body) as { url: string };
    const url = new URL(seen.url, 'http://x');
    expect(url.searchParams.getAll('key')).toEqual([KEY]);
    expect(url.searchParams.get('x')).toBe('1');
  });

  it('applies Basic credentials', async () => {
    const answer = await request(nexus.baseUrl, `/proxy/${basicConn}/echo`, { headers: as(tokensKey) });
    const seen = JSON.parse(answer.body) as { headers: Record<string, string> };
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from('crm-user:crm-password-42').toString('base64')}`);
  });

  it("never forwards the agent's credentials, cookies, hop-by-hop, forwarding or Host headers", async () => {
    const answer = await request(nexus.baseUrl, `/proxy/${acme}/echo`, {
      headers: {
        authorization: `Bearer ${tokensKey}`,
        cookie: 'nexus_session=abc',
        connection: 'keep-alive, x-private-hop',
        'x-private-hop': 'secret-hop',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic eDp5',
        'x-forwarded-for': '10.1.2.3',
        forwarded: 'for=10.1.2.3',
        te: 'trailers',
        'x-acme-key': 'agent-supplied-key',
      },
    });
    const seen = JSON.parse(answer.body) as { headers: Record<string, string> };
    const names = Object.keys(seen.headers);
    for (const name of ['authorization', 'cookie', 'x-private-hop', 'keep-alive', 'proxy-authorization', 'x-forwarded-for', 'forwarded', 'te', 'x-api-key']) {
      expect(names, name).not.toContain(name);
    }
    expect(JSON.stringify(seen.headers)).not.toContain(tokensKey);
    expect(seen.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    expect(seen.headers['x-acme-key']).toBe(KEY);
  });

  it("passes the provider's status and rate-limit headers through; drops Set-Cookie, hop-by-hop, forged Nexus-Error and any header carrying the credential", async () => {
    upstream.echoValue = `key=${KEY}`;
    const answer = await request(nexus.baseUrl, `/proxy/${acme}/headers`, { headers: as(tokensKey) });
    expect(answer.status).toBe(429);
    expect(answer.headers['x-ratelimit-remaining']).toBe('0');
    expect(answer.headers['x-ratelimit-reset']).toBe('30');
    expect(answer.headers['retry-after']).toBe('30');
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(answer.headers['nexus-error']).toBeUndefined();
    expect(answer.headers['x-echo']).toBeUndefined();
    expect(answer.headers['x-hop']).toBeUndefined();
    expect(JSON.stringify(answer.headers)).not.toContain(KEY);
    expect(JSON.parse(answer.body)).toEqual({ error: 'slow down' });
  });

  it('answers its own errors with Nexus-Error and a JSON body: 401, 403 (scope), 404, 409, 424, 400', async () => {
    expectNexusError(await request(nexus.baseUrl, `/proxy/${acme}/echo`), 401, 'UNAUTHENTICATED');
    expectNexusError(await request(nexus.baseUrl, `/proxy/${acme}/echo`, { headers: as('nxs_not_a_key') }), 401, 'UNAUTHENTICATED');
    expectNexusError(await request(nexus.baseUrl, `/proxy/${acme}/echo`, { headers: as(connectionsOnlyKey) }), 403, 'SCOPE_MISSING');
    expectNexusError(await request(nexus.baseUrl, `/proxy/conn_does_not_exist/echo`, { headers: as(tokensKey) }), 404, 'CONNECTION_NOT_FOUND');
    expectNexusError(await request(nexus.baseUrl, `/proxy/${bareConn}/echo`, { headers: as(tokensKey) }), 409, 'PROXY_NOT_CONFIGURED');
    expectNexusError(await request(nexus.baseUrl, `/proxy/${attentionConn}/echo`, { headers: as(tokensKey) }), 424, 'ATTENTION_REQUIRED');
    expectNexusError(await request(nexus.baseUrl, `/proxy/${acme}/a/%2e%2e/%2e%2e/admin`, { headers: as(tokensKey) }), 400, 'PROXY_PATH_INVALID');
    expectNexusError(await request(nexus.baseUrl, `/proxy/${acme}/a/../../admin`, { headers: as(tokensKey) }), 400, 'PROXY_PATH_INVALID');
    expectNexusError(await request(nexus.baseUrl, `/proxy/${acme}/a%2f..%2fadmin`, { headers: as(tokensKey) }), 400, 'PROXY_PATH_INVALID');
    // None of the refused calls reached the provider.
    expect(upstream.seen.some((s) => s.url.includes('admin'))).toBe(false);
  });

  it("refuses another workspace's connection to an end-user token (403) and serves its own", async () => {
    const client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
    const user = await signInUser(nexus.baseUrl, client, ['connections', 'tokens']);
    const mine = await staticConnection('acme-api', { api_key: KEY }, user.account!.workspaceId);
    expectNexusError(await request(nexus.baseUrl, `/proxy/${acme}/echo`, { headers: as(user.accessToken) }), 403, 'WORKSPACE_FORBIDDEN');
    const ok = await request(nexus.baseUrl, `/proxy/${mine}/echo`, { headers: as(user.accessToken) });
    expect(ok.status).toBe(200);
    const withoutTokens = await signInUser(nexus.baseUrl, client, ['connections']);
    expectNexusError(await request(nexus.baseUrl, `/proxy/${mine}/echo`, { headers: as(withoutTokens.accessToken) }), 403, 'SCOPE_MISSING');
  });

  it('answers 502 when the provider is unreachable and 504 when it does not answer in time', async () => {
    expectNexusError(await request(nexus.baseUrl, `/proxy/${deadConn}/x`, { headers: as(tokensKey) }), 502, 'PROXY_UPSTREAM_UNREACHABLE');
    const started = Date.now();
    const answer = await request(nexus.baseUrl, `/proxy/${acme}/hang`, { headers: as(tokensKey) });
    expectNexusError(answer, 504, 'PROXY_UPSTREAM_TIMEOUT');
    expect(JSON.parse(answer.body).message).toContain('answer');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("answers 408 when the agent's streamed upload stalls past NEXUS_PROXY_IDLE_TIMEOUT_MS", async () => {
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(1024, 1)); // then nothing more
    const started = Date.now();
    const answer = await request(nexus.baseUrl, `/proxy/${acme}/echo`, { method: 'PUT', headers: as(tokensKey, { 'content-length': String(MiB) }), body });
    expectNexusError(answer, 408, 'PROXY_REQUEST_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(6_000);
    body.destroy();
  });

  it('refuses a declared body over NEXUS_PROXY_MAX_BODY_BYTES (413) and a declared response over it', async () => {
    const answer = await request(nexus.baseUrl, `/proxy/${acme}/echo`, {
      method: 'POST',
      headers: as(tokensKey, { 'content-length': String(200 * MiB) }),
      body: Buffer.alloc(0),
    }).catch(() => undefined);
    // The server answers before reading the body; the client may see the answer or a reset.
    if (answer) expectNexusError(answer, 413, 'PROXY_BODY_TOO_LARGE');
    expectNexusError(await request(nexus.baseUrl, `/proxy/${acme}/download?bytes=${130 * MiB}`, { headers: as(tokensKey) }), 413, 'PROXY_BODY_TOO_LARGE');
  });

  it('refreshes once on a provider 401 and retries a replayable request; a streamed body is not retried', async () => {
    const first = await nexus.app.tokens.getToken((await nexus.app.apiKeys.authenticate(ADMIN_KEY))!, oauthConn, 0);
    if (first.type !== 'oauth2') throw new Error('expected an OAuth2 credential');
    upstream.rejectedTokens.add(first.accessToken);
    const before = auth.refreshRequests;
    const ok = await request(nexus.baseUrl, `/proxy/${oauthConn}/bearer-only`, { headers: as(tokensKey) });
    expect(ok.status, ok.body).toBe(200);
    expect(auth.refreshRequests).toBe(before + 1);
    const second = await nexus.app.tokens.getToken((await nexus.app.apiKeys.authenticate(ADMIN_KEY))!, oauthConn, 0);
    if (second.type !== 'oauth2') throw new Error('expected an OAuth2 credential');
    expect(second.accessToken).not.toBe(first.accessToken);
    // Now the new token is refused too: a streamed (chunked) body cannot be replayed, the 401 passes through.
    upstream.rejectedTokens.add(second.accessToken);
    const streamed = await request(nexus.baseUrl, `/proxy/${oauthConn}/bearer-only`, { method: 'POST', headers: as(tokensKey), body: zeros(200 * 1024) });
    expect(streamed.status).toBe(401);
    expect(streamed.headers['nexus-error']).toBeUndefined();
    expect(streamed.headers['www-authenticate']).toContain('invalid_token');
    expect(auth.refreshRequests).toBe(before + 1);
    // A small declared body is buffered and replayed after one refresh.
    const small = await request(nexus.baseUrl, `/proxy/${oauthConn}/bearer-only`, {
      method: 'POST',
      headers: as(tokensKey, { 'content-type': 'application/octet-stream' }),
      body: Buffer.alloc(1000, 1),
    });
    expect(small.status, small.body).toBe(200);
    expect(JSON.parse(small.body)).toEqual({ ok: true, bodyBytes: 1000 });
    expect(auth.refreshRequests).toBe(before + 2);
  });

  it('TS client: nexusProxyFetch rewrites a provider URL to the proxy (GET, streamed POST, Nexus errors)', async () => {
    const api = nexusProxyFetch({ baseUrl: nexus.baseUrl, apiKey: tokensKey, connectionId: acme, apiBaseUrl: 'https://api.acme.example/api' });
    const res = await api('https://api.acme.example/api/echo/list?page=2', { headers: { authorization: 'Bearer provider-token-the-agent-never-needs' } });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/api/echo/list?page=2');
    expect(seen.headers['x-acme-key']).toBe(KEY);
    expect(seen.headers.authorization).toBeUndefined();
    const posted = await api('https://api.acme.example/api/echo', {
      method: 'POST',
      body: new Blob([Buffer.alloc(300_000, 1)]).stream(),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(((await posted.json()) as { bodyBytes: number }).bodyBytes).toBe(300_000);
    const missing = await nexusProxyFetch({ baseUrl: nexus.baseUrl, apiKey: tokensKey, connectionId: 'conn_missing' })('https://api.acme.example/x');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('nexus-error')).toBe('ERROR_REASON_CONNECTION_NOT_FOUND');
  });

  it('records an audit event and metrics per proxied call', async () => {
    await request(nexus.baseUrl, `/proxy/${acme}/echo/audited?secret=q`, { headers: as(tokensKey) });
    // A refused key is recorded too: unknown, by its public prefix only.
    const guessed = `nxs_PrXy${'q'.repeat(39)}`;
    expectNexusError(await request(nexus.baseUrl, `/proxy/${acme}/echo/guessed`, { headers: as(guessed) }), 401, 'UNAUTHENTICATED');
    await nexus.app.audit.flush();
    const rows = (await nexus.app.database.dataSource.query(
      `SELECT action, outcome, target_id, detail FROM audit_events WHERE action = 'proxy.request' ORDER BY seq DESC LIMIT 20`,
    )) as { action: string; outcome: string; target_id: string; detail: Record<string, unknown> | string }[];
    const detail = rows.map((r) => (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as Record<string, unknown>);
    const hit = detail.find((d) => d.path === '/echo/audited');
    expect(hit, JSON.stringify(rows[0])).toMatchObject({ method: 'GET', path: '/echo/audited', upstream_status: 200 });
    expect(JSON.stringify(rows)).not.toContain('secret=q');
    const denied = rows.find((r) => r.outcome === 'denied');
    expect(denied).toBeDefined();
    const refused = await nexus.app.database.dataSource.query(
      `SELECT project_id, actor_kind, actor_id, outcome, reason, target_id, detail->>'key_state' AS state FROM audit_events WHERE actor_id = 'nxs_PrXy'`,
    );
    expect(refused).toEqual([
      {
        project_id: 'prj_default',
        actor_kind: 'anonymous',
        actor_id: 'nxs_PrXy',
        outcome: 'denied',
        reason: 'UNAUTHENTICATED',
        target_id: acme,
        state: 'unknown',
      },
    ]);
    expect(JSON.stringify(await nexus.app.database.dataSource.query('SELECT * FROM audit_events'))).not.toContain('nxs_PrXyq');
    const text = await nexus.app.metrics.registry.metrics();
    expect(text).toMatch(/nexus_proxy_requests_total\{status_class="2xx",source="provider"\} \d+/);
    expect(text).toMatch(/nexus_proxy_requests_total\{status_class="4xx",source="nexus"\} \d+/);
    expect(text).toContain('nexus_proxy_request_duration_seconds_bucket');
    expect(text).toMatch(/nexus_proxy_body_bytes_total\{direction="request"\} [1-9]/);
  });
});

/** The server process's resident set (Linux /proc), in bytes. */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? '0') * 1024;
}

// The server runs as its own process (dist/, `npm run build`), so its RSS is the server's alone, not the test's client and upstream.
describe('proxy streams 100 MB each way with bounded server memory (postgres, server process)', () => {
  let upstream: ProxyUpstream;
  let db: TestDatabase;
  let server: ServerProcess;
  let conn: string;
  let key: string;

  beforeAll(async () => {
    upstream = await ProxyUpstream.start();
    db = await createTestDatabase();
    server = await startServerProcess(
      {
        DATABASE_URL: db.url,
        NEXUS_ENCRYPTION_KEYS: KeyRing.generate('p1').toSpec(),
        NEXUS_ADMIN_API_KEY: ADMIN_KEY,
        NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
        NEXUS_PROXY_MAX_BODY_BYTES: String(BIG + MiB),
        NEXUS_REFRESH_WORKER: 'false',
      },
      120_000,
    );
    const admin = clients(server.baseUrl, ADMIN_KEY);
    await admin.providers.createProvider({ provider: apiKeyProvider({ apiBaseUrl: upstream.baseUrl }) });
    const made = await admin.connections.createConnection({ workspaceId: 'ws', provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL });
    await admin.connections.submitCredentials({ state: made.state, credentials: { api_key: 'ak_stream_1234' } });
    conn = made.connection!.id;
    key = ADMIN_KEY;
  }, 180_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await upstream?.stop();
    await db?.drop();
  });

  /**
   * 200 MiB each way (the issue asks for 100 MB). The bound is not 50 MB:
   * V8 frees Buffers' memory lazily (its external-memory soft limit is 64
   * MiB), so streaming shows a constant ~75 MiB of garbage whatever the
   * size (100 or 300 MiB alike, measured). A proxy that buffered a body
   * would grow by at least the body: 200 MiB, far past the bound.
   */
  it("uploads and downloads 200 MiB each; the server's RSS grows by less than 120 MiB", async () => {
    // Warm up (undici loaded, first connection made) before the baseline.
    expect((await request(server.baseUrl, `/proxy/${conn}/echo`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    const baseline = rssOf(server.pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(server.pid))), 20);
    try {
      const up = await request(server.baseUrl, `/proxy/${conn}/echo`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${key}`, 'content-length': String(BIG), 'content-type': 'application/octet-stream' },
        body: zeros(BIG),
      });
      expect(up.status, up.body).toBe(200);
      expect(JSON.parse(up.body).bodyBytes).toBe(BIG);

      let received = 0;
      await new Promise<void>((resolve, reject) => {
        const url = new URL(server.baseUrl);
        http
          .get({ host: url.hostname, port: url.port, path: `/proxy/${conn}/download?bytes=${BIG}`, headers: { authorization: `Bearer ${key}` } }, (res) => {
            expect(res.statusCode).toBe(200);
            expect(res.headers['content-length']).toBe(String(BIG));
            res.on('data', (c: Buffer) => (received += c.length));
            res.on('end', resolve);
            res.on('error', reject);
          })
          .on('error', reject);
      });
      expect(received).toBe(BIG);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - baseline).toBeLessThan(120 * MiB);
  }, 120_000);
});

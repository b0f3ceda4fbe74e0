import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** Parses the Prometheus text format: one sample a line, `name{a="b",...} value`. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(baseUrl: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(`${baseUrl}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parse(await res.text());
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  const hit = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hit?.value ?? 0;
}

describe.each(BACKENDS)('GET /metrics (%s)', (backend) => {
  let nexus: TestApp;
  let api: Clients;

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
    api = clients(nexus.baseUrl, ADMIN_KEY);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('counts RPCs by service, method and Connect code, and times them', async () => {
    const rpc = { service: 'nexus.v1.ProviderService', method: 'ListProviders', code: 'ok' };
    const notFound = { service: 'nexus.v1.ConnectionService', method: 'GetConnection', code: 'not_found' };
    const before = await scrape(nexus.baseUrl);
    await api.providers.listProviders({});
    await api.providers.listProviders({});
    await expectConnectError(api.connections.getConnection({ connectionId: 'conn_00000000000000000000000000' }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    await expectConnectError(clients(nexus.baseUrl, 'nxs_wrong').connections.getConnection({ connectionId: 'x' }), Code.Unauthenticated, 'UNAUTHENTICATED');
    const after = await scrape(nexus.baseUrl);
    expect(value(after, 'nexus_rpc_requests_total', rpc) - value(before, 'nexus_rpc_requests_total', rpc)).toBe(2);
    expect(value(after, 'nexus_rpc_requests_total', notFound) - value(before, 'nexus_rpc_requests_total', notFound)).toBe(1);
    expect(value(after, 'nexus_rpc_requests_total', { method: 'GetConnection', code: 'unauthenticated' })).toBeGreaterThanOrEqual(1);
    expect(value(after, 'nexus_rpc_duration_seconds_count', rpc) - value(before, 'nexus_rpc_duration_seconds_count', rpc)).toBe(2);
    expect(value(after, 'nexus_rpc_duration_seconds_bucket', { ...rpc, le: '+Inf' })).toBeGreaterThanOrEqual(2);
  });

  it('reports the database pool, refresh and stream series', async () => {
    const samples = await scrape(nexus.baseUrl);
    const max = value(samples, 'nexus_db_pool_max', {});
    expect(max).toBe(backend === 'embedded' ? 1 : 10);
    expect(value(samples, 'nexus_db_pool_connections', {})).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'nexus_db_pool_connections', {})).toBeLessThanOrEqual(max);
    expect(samples.some((s) => s.name === 'nexus_db_pool_idle')).toBe(true);
    expect(samples.some((s) => s.name === 'nexus_db_pool_waiting')).toBe(true);
    const text = await (await fetch(`${nexus.baseUrl}/metrics`)).text();
    for (const name of [
      'nexus_token_refreshes_total',
      'nexus_token_refresh_duration_seconds',
      'nexus_streams_open',
      'nexus_refresh_worker_claimed_total',
      'nexus_refresh_worker_due',
      'nexus_refresh_worker_backoff',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('labels carry no ids, keys, workspaces or secrets', async () => {
    await api.providers.createProvider({ provider: apiKeyProvider({ name: `metrics-${backend}` }) });
    const created = await api.connections.createConnection({
      workspaceId: 'ws-secret-workspace',
      provider: { case: 'providerName', value: `metrics-${backend}` },
      returnUrl: RETURN_URL,
    });
    const id = created.connection!.id;
    await api.tokens.getToken({ connectionId: id }).catch(() => undefined);
    await api.connections.getConnection({ connectionId: id });
    const text = await (await fetch(`${nexus.baseUrl}/metrics`)).text();
    for (const leak of [id, ADMIN_KEY, 'ws-secret-workspace', `metrics-${backend}`, created.authUrl]) expect(text).not.toContain(leak);
    const allowed = new Set([
      'service',
      'method',
      'code',
      'le',
      'outcome',
      'result',
      'trigger',
      'quantile',
      'version',
      'major',
      'minor',
      'patch',
      'space',
      'kind',
      'type',
    ]);
    for (const s of parse(text)) for (const label of Object.keys(s.labels)) expect(allowed, `${s.name}{${label}}`).toContain(label);
  });
});

describe('GET /metrics with NEXUS_METRICS_TOKEN', () => {
  let nexus: TestApp;
  const token = 'metrics-scrape-token-5b1e';

  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'embedded', config: { metricsToken: token } });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('refuses scrapes without the token and serves them with it', async () => {
    expect((await fetch(`${nexus.baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${nexus.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${nexus.baseUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status).toBe(401);
    const samples = await scrape(nexus.baseUrl, { authorization: `Bearer ${token}` });
    expect(samples.some((s) => s.name === 'nexus_rpc_requests_total' || s.name === 'nexus_db_pool_max')).toBe(true);
  });
});

/**
 * The credential-injecting proxy's overhead: the same local API (a loopback
 * HTTP server answering a small JSON echo) called directly and through
 * `/proxy/{connection_id}/echo` (API-key strategy) in the same run, in
 * interleaved windows (direct, proxy, direct, ...). Reports throughput and
 * latency p50/p99 of each and the ratios. Modest load: the machine is shared.
 *
 *   npm run bench -- proxy
 *
 * Environment: NEXUS_BENCH_DATABASE_URL (admin URL, default
 * postgres://nexus:nexus@127.0.0.1:5432/postgres), NEXUS_BENCH_SECONDS (per
 * window, default 3), NEXUS_BENCH_CONCURRENCY (default 16).
 */
import { Agent, request } from 'undici';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { ConnectionService } from '../gen/ts/nexus/v1/connection_pb.js';
import { ProviderService, AuthType } from '../gen/ts/nexus/v1/provider_pb.js';
import { ProxyUpstream } from '../test/support/proxy-upstream.js';
import { BENCH_ADMIN_KEY, ensureDatabase } from './support/dataset.js';
import { processCpuMs, runLoad, summarize, type Window } from './support/load.js';
import { startBenchServer } from './support/server.js';

const CONCURRENCY = Number(process.env.NEXUS_BENCH_CONCURRENCY ?? 16);
const ROUNDS = 3;
const WINDOW_MS = Number(process.env.NEXUS_BENCH_SECONDS ?? 3) * 1000;
const ADMIN_URL = process.env.NEXUS_BENCH_DATABASE_URL ?? 'postgres://nexus:nexus@127.0.0.1:5432/postgres';
const API_KEY = 'ak_bench_proxy_key_0123456789';

async function main(): Promise<void> {
  const upstream = await ProxyUpstream.start();
  const url = await ensureDatabase(ADMIN_URL, 'nexus_bench_proxy');
  // Not production: the local API is plain http on loopback (api_base_url admits that only outside production).
  const server = await startBenchServer(url, {
    env: { NODE_ENV: 'development', NEXUS_OUTBOUND_ALLOWED_HOSTS: `127.0.0.1:${upstream.port}`, NEXUS_REFRESH_WORKER: 'false' },
  });
  try {
    const transport = createConnectTransport({
      baseUrl: server.baseUrl,
      httpVersion: '1.1',
      interceptors: [
        (next) => (req) => {
          req.header.set('authorization', `Bearer ${BENCH_ADMIN_KEY}`);
          return next(req);
        },
      ],
    });
    const providers = createClient(ProviderService, transport);
    const connections = createClient(ConnectionService, transport);
    const name = `bench-proxy-${Date.now()}`;
    await providers.createProvider({
      provider: { name, authType: AuthType.API_KEY, enabled: true, apiKey: { name: 'X-Bench-Key' }, apiBaseUrl: upstream.baseUrl },
    });
    const made = await connections.createConnection({
      workspaceId: 'bench',
      provider: { case: 'providerName', value: name },
      returnUrl: 'https://app.example.com/connections/r',
    });
    await connections.submitCredentials({ state: made.state, credentials: { api_key: API_KEY } });
    const id = made.connection!.id;

    const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
    const call = (target: string, headers: Record<string, string>) => async () => {
      const res = await request(target, { dispatcher: agent, headers });
      const body = (await res.body.json()) as { headers: Record<string, string> };
      if (res.statusCode !== 200 || body.headers['x-bench-key'] !== API_KEY) throw new Error(`answered ${res.statusCode}`);
    };
    const direct = call(`${upstream.baseUrl}/echo`, { 'x-bench-key': API_KEY });
    const proxied = call(`${server.baseUrl}/proxy/${id}/echo`, { authorization: `Bearer ${BENCH_ADMIN_KEY}` });
    // Warm up both paths.
    await runLoad(4, 1_000, direct);
    await runLoad(4, 1_000, proxied);
    const windows: Record<'direct' | 'proxy', Window[]> = { direct: [], proxy: [] };
    for (let round = 0; round < ROUNDS; round++) {
      windows.direct.push(await runLoad(CONCURRENCY, WINDOW_MS, direct));
      const cpu = processCpuMs(server.pid);
      const w = await runLoad(CONCURRENCY, WINDOW_MS, proxied);
      w.serverCpuMs = processCpuMs(server.pid) - cpu;
      windows.proxy.push(w);
    }
    for (const w of [...windows.direct, ...windows.proxy]) if (w.errors > 0) throw new Error(`${w.errors} calls failed: ${String(w.firstError)}`);
    const d = summarize(windows.direct);
    const p = summarize(windows.proxy);
    const row = (label: string, s: ReturnType<typeof summarize>) =>
      `| ${label} | ${s.throughput.toFixed(0)} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} | ${Number.isFinite(s.serverCpuUsPerCall) ? s.serverCpuUsPerCall.toFixed(0) : '-'} |`;
    console.log(`concurrency ${CONCURRENCY}, ${ROUNDS} interleaved windows of ${WINDOW_MS / 1000} s each`);
    console.log('| path | calls/s | p50 ms | p99 ms | Nexus CPU µs/call |');
    console.log('| --- | --- | --- | --- | --- |');
    console.log(row('direct', d));
    console.log(row('through the proxy', p));
    console.log(
      `throughput ratio proxy/direct: ${(p.throughput / d.throughput).toFixed(2)}; p50 added: ${(p.p50Ms - d.p50Ms).toFixed(2)} ms; p99 added: ${(p.p99Ms - d.p99Ms).toFixed(2)} ms`,
    );
    await agent.close();
  } finally {
    await server.stop();
    await upstream.stop();
  }
}

await main();

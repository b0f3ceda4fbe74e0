/**
 * GetToken vs a trivial echo RPC on the same server in the same run, at 64
 * concurrent callers, over Connect (HTTP/1.1, one keep-alive socket per
 * caller) and gRPC (HTTP/2 cleartext, one session multiplexing every caller),
 * with 1,000 and with 1,000,000 connections in the database.
 *
 *   npm run bench -- get-token
 *
 * Environment: NEXUS_BENCH_DATABASE_URL (an admin URL on the system PostgreSQL;
 * default postgres://nexus:nexus@127.0.0.1:5432/postgres), NEXUS_BENCH_SIZES
 * (default 1000,1000000), NEXUS_BENCH_SECONDS (per window, default 4), NEXUS_BENCH_CALLABLE
 * (connections called round-robin, default 64),
 * NEXUS_BENCH_CPU_PROF=<dir> (CPU-profile the server). The server gets the rest of the
 * environment, so NEXUS_TOKEN_CACHE_SIZE=0 measures GetToken without its cache.
 */
import os from 'node:os';
import { createClient, type Client, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { TokenService } from '../gen/ts/nexus/v1/token_pb.js';
import { BENCH_ADMIN_KEY, ensureDatabase, explainLookups, seed, type Callable } from './support/dataset.js';
import { EchoService } from './support/echo-service.js';
import { processCpuMs, runLoad, summarize, type Summary, type Window } from './support/load.js';
import { startBenchServer } from './support/server.js';

const CONCURRENCY = 64;
// One connection per caller, as 64 agents each fetching the token of their own connection on
// every tool call; NEXUS_BENCH_CALLABLE spreads the calls over more connections (colder cache).
const CALLABLE = Number(process.env.NEXUS_BENCH_CALLABLE ?? CONCURRENCY);
const ROUNDS = 3;
const WINDOW_MS = Number(process.env.NEXUS_BENCH_SECONDS ?? 4) * 1000;
const ADMIN_URL = process.env.NEXUS_BENCH_DATABASE_URL ?? 'postgres://nexus:nexus@127.0.0.1:5432/postgres';
const SIZES = (process.env.NEXUS_BENCH_SIZES ?? '1000,1000000').split(',').map(Number);
const auth = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };

type Protocol = 'connect' | 'grpc';
const PROTOCOLS: Record<Protocol, { label: string; transport: (baseUrl: string) => Transport }> = {
  connect: { label: 'Connect (HTTP/1.1)', transport: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: '1.1' }) },
  // gRPC always runs over HTTP/2; here cleartext (h2c) on one session.
  grpc: { label: 'gRPC (h2c)', transport: (baseUrl) => createGrpcTransport({ baseUrl }) },
};

interface Row {
  size: number;
  protocol: Protocol;
  echo: Summary;
  getToken: Summary;
  /** Share of GetToken's cache lookups that hit, over the measured windows. */
  cacheHitRate: number;
}

// The echo's generic client: methods are known only at run time.
type EchoClient = { echo(req: { message: string }, opts?: object): Promise<{ message: string }> };

/** Cache lookups so far, from the server's /metrics. */
async function cacheLookups(baseUrl: string): Promise<{ hit: number; miss: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const read = (result: string) => Number(new RegExp(`^nexus_token_cache_lookups_total\\{result="${result}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { hit: read('hit'), miss: read('miss') };
}

async function window(pid: number, call: (i: number) => Promise<void>): Promise<Window> {
  const cpu = processCpuMs(pid);
  const w = await runLoad(CONCURRENCY, WINDOW_MS, call);
  w.serverCpuMs = processCpuMs(pid) - cpu;
  return w;
}

async function measure(baseUrl: string, pid: number, protocol: Protocol, callable: Callable[], size: number): Promise<Row> {
  const transport = PROTOCOLS[protocol].transport(baseUrl);
  const tokens = createClient(TokenService, transport);
  const echo = createClient(EchoService, transport) as unknown as EchoClient;
  const getToken = async (i: number) => {
    const target = callable[i % callable.length]!;
    const res = await tokens.getToken({ connectionId: target.id }, { headers: auth });
    if (res.credentials.case !== 'oauth2' || res.credentials.value.accessToken !== target.accessToken) {
      throw new Error(`GetToken returned the wrong credential for ${target.id}`);
    }
  };
  const echoCall = async (i: number) => {
    const message = callable[i % callable.length]!.id;
    const res = await echo.echo({ message }, { headers: auth });
    if (res.message !== message) throw new Error('echo answered something else');
  };
  // Warm-up: JIT, connection pools, sockets, caches.
  await runLoad(CONCURRENCY, 2_000, echoCall);
  await runLoad(CONCURRENCY, 2_000, getToken);
  const echoWindows: Window[] = [];
  const tokenWindows: Window[] = [];
  const before = await cacheLookups(baseUrl);
  for (let round = 0; round < ROUNDS; round++) {
    echoWindows.push(await window(pid, echoCall));
    tokenWindows.push(await window(pid, getToken));
  }
  const after = await cacheLookups(baseUrl);
  const hits = after.hit - before.hit;
  const lookups = hits + after.miss - before.miss;
  for (const w of [...echoWindows, ...tokenWindows]) {
    if (w.errors > 0) throw new Error(`${w.errors} calls failed over ${protocol}: ${String(w.firstError)}`);
  }
  return { size, protocol, echo: summarize(echoWindows), getToken: summarize(tokenWindows), cacheHitRate: lookups ? hits / lookups : 0 };
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(8);

console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`);
console.log(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`GetToken cache: ${process.env.NEXUS_TOKEN_CACHE_SIZE === '0' ? 'off (NEXUS_TOKEN_CACHE_SIZE=0)' : 'on (default)'}; ${CALLABLE} connections called round-robin`);
console.log(`${CONCURRENCY} callers, ${ROUNDS} interleaved ${WINDOW_MS / 1000}-second windows per RPC, server in its own process`);
const rows: Row[] = [];
for (const size of SIZES) {
  console.log(`\n== ${size.toLocaleString('en')} connections`);
  const url = await ensureDatabase(ADMIN_URL, `nexus_bench_${size}`);
  const server = await startBenchServer(url);
  try {
    const callable = await seed(url, size - CALLABLE, CALLABLE);
    for (const line of await explainLookups(url, callable[0]!.id)) console.log(`  plan ${line}`);
    for (const protocol of Object.keys(PROTOCOLS) as Protocol[]) {
      const row = await measure(server.baseUrl, server.pid, protocol, callable, size);
      rows.push(row);
      const ratio = row.getToken.throughput / row.echo.throughput;
      const cpuRatio = row.getToken.serverCpuUsPerCall / row.echo.serverCpuUsPerCall;
      console.log(`  ${PROTOCOLS[protocol].label.padEnd(20)} rpc/s   p50 ms   p99 ms  server CPU us/call`);
      console.log(`    echo            ${fmt(row.echo.throughput)} ${fmt(row.echo.p50Ms, 2)} ${fmt(row.echo.p99Ms, 2)} ${fmt(row.echo.serverCpuUsPerCall)}`);
      console.log(
        `    GetToken        ${fmt(row.getToken.throughput)} ${fmt(row.getToken.p50Ms, 2)} ${fmt(row.getToken.p99Ms, 2)} ${fmt(row.getToken.serverCpuUsPerCall)}` +
          `   throughput ratio ${ratio.toFixed(2)}, CPU/call ratio ${cpuRatio.toFixed(2)}, cache hits ${(row.cacheHitRate * 100).toFixed(1)}%`,
      );
    }
  } finally {
    await server.stop();
  }
}

console.log('\n== targets');
let missed = 0;
const check = (ok: boolean, text: string) => {
  if (!ok) missed++;
  console.log(`  ${ok ? 'met   ' : 'MISSED'} ${text}`);
};
for (const row of rows) {
  const ratio = row.getToken.throughput / row.echo.throughput;
  const where = `${row.size.toLocaleString('en')} / ${row.protocol}`;
  check(ratio >= 0.8, `${where}: GetToken/echo throughput ${ratio.toFixed(2)} >= 0.8`);
  check(row.getToken.p99Ms < 10, `${where}: GetToken p99 ${row.getToken.p99Ms.toFixed(2)} ms < 10 ms`);
}
const small = Math.min(...SIZES);
const large = Math.max(...SIZES);
if (small !== large) {
  for (const protocol of Object.keys(PROTOCOLS) as Protocol[]) {
    const a = rows.find((r) => r.size === small && r.protocol === protocol)!.getToken;
    const b = rows.find((r) => r.size === large && r.protocol === protocol)!.getToken;
    check(a.throughput / b.throughput <= 1.2, `${protocol}: throughput ${small} / ${large} = ${(a.throughput / b.throughput).toFixed(2)} <= 1.2`);
    check(b.p99Ms / a.p99Ms <= 1.2, `${protocol}: p99 ${large} / ${small} = ${(b.p99Ms / a.p99Ms).toFixed(2)} <= 1.2`);
  }
}
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
// Figures are reported either way; a missed target is recorded in RESULTS.md, not a crash.
console.log(missed === 0 ? 'all targets met' : `${missed} target(s) missed`);

/**
 * 10,000 concurrent WatchConnections streams on one server process: memory
 * per stream, and event delivery latency from a status change to the LAST
 * of the 10,000 watchers receiving it (p50/p99 over the changes). In the
 * same run, the reference: the same streams fed by an in-memory trigger
 * that calls the hub directly (no database write, NOTIFY or read in the
 * path), and the ratio; then the floor: a bare node:http2 server and
 * client (no RPC stack) doing the same fan-out over as many streams.
 *
 *   npm run bench -- streams
 *
 * Environment: NEXUS_BENCH_DATABASE_URL (admin URL on the system PostgreSQL;
 * default postgres://nexus:nexus@127.0.0.1:5432/postgres), NEXUS_BENCH_STREAMS
 * (default 10000), NEXUS_BENCH_CHANGES (per phase, default 50), NEXUS_BENCH_PROFILE=<dir>
 * (V8 CPU profiles of each measuring phase, server and client, written there),
 * NEXUS_BENCH_CLIENT (`raw`, the default: bare gRPC frames over node:http2,
 * decoded with protobuf-es; `connect`: Connect's own client, which costs the
 * client process as much CPU per message as the server and so measures both).
 *
 * File descriptors: the streams use gRPC over HTTP/2 cleartext, multiplexed
 * over SESSIONS sockets, so neither process needs more than a few hundred
 * descriptors (the default soft limit of 1024 is enough). Over HTTP/1.1
 * (Connect or gRPC-Web) each stream would hold its own socket: raise
 * `ulimit -n` above 2 x streams first.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import http2 from 'node:http2';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import pg from 'pg';
import {
  ConnectionService,
  WatchConnectionsRequestSchema,
  WatchConnectionsResponseSchema,
  type WatchConnectionsResponse,
} from '../gen/ts/nexus/v1/connection_pb.js';
import { ProviderService } from '../gen/ts/nexus/v1/provider_pb.js';
import { AuthType } from '../gen/ts/nexus/v1/provider_pb.js';
import { BENCH_ADMIN_KEY } from './support/dataset.js';
import { PhaseProfiler } from './support/phase-profiler.js';
import { bareHttp2FanOut } from './support/http2-floor.js';
import { rawServerStream } from './support/raw-grpc-stream.js';
import { startBenchServer } from './support/server.js';

const STREAMS = Number(process.env.NEXUS_BENCH_STREAMS ?? 10_000);
const CHANGES = Number(process.env.NEXUS_BENCH_CHANGES ?? 50);
const SESSIONS = 20;
const OPEN_CONCURRENCY = 50;
const GAP_MS = 100;
const CLIENT = process.env.NEXUS_BENCH_CLIENT ?? 'raw';
const PROFILE_DIR = process.env.NEXUS_BENCH_PROFILE;
const ADMIN_URL = process.env.NEXUS_BENCH_DATABASE_URL ?? 'postgres://nexus:nexus@127.0.0.1:5432/postgres';
const WORKSPACE = 'bench-watchers';
const RETURN_URL = 'https://app.example.com/connections/return';
const headers = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };

/** Per change (by connection id): how many watchers have it, and when the last one got it. */
interface Arrivals {
  received: number;
  last: number;
  done?: () => void;
}
const arrivals = new Map<string, Arrivals>();

function arrivalsOf(id: string): Arrivals {
  let a = arrivals.get(id);
  if (!a) arrivals.set(id, (a = { received: 0, last: 0 }));
  return a;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One watcher: calls `onResponse` per message, `onEnd` once when the stream ends (with the error, if any). */
type OpenWatcher = (i: number, onResponse: (res: WatchConnectionsResponse) => void, onEnd: (err?: unknown) => void) => void;

/** Connect's own client (NEXUS_BENCH_CLIENT=connect): what an application would use, and as costly per message as the server. */
function connectWatchers(baseUrl: string, abort: AbortSignal): OpenWatcher {
  const clients = Array.from({ length: SESSIONS }, () => createClient(ConnectionService, createGrpcTransport({ baseUrl })));
  return (i, onResponse, onEnd) => {
    const stream = clients[i % clients.length]!.watchConnections({ workspaceId: WORKSPACE }, { headers, signal: abort });
    void (async () => {
      try {
        for await (const res of stream) onResponse(res);
        onEnd();
      } catch (err) {
        onEnd(err);
      }
    })();
  };
}

/** The default: bare gRPC frames over node:http2 (bench/support/raw-grpc-stream.ts). */
function rawWatchers(baseUrl: string, abort: AbortSignal): OpenWatcher {
  const sessions = Array.from({ length: SESSIONS }, () => http2.connect(baseUrl));
  abort.addEventListener('abort', () => sessions.forEach((s) => s.destroy()), { once: true });
  return (i, onResponse, onEnd) => {
    rawServerStream(
      sessions[i % sessions.length]!,
      '/nexus.v1.ConnectionService/WatchConnections',
      WatchConnectionsRequestSchema,
      WatchConnectionsResponseSchema,
      create(WatchConnectionsRequestSchema, { workspaceId: WORKSPACE }),
      headers,
      { message: onResponse, end: (status, message) => onEnd(status === '0' ? undefined : new Error(`grpc-status ${status}: ${message}`)) },
    );
  };
}

async function openStreams(openWatcher: OpenWatcher, abort: AbortSignal): Promise<void> {
  let ready = 0;
  let failed: unknown;
  // A stream refused while opening (UNAVAILABLE: the pool could not serve its snapshot in time on a
  // busy machine) is opened again, as a client would.
  const open = async (i: number): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await openOnce(i);
      } catch (err) {
        if (attempt >= 5 || abort.aborted) throw err;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  };
  const openOnce = (i: number) =>
    new Promise<void>((resolve, reject) => {
      let live = false;
      openWatcher(
        i,
        (res) => {
          if (res.item.case === 'heartbeat') {
            if (!live) {
              live = true;
              ready++;
              resolve();
            }
            return;
          }
          const id = res.item.value?.connection?.id;
          if (!id) return;
          // Recorded even before the change's RPC has answered: fast watchers can be first.
          const a = arrivalsOf(id);
          a.last = performance.now();
          if (++a.received === STREAMS) a.done?.();
        },
        (err) => {
          if (abort.aborted) return;
          // Every stream must stay open until the benchmark ends it.
          err ??= new Error('stream ended early');
          if (live) failed ??= err;
          reject(err);
        },
      );
    });
  for (let i = 0; i < STREAMS; i += OPEN_CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, STREAMS - i) }, (_, k) => open(i + k)));
  }
  if (failed) throw failed;
  if (ready !== STREAMS) throw new Error(`only ${ready} of ${STREAMS} streams are live`);
}

/** Runs `CHANGES` changes one after another; returns, per change, ms from the change to the last watcher. */
async function measure(change: (i: number) => Promise<string>, label: string, baseUrl: string): Promise<number[]> {
  const profiler = PROFILE_DIR ? new PhaseProfiler() : undefined;
  const tag = label.replace(/\W+/g, '-');
  if (profiler) {
    await fetch(`${baseUrl}/bench/profile/start`, { method: 'POST' });
    await profiler.start();
  }
  try {
    return await measureChanges(change, label);
  } finally {
    if (profiler) {
      await profiler.stop(path.join(PROFILE_DIR!, `client-${tag}.cpuprofile`));
      await fetch(`${baseUrl}/bench/profile/stop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ file: path.resolve(PROFILE_DIR!, `server-${tag}.cpuprofile`) }),
      });
    }
  }
}

async function measureChanges(change: (i: number) => Promise<string>, label: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const t0 = performance.now();
    const id = await change(i);
    const entry = arrivalsOf(id);
    const all = new Promise<void>((resolve) => (entry.done = resolve));
    if (entry.received >= STREAMS) entry.done!();
    const timeout = setTimeout(() => entry.done!(), 10_000);
    await all;
    clearTimeout(timeout);
    arrivals.delete(id);
    if (entry.received < STREAMS) throw new Error(`${label}: change ${i} reached ${entry.received} of ${STREAMS} watchers within 10 s`);
    latencies.push(entry.last - t0);
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  return latencies.sort((a, b) => a - b);
}

async function main() {
  const dbName = `nexus_bench_streams_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;

  const server = await startBenchServer(dbUrl.href, {
    script: path.join(import.meta.dirname, 'support/streams-server.ts'),
    nodeArgs: ['--expose-gc'],
    // One admin key holds every stream, SESSIONS connections share them: raise the per-key and per-connection caps.
    env: {
      NEXUS_MAX_STREAMS: String(STREAMS + 100),
      NEXUS_MAX_STREAMS_PER_PRINCIPAL: String(STREAMS + 100),
      NEXUS_H2_MAX_CONCURRENT_STREAMS: String(Math.ceil(STREAMS / SESSIONS) + 10),
      LOG_LEVEL: process.env.NEXUS_BENCH_LOG_LEVEL ?? 'warn',
    },
  });
  const abort = new AbortController();
  // One signal ends every stream at the end.
  setMaxListeners(0, abort.signal);
  try {
    const api = createClient(ConnectionService, createGrpcTransport({ baseUrl: server.baseUrl }));
    const providers = createClient(ProviderService, createGrpcTransport({ baseUrl: server.baseUrl }));
    const provider = (
      await providers.createProvider(
        { provider: { name: 'bench-api', displayName: 'Bench API', authType: AuthType.API_KEY, enabled: true, apiKey: { name: 'X-Key' } } },
        { headers },
      )
    ).provider!;
    const memory = async () => (await (await fetch(`${server.baseUrl}/bench/memory`)).json()) as { rss: number; heapUsed: number; openStreams: number };

    const before = await memory();
    const openStarted = performance.now();
    await openStreams((CLIENT === 'connect' ? connectWatchers : rawWatchers)(server.baseUrl, abort.signal), abort.signal);
    const openSeconds = (performance.now() - openStarted) / 1000;
    const after = await memory();
    if (after.openStreams !== STREAMS) throw new Error(`server reports ${after.openStreams} open streams`);

    // Nexus: a real status change (CreateConnection: a CREATED event), committed with its NOTIFY,
    // read back by the hub and fanned out.
    const viaPostgres = await measure(
      async () => {
        const res = await api.createConnection(
          { workspaceId: WORKSPACE, provider: { case: 'providerId', value: provider.id }, returnUrl: RETURN_URL },
          { headers },
        );
        return res.connection!.id;
      },
      'PostgreSQL path',
      server.baseUrl,
    );

    // Reference: the same streams, an event handed to the hub in memory.
    let n = 0;
    const inMemory = await measure(
      async () => {
        const connectionId = `conn_bench_${++n}`;
        const res = await fetch(`${server.baseUrl}/bench/inject`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ projectId: 'prj_default', workspaceId: WORKSPACE, providerId: provider.id, providerName: provider.name, connectionId }),
        });
        if (!res.ok) throw new Error(`inject: ${res.status}`);
        return connectionId;
      },
      'in-memory reference',
      server.baseUrl,
    );

    // Stop the server's streams first: the floor gets the machine to itself.
    abort.abort();
    const floor = await bareHttp2FanOut(STREAMS, SESSIONS, CHANGES);

    const perStream = (k: keyof typeof before) => (after[k] - before[k]) / STREAMS / 1024;
    const row = (label: string, l: number[]) =>
      `${label.padEnd(38)} p50 ${percentile(l, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(l, 99).toFixed(1).padStart(7)} ms   max ${l.at(-1)!.toFixed(1).padStart(7)} ms`;
    console.log(`\n${STREAMS} WatchConnections streams (gRPC h2c, ${SESSIONS} sessions, ${CLIENT} client) on one server process; ${CHANGES} changes per phase`);
    console.log(`opened in ${openSeconds.toFixed(1)} s (snapshot + live each)`);
    console.log(`server memory per stream: ${perStream('rss').toFixed(1)} KiB RSS, ${perStream('heapUsed').toFixed(1)} KiB heap (after GC)`);
    console.log('delivery latency, from the change to the LAST watcher receiving it:');
    console.log(row('Nexus (PostgreSQL + NOTIFY)', viaPostgres));
    console.log(row('reference (in-memory trigger)', inMemory));
    console.log(row('floor (bare node:http2, no RPC stack)', floor));
    console.log(
      `ratio Nexus / reference: p50 ${(percentile(viaPostgres, 50) / percentile(inMemory, 50)).toFixed(2)}x, p99 ${(percentile(viaPostgres, 99) / percentile(inMemory, 99)).toFixed(2)}x`,
    );
    const p99 = percentile(viaPostgres, 99);
    console.log(`target p99 < 200 ms: ${p99 < 200 ? 'met' : `MISSED (${p99.toFixed(0)} ms)`}`);
  } finally {
    abort.abort();
    await server.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
process.exit(0);

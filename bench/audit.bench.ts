/**
 * The audit log's cost on GetToken: the same database, two server processes,
 * one auditing every call (as shipped) and one with RPC auditing off
 * (NEXUS_BENCH_AUDIT=off, the reference), measured in interleaved windows
 * (on, off, on, off, ...) over Connect (HTTP/1.1) and gRPC (h2c). Target:
 * throughput with the audit log on >= 0.9 of off, on both protocols.
 * A second reference server (NEXUS_BENCH_AA=0 leaves it out) runs in the
 * same rounds: its ratio to the first (an A/A comparison of two identical
 * processes) is the noise floor the on/off ratio should be read against.
 *
 *   npm run bench -- audit
 *
 * Environment: NEXUS_BENCH_DATABASE_URL (admin URL, default
 * postgres://nexus:nexus@127.0.0.1:5432/postgres), NEXUS_BENCH_SECONDS (per
 * window, default 3), NEXUS_BENCH_CONCURRENCY (default 32: modest, the
 * machine is shared).
 */
import os from 'node:os';
import { createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import pg from 'pg';
import { TokenService } from '../gen/ts/nexus/v1/token_pb.js';
import { BENCH_ADMIN_KEY, ensureDatabase, seed, type Callable } from './support/dataset.js';
import { processCpuMs, runLoad, summarize, type Window } from './support/load.js';
import { startBenchServer, type BenchServer } from './support/server.js';

const CONCURRENCY = Number(process.env.NEXUS_BENCH_CONCURRENCY ?? 32);
const ROUNDS = 3;
const WINDOW_MS = Number(process.env.NEXUS_BENCH_SECONDS ?? 3) * 1000;
const ADMIN_URL = process.env.NEXUS_BENCH_DATABASE_URL ?? 'postgres://nexus:nexus@127.0.0.1:5432/postgres';
const SIZE = 1_000;
const auth = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };

type Protocol = 'connect' | 'grpc';
const PROTOCOLS: Record<Protocol, { label: string; transport: (baseUrl: string) => Transport }> = {
  connect: { label: 'Connect (HTTP/1.1)', transport: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: '1.1' }) },
  grpc: { label: 'gRPC (h2c)', transport: (baseUrl) => createGrpcTransport({ baseUrl }) },
};

function getToken(server: BenchServer, protocol: Protocol, callable: Callable[]) {
  const tokens = createClient(TokenService, PROTOCOLS[protocol].transport(server.baseUrl));
  return async (i: number) => {
    const c = callable[i % callable.length]!;
    const res = (await tokens.getToken({ connectionId: c.id }, { headers: auth })).credential!;
    if (res.credentials.case !== 'oauth2' || res.credentials.value.accessToken !== c.accessToken) throw new Error(`wrong credential for ${c.id}`);
  };
}

/** Each server's database sessions carry its name (application_name), so the CPU of the PostgreSQL backends serving it can be read. */
const APP_NAME = { on: 'nexus-bench-audit-on', off: 'nexus-bench-audit-off', ref: 'nexus-bench-audit-off-2' } as const;
type Which = keyof typeof APP_NAME;
const AA = process.env.NEXUS_BENCH_AA !== '0';
const withAppName = (url: string, name: string) => {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.href;
};

/** CPU ms of each PostgreSQL backend serving `appName` (PostgreSQL runs on this machine: its pids are ours to read). */
async function backendCpu(monitor: pg.Client, appName: string): Promise<Map<number, number>> {
  const { rows } = await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [appName]);
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      cpu.set(pid, processCpuMs(pid));
    } catch {
      // The session ended (or PostgreSQL is not local): not counted.
    }
  }
  return cpu;
}

/** PostgreSQL CPU ms a window cost: the server's backends (a session opened during the window counts from zero). */
function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, end] of after) ms += end - (before.get(pid) ?? 0);
  return ms;
}

async function window(server: BenchServer, call: (i: number) => Promise<void>, monitor: pg.Client, appName: string): Promise<Window & { dbCpuMs: number }> {
  const cpu = processCpuMs(server.pid);
  const db = await backendCpu(monitor, appName);
  const w = await runLoad(CONCURRENCY, WINDOW_MS, call);
  w.serverCpuMs = processCpuMs(server.pid) - cpu;
  const dbCpuMs = cpuSpent(db, await backendCpu(monitor, appName));
  if (w.errors > 0) throw new Error(`${w.errors} calls failed: ${String(w.firstError)}`);
  return { ...w, dbCpuMs };
}

async function auditedReads(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query(`SELECT count(*) AS n FROM audit_events WHERE action = 'token.read'`)).rows[0].n);
  } finally {
    await c.end();
  }
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(8);
console.log(
  `machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, node ${process.version}; load average before: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `${CONCURRENCY} callers, ${ROUNDS} rounds of interleaved ${WINDOW_MS / 1000}-second windows (audit on, audit off${AA ? ', a second audit-off server' : ''}), ${SIZE.toLocaleString('en')} connections`,
);

const url = await ensureDatabase(ADMIN_URL, 'nexus_bench_audit');
const on = await startBenchServer(withAppName(url, APP_NAME.on));
let off: BenchServer | undefined;
let ref: BenchServer | undefined;
const monitor = new pg.Client({ connectionString: url });
await monitor.connect();
const results: { protocol: Protocol; ratio: number }[] = [];
try {
  const callable = await seed(url, SIZE - CONCURRENCY, CONCURRENCY);
  off = await startBenchServer(withAppName(url, APP_NAME.off), { env: { NEXUS_BENCH_AUDIT: 'off' } });
  ref = AA ? await startBenchServer(withAppName(url, APP_NAME.ref), { env: { NEXUS_BENCH_AUDIT: 'off' } }) : undefined;
  const servers: Record<Which, BenchServer | undefined> = { on, off, ref };
  for (const protocol of ['connect', 'grpc'] as Protocol[]) {
    const present = (['on', 'off', 'ref'] as Which[]).filter((w) => servers[w]);
    const calls = Object.fromEntries(present.map((w) => [w, getToken(servers[w]!, protocol, callable)])) as Record<Which, (i: number) => Promise<void>>;
    for (const w of present) await runLoad(CONCURRENCY, 1_500, calls[w]);
    const windows: Record<Which, Window[]> = { on: [], off: [], ref: [] };
    const dbCpuMs: Record<Which, number> = { on: 0, off: 0, ref: 0 };
    const before = await auditedReads(url);
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate which goes first, so none always runs on the warmer machine.
      const order = present.map((_, i) => present[(i + round) % present.length]!);
      for (const which of order) {
        const w = await window(servers[which]!, calls[which], monitor, APP_NAME[which]);
        windows[which].push(w);
        dbCpuMs[which] += w.dbCpuMs;
      }
    }
    // Give the last batch its flush interval, then check every audited call was written.
    await new Promise((r) => setTimeout(r, 1_000));
    const written = (await auditedReads(url)) - before;
    const a = summarize(windows.on);
    const b = summarize(windows.off);
    const ratio = a.throughput / b.throughput;
    results.push({ protocol, ratio });
    console.log(`\n== ${PROTOCOLS[protocol].label}            rpc/s   p50 ms   p99 ms  server CPU us/call`);
    console.log(`  audit on          ${fmt(a.throughput)} ${fmt(a.p50Ms, 2)} ${fmt(a.p99Ms, 2)} ${fmt(a.serverCpuUsPerCall)}`);
    console.log(`  audit off         ${fmt(b.throughput)} ${fmt(b.p50Ms, 2)} ${fmt(b.p99Ms, 2)} ${fmt(b.serverCpuUsPerCall)}`);
    console.log(`  throughput ratio on/off ${ratio.toFixed(3)}; CPU/call ratio ${(a.serverCpuUsPerCall / b.serverCpuUsPerCall).toFixed(3)}`);
    // The PostgreSQL backends serving each server, per call: the audit log's INSERTs land here, not in the server process.
    const dbOn = (dbCpuMs.on * 1000) / a.calls;
    const dbOff = (dbCpuMs.off * 1000) / b.calls;
    console.log(
      `  PostgreSQL backend CPU us/call: audit on ${dbOn.toFixed(0)}, off ${dbOff.toFixed(0)} (+${(dbOn - dbOff).toFixed(0)}); ` +
        `server + database CPU us/call on/off ${((a.serverCpuUsPerCall + dbOn) / (b.serverCpuUsPerCall + dbOff)).toFixed(3)}`,
    );
    if (windows.ref.length > 0) {
      const r = summarize(windows.ref);
      console.log(
        `  noise floor (A/A, two reference servers): throughput ${(r.throughput / b.throughput).toFixed(3)}, CPU/call ${(r.serverCpuUsPerCall / b.serverCpuUsPerCall).toFixed(3)} (${fmt(r.throughput).trim()} rpc/s)`,
      );
    }
    console.log(`  token.read events written during the windows: ${written} (audited calls: ${a.calls} measured + warm-up excluded)`);
  }
} finally {
  await monitor.end();
  await on.stop();
  await off?.stop();
  await ref?.stop();
}
console.log('\n== targets');
for (const r of results)
  console.log(`  ${r.ratio >= 0.9 ? 'met   ' : 'MISSED'} ${r.protocol}: GetToken throughput audit on / off ${r.ratio.toFixed(3)} >= 0.9`);
console.log(
  `load average after: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

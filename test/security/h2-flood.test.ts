import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/crypto/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { RawH2Peer } from '../support/raw-h2.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, clients } from '../support/test-app.js';

/**
 * One HTTP/2 connection tries to take the server (SECURITY.md, "Hostile
 * clients"): thousands of concurrent streams, streams beyond the advertised
 * limit, and a HEADERS + RST_STREAM flood (rapid reset). The server runs as
 * its own process so that its memory can be read; a bystander on another
 * connection keeps calling throughout and must never fail or stall.
 */

const LIST_PROVIDERS = '/nexus.v1.ProviderService/ListProviders';
const WATCH_CONNECTIONS = '/nexus.v1.ConnectionService/WatchConnections';
const GRPC = { 'content-type': 'application/grpc+proto', te: 'trailers' };
// An empty protobuf message in a gRPC envelope.
const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(/(\d+)/.exec(line)![1]) * 1024;
}

/** Sequential authenticated calls on their own connection until `stop` resolves (at most 300 calls). */
async function bystander(baseUrl: string, stop: Promise<unknown>) {
  const api = clients(baseUrl, ADMIN_KEY);
  let stopped = false;
  void stop.finally(() => (stopped = true));
  const latencies: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < 300 && !stopped; i++) {
    const started = performance.now();
    try {
      await api.connections.listConnections({ pageSize: 10 });
    } catch (err) {
      errors.push(String(err));
    }
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { latencies, errors, max: Math.max(0, ...latencies) };
}

async function openStreams(session: http2.ClientHttp2Session, path: string, count: number, headers: Record<string, string> = {}) {
  const streams: http2.ClientHttp2Stream[] = [];
  for (let i = 0; i < count; i++) {
    const stream = session.request({ ':method': 'POST', ':path': path, ...GRPC, ...headers });
    stream.on('error', () => {});
    stream.resume();
    stream.end(EMPTY_MESSAGE);
    streams.push(stream);
  }
  return streams;
}

async function openStreamsOnServer(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('nexus_streams_open{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('one HTTP/2 connection cannot starve the others', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServerProcess({
      DATABASE_URL: db.url,
      NEXUS_ENCRYPTION_KEYS: KeyRing.generate('f1').toSpec(),
      NEXUS_ADMIN_API_KEY: ADMIN_KEY,
      NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
      NEXUS_REFRESH_WORKER: 'false',
      LOG_LEVEL: 'warn',
      // Every client here is 127.0.0.1: the per-IP budget would stop the unauthenticated flood before
      // the stream and in-flight bounds are reached. This suite is about those bounds.
      NEXUS_UNAUTH_RATE_PER_SECOND: '1000000',
      NEXUS_UNAUTH_BURST: '1000000',
    });
    port = Number(new URL(server.baseUrl).port);
  }, 120_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await db?.drop();
  });

  it('advertises a bounded SETTINGS_MAX_CONCURRENT_STREAMS, and thousands of calls on one connection leave a bystander unharmed', {
    timeout: 90_000,
  }, async () => {
    const session = http2.connect(server.baseUrl);
    session.on('error', () => {});
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
    expect(session.remoteSettings.maxConcurrentStreams).toBe(100);

    const streams = await openStreams(session, LIST_PROVIDERS, 1_000);
    const attack = Promise.all(streams.map((s) => new Promise((resolve) => s.once('close', resolve))));
    const bounded = Promise.race([attack, new Promise((r) => setTimeout(r, 40_000))]);
    const seen = await bystander(server.baseUrl, bounded);
    await bounded;
    session.destroy();

    expect(seen.errors).toEqual([]);
    expect(seen.latencies.length).toBeGreaterThan(3);
    // Unloaded, the bystander's slowest call takes well under a second; the bound leaves room for a busy CI machine.
    expect(seen.max).toBeLessThan(5_000);
  });

  it('holds at most NEXUS_H2_MAX_CONCURRENT_STREAMS watch streams per connection, and its memory returns to its baseline', { timeout: 90_000 }, async () => {
    // Warm-up: the first watch streams compile and allocate what every later one reuses.
    const warm = http2.connect(server.baseUrl);
    warm.on('error', () => {});
    await openStreams(warm, WATCH_CONNECTIONS, 100, { authorization: `Bearer ${ADMIN_KEY}` });
    await new Promise((r) => setTimeout(r, 2_000));
    warm.destroy();
    await new Promise((r) => setTimeout(r, 1_000));
    const baseline = rssBytes(server.pid);

    const session = http2.connect(server.baseUrl);
    session.on('error', () => {});
    await openStreams(session, WATCH_CONNECTIONS, 3_000, { authorization: `Bearer ${ADMIN_KEY}` });
    let peak = baseline;
    let mostOpen = 0;
    for (let i = 0; i < 15; i++) {
      await new Promise((r) => setTimeout(r, 200));
      peak = Math.max(peak, rssBytes(server.pid));
      mostOpen = Math.max(mostOpen, await openStreamsOnServer(server.baseUrl));
    }
    const seen = await bystander(server.baseUrl, new Promise((r) => setTimeout(r, 1_000)));
    session.destroy();

    let open = mostOpen;
    for (let i = 0; i < 50 && open > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      open = await openStreamsOnServer(server.baseUrl);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const after = rssBytes(server.pid);

    expect(mostOpen).toBeGreaterThan(0);
    expect(mostOpen).toBeLessThanOrEqual(100);
    expect(open).toBe(0);
    expect(seen.errors).toEqual([]);
    const mb = (n: number) => Math.round(n / 1024 / 1024);
    expect(mb(peak - baseline), 'RSS growth while attacked (MB)').toBeLessThan(100);
    expect(mb(after - baseline), 'RSS growth once the attacker left (MB)').toBeLessThan(60);
  });

  it('refuses streams a peer opens beyond the limit, then cuts the peer off with GOAWAY', { timeout: 60_000 }, async () => {
    const peer = new RawH2Peer(port);
    await peer.opened;
    const attack = (async () => {
      for (let i = 0; i < 2_000 && peer.open_; i++) {
        peer.open(LIST_PROVIDERS, GRPC, false);
        if (i % 100 === 99) await peer.drained();
      }
      for (let i = 0; i < 100 && !peer.received.closed; i++) await new Promise((r) => setTimeout(r, 100));
    })();
    const seen = await bystander(server.baseUrl, attack);
    peer.close();

    // Refused (RST_STREAM) and told (GOAWAY). On a busy machine the server may read the whole
    // over-limit burst in one go: Node then cuts the session off inside that read, and the queued
    // RST_STREAMs, sometimes the GOAWAY too, never leave. Either way the peer is gone and was
    // answered on at most the allowed 100 streams.
    expect(peer.received.serverResets > 0 || peer.received.goaway, JSON.stringify(peer.received)).toBe(true);
    expect(peer.received.closed).toBe(true);
    expect(peer.received.headers).toBeLessThanOrEqual(100);
    expect(seen.errors).toEqual([]);
  });

  it('answers a HEADERS + RST_STREAM flood (rapid reset) with GOAWAY, and the bystander keeps being served', { timeout: 60_000 }, async () => {
    const peer = new RawH2Peer(port);
    await peer.opened;
    const attack = (async () => {
      // Fewer resets than Node's own default burst (1,000): only NEXUS_H2_RESET_BURST stops this one.
      for (let i = 0; i < 900 && peer.open_; i++) {
        peer.reset(peer.open(LIST_PROVIDERS, GRPC, true));
        if (i % 50 === 49) await peer.drained();
      }
      for (let i = 0; i < 100 && !peer.received.closed; i++) await new Promise((r) => setTimeout(r, 100));
    })();
    const seen = await bystander(server.baseUrl, attack);
    peer.close();

    expect(peer.received.goaway).toBe(true);
    expect(peer.received.closed).toBe(true);
    expect(seen.errors).toEqual([]);
    // Unloaded, the bystander's slowest call takes well under a second; the bound leaves room for a busy CI machine.
    expect(seen.max).toBeLessThan(5_000);
  });
});

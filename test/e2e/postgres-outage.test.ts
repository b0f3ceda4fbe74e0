import { Code, ConnectError } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { KeyRing } from '../../src/crypto/index.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ThrowawayCluster } from '../support/postgres-cluster.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, RETURN_URL, clients, type Clients } from '../support/test-app.js';
import { staticConnection, summary, watchAll } from '../support/watch.js';

const OUTAGE_MS = 4_000;

interface Call {
  phase: 'before' | 'outage' | 'after';
  ok: boolean;
  code?: string;
  reason?: string;
  ms: number;
}

async function until<T>(what: string, attempt: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Stops PostgreSQL (a throwaway cluster this test owns) for a few seconds
 * while two replicas serve a steady load and hold open streams.
 */
describe('PostgreSQL outage under load', () => {
  let cluster: ThrowawayCluster;
  let replicas: ServerProcess[] = [];
  let a: Clients;
  let b: Clients;

  beforeAll(async () => {
    cluster = await ThrowawayCluster.create({ maxConnections: 60 });
    const env = {
      DATABASE_URL: cluster.url,
      NEXUS_ENCRYPTION_KEYS: KeyRing.generate('o1').toSpec(),
      NEXUS_ADMIN_API_KEY: ADMIN_KEY,
      NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
      NEXUS_STREAM_HEARTBEAT_MS: '500',
    };
    replicas = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    a = clients(replicas[0]!.baseUrl, ADMIN_KEY);
    b = clients(replicas[1]!.baseUrl, ADMIN_KEY, 'grpc');
    await a.providers.createProvider({ provider: apiKeyProvider() });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await cluster?.destroy();
  });

  it('fails fast with UNAVAILABLE, keeps or retryably ends streams, and recovers without a restart', async () => {
    const id = await staticConnection(a, 'ws-load');
    const watcher = watchAll(b, { workspaceId: 'ws-o' });
    await watcher.ready();
    const before = await staticConnection(a, 'ws-o');
    await watcher.until((r) => r.liveEvents.length >= 2, 'the first connection');
    const cursorBefore = watcher.lastCursor;

    // Steady load on both replicas: reads that always touch the database, and GetToken.
    let phase: Call['phase'] = 'before';
    let running = true;
    const calls: Call[] = [];
    const worker = async (api: Clients, n: number) => {
      while (running) {
        const started = Date.now();
        const at = phase;
        try {
          if (n % 3 === 0) await api.tokens.getToken({ connectionId: id }, { timeoutMs: 20_000 });
          else if (n % 3 === 1) await api.connections.getConnection({ connectionId: id }, { timeoutMs: 20_000 });
          else await api.connections.listConnections({ workspaceId: 'ws-load' }, { timeoutMs: 20_000 });
          calls.push({ phase: at, ok: true, ms: Date.now() - started });
        } catch (err) {
          const e = ConnectError.from(err);
          calls.push({ phase: at, ok: false, code: Code[e.code], reason: e.findDetails(ErrorInfoSchema)[0]?.reason, ms: Date.now() - started });
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3, 4, 5].map((n) => worker(n % 2 ? b : a, n)));
    await new Promise((r) => setTimeout(r, 500));

    await cluster.stop();
    phase = 'outage';
    await new Promise((r) => setTimeout(r, 1_000));
    // A stream opened while the database is down is refused with a retryable code.
    const during = watchAll(a, { workspaceId: 'ws-o' });
    await during.done;
    expect(during.error?.code).toBe(Code.Unavailable);
    expect(during.error?.findDetails(ErrorInfoSchema)[0]?.reason).toBe('ERROR_REASON_SERVICE_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, OUTAGE_MS - 1_000));
    const heartbeatsInOutage = watcher.heartbeats;

    await cluster.start();
    phase = 'after';
    // New RPCs succeed on both replicas, with no restart.
    await until('GetConnection on A', () => a.connections.getConnection({ connectionId: id }));
    await until('GetConnection on B', () => b.connections.getConnection({ connectionId: id }));
    // A change made as soon as the database is back: B's listener may not have reconnected yet, so this
    // is delivered by the catch-up replay if not by NOTIFY.
    const after = await until('a change through A', () => staticConnection(a, 'ws-o'));
    await new Promise((r) => setTimeout(r, 1_500));
    running = false;
    await load;

    // Unary calls: fast UNAVAILABLE with a reason during the outage; never INTERNAL, never a hang.
    const failed = calls.filter((c) => !c.ok);
    expect(calls.filter((c) => c.phase === 'outage' && !c.ok).length).toBeGreaterThan(10);
    for (const c of failed) {
      expect({ code: c.code, reason: c.reason }).toEqual({ code: 'Unavailable', reason: 'ERROR_REASON_SERVICE_UNAVAILABLE' });
      expect(c.ms).toBeLessThan(6_000);
    }
    expect(calls.filter((c) => c.phase === 'after' && c.ok).length).toBeGreaterThan(10);
    // The last calls all succeeded: recovered.
    expect(calls.slice(-12).every((c) => c.ok)).toBe(true);

    // The open stream either stayed open (heartbeats throughout) or ended with a retryable code.
    if (watcher.ended) {
      expect(watcher.error?.code).toBe(Code.Unavailable);
    } else {
      expect(heartbeatsInOutage).toBeGreaterThan(2);
      await watcher.until((r) => r.liveEvents.length >= 5, 'the change made after the outage');
      // `after` supersedes `before` (same workspace and provider).
      expect(summary(watcher.liveEvents)).toEqual([
        ['CREATED', before],
        ['ACTIVE', before],
        ['CREATED', after],
        ['ACTIVE', after],
        ['REVOKED', before],
      ]);
    }
    await watcher.stop();

    // Events flow again live, and a client resuming with a cursor from before the outage misses nothing.
    const live = watchAll(a, { workspaceId: 'ws-o' });
    await live.ready();
    await b.connections.deleteConnection({ connectionId: after });
    await live.until((r) => r.liveEvents.length >= 1, 'a live event after recovery');
    expect(summary(live.liveEvents)).toEqual([['DELETED', after]]);
    await live.stop();
    const resumed = watchAll(b, { workspaceId: 'ws-o', resumeCursor: cursorBefore });
    await resumed.until((r) => r.heartbeats > 0 && r.events.length >= 4, 'the replay');
    expect(summary(resumed.events)).toEqual([
      ['CREATED', after],
      ['ACTIVE', after],
      ['REVOKED', before],
      ['DELETED', after],
    ]);
    await resumed.stop();

    for (const r of replicas) expect(r.output()).not.toContain('unexpected error in RPC');
    // Each replica's listening session was lost and came back by itself.
    for (const r of replicas) expect(r.output()).toContain('event listener reconnected');
  }, 120_000);
});

import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/crypto/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, RETURN_URL, clients, type Clients } from '../support/test-app.js';
import { StreamRecorder, staticConnection, summary, watchAll, watchOne } from '../support/watch.js';

describe('WatchConnection(s) across two server processes on one PostgreSQL', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let a: ServerProcess;
  let b: ServerProcess;
  let apiA: Clients;
  let apiB: Clients;
  const open: StreamRecorder[] = [];
  const track = (r: StreamRecorder) => (open.push(r), r);

  beforeAll(async () => {
    db = await createTestDatabase();
    env = {
      DATABASE_URL: db.url,
      NEXUS_ENCRYPTION_KEYS: KeyRing.generate('w1').toSpec(),
      NEXUS_ADMIN_API_KEY: ADMIN_KEY,
      NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
      NEXUS_STREAM_HEARTBEAT_MS: '400',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    apiA = clients(a.baseUrl, ADMIN_KEY);
    apiB = clients(b.baseUrl, ADMIN_KEY, 'grpc');
    await apiA.providers.createProvider({ provider: apiKeyProvider() });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(open.map((r) => r.stop()));
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
  });

  it('a change made through replica A reaches watchers on replica B, filtered, snapshot first', async () => {
    const before = await staticConnection(apiA, 'ws-x');
    const all = track(watchAll(apiB, { workspaceId: 'ws-x' }));
    const other = track(watchAll(apiB, { workspaceId: 'ws-y' }));
    await Promise.all([all.ready(), other.ready()]);
    expect(summary(all.events)).toEqual([['SNAPSHOT', before]]);
    const one = track(watchOne(apiB, before));
    await one.ready();

    const id = await staticConnection(apiA, 'ws-x');
    await apiA.connections.deleteConnection({ connectionId: id });
    await all.until((r) => r.liveEvents.length >= 4, 'the events made on A');
    expect(summary(all.liveEvents)).toEqual([
      ['CREATED', id],
      ['ACTIVE', id],
      ['REVOKED', before],
      ['DELETED', id],
    ]);
    await one.until((r) => r.liveEvents.length >= 1, 'the supersede of the watched connection');
    expect(summary(one.liveEvents)).toEqual([['REVOKED', before]]);
    await other.until((r) => r.heartbeats >= 3, 'heartbeats on the unrelated stream');
    expect(other.events).toEqual([]);
  });

  it('a watcher resumes on the other replica with its cursor: nothing missed, nothing twice', async () => {
    const first = track(watchAll(apiA, { workspaceId: 'ws-r' }));
    await first.ready();
    const x = await staticConnection(apiB, 'ws-r');
    await first.until((r) => r.liveEvents.length >= 2, 'x created and active');
    const cursor = first.lastCursor;
    await first.stop();

    const y = await staticConnection(apiA, 'ws-r');
    await apiB.connections.deleteConnection({ connectionId: y });

    const second = track(watchAll(apiB, { workspaceId: 'ws-r', resumeCursor: cursor }));
    await second.ready();
    expect(summary(second.events)).toEqual([
      ['CREATED', y],
      ['ACTIVE', y],
      ['REVOKED', x],
      ['DELETED', y],
    ]);
  });

  it('SIGTERM ends open streams with UNAVAILABLE at once; the client resumes on the other replica', async () => {
    // Started here, not in beforeAll: this replica is the one that stops.
    const c = await startServerProcess(env);
    const apiC = clients(c.baseUrl, ADMIN_KEY);
    const streams = [track(watchAll(apiC, { workspaceId: 'ws-s' })), track(watchAll(clients(c.baseUrl, ADMIN_KEY, 'grpc'), { workspaceId: 'ws-s' }))];
    await Promise.all(streams.map((s) => s.ready()));
    const z = await staticConnection(apiA, 'ws-s');
    await Promise.all(streams.map((s) => s.until((r) => r.liveEvents.length >= 2, 'z on C')));

    const started = Date.now();
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const s of streams) {
      await s.done;
      await expectConnectError(Promise.reject(s.error), Code.Unavailable, 'SERVER_SHUTTING_DOWN');
    }
    await apiA.connections.deleteConnection({ connectionId: z });
    const resumed = track(watchAll(apiA, { workspaceId: 'ws-s', resumeCursor: streams[0]!.lastCursor }));
    await resumed.ready();
    expect(summary(resumed.events)).toEqual([['DELETED', z]]);
  }, 90_000);
});

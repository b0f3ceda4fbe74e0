import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionEventType, ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { encodeCursor } from '../../src/domain/connections/event-cursor.js';
import { connectViaConsent } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, basicAuthProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';
import { StreamRecorder, staticConnection, summary, watchAll, watchOne } from '../support/watch.js';

const SECRET_KEY = 'ak_watch_secret_5e1f0c9d';

describe.each(BACKENDS)('WatchConnection(s) in one process (%s)', (backend) => {
  let auth: TestAuthServer;
  let nexus: TestApp;
  let api: Clients;
  const open: StreamRecorder[] = [];
  const track = (r: StreamRecorder) => (open.push(r), r);

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend, config: { streamHeartbeatMs: 300 } });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: apiKeyProvider() });
    await api.providers.createProvider({ provider: basicAuthProvider() });
    await api.providers.createProvider({ provider: oauthProvider(auth) });
  });
  afterAll(async () => {
    await Promise.all(open.map((r) => r.stop()));
    await nexus?.close();
    await auth?.stop();
  });

  it('sends the snapshot first, then every change of the project, and never a credential', async () => {
    const existing = await staticConnection(api, 'ws-snap');
    const w = track(watchAll(api));
    await w.ready();
    expect(w.items[0]!.item.case).toBe('event');
    const snapshot = w.events.filter((e) => e.type === ConnectionEventType.SNAPSHOT);
    expect(snapshot.map((e) => e.connection!.id)).toContain(existing);
    expect(snapshot.find((e) => e.connection!.id === existing)!.connection!.status).toBe(ConnectionStatus.ACTIVE);
    expect(w.events.every((e) => e.type === ConnectionEventType.SNAPSHOT)).toBe(true);

    const created = await api.connections.createConnection({
      workspaceId: 'ws-snap',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    const id = created.connection!.id;
    await api.connections.submitCredentials({ state: created.state, credentials: { api_key: SECRET_KEY } });
    await api.connections.deleteConnection({ connectionId: id });
    await w.until((r) => r.liveEvents.length >= 4, 'four live events');
    // Activation supersedes the older connection of the same workspace and provider.
    expect(summary(w.liveEvents)).toEqual([
      ['CREATED', id],
      ['ACTIVE', id],
      ['REVOKED', existing],
      ['DELETED', id],
    ]);
    const revoked = w.liveEvents[2]!.connection!;
    expect(revoked.status).toBe(ConnectionStatus.REVOKED);
    expect(revoked.statusReason).toBe('superseded');
    expect(revoked.supersededBy).toBe(id);
    expect(w.liveEvents[3]!.connection!.statusReason).toBe('deleted');
    for (const e of w.events) expect(e.eventTime).toBeDefined();
    expect(
      JSON.stringify(
        w.items.map((i) => i.item.value),
        (_k, v) => (typeof v === 'bigint' ? String(v) : v),
      ),
    ).not.toContain(SECRET_KEY);
    // The stored events carry no credential either.
    const stored = await nexus.app.database.dataSource.query('SELECT connection::text AS c FROM connection_events');
    expect(stored.length).toBeGreaterThan(0);
    for (const row of stored) expect(row.c).not.toContain(SECRET_KEY);
  });

  it('filters WatchConnections by workspace and by provider (id or name)', async () => {
    const byWorkspace = track(watchAll(api, { workspaceId: 'ws-filter-a' }));
    const byProvider = track(watchAll(api, { provider: 'legacy-crm' }));
    const providerId = (await api.providers.getProvider({ provider: 'legacy-crm' })).provider!.id;
    const byProviderId = track(watchAll(api, { provider: providerId, workspaceId: 'ws-filter-b' }));
    await Promise.all([byWorkspace.ready(), byProvider.ready(), byProviderId.ready()]);
    const a = await staticConnection(api, 'ws-filter-a');
    const b = await staticConnection(api, 'ws-filter-b', 'legacy-crm');
    const c = await staticConnection(api, 'ws-filter-c', 'legacy-crm');
    await byProvider.until((r) => r.liveEvents.length >= 4, 'events of b and c');
    await byWorkspace.until((r) => r.liveEvents.length >= 2, 'events of a');
    await byProviderId.until((r) => r.liveEvents.length >= 2, 'events of b');
    // A last change everyone would see if they did not filter, to be sure nothing else is in flight.
    await staticConnection(api, 'ws-filter-z');
    await new Promise((r) => setTimeout(r, 300));
    expect(summary(byWorkspace.liveEvents)).toEqual([
      ['CREATED', a],
      ['ACTIVE', a],
    ]);
    expect(summary(byProvider.liveEvents)).toEqual([
      ['CREATED', b],
      ['ACTIVE', b],
      ['CREATED', c],
      ['ACTIVE', c],
    ]);
    expect(summary(byProviderId.liveEvents)).toEqual([
      ['CREATED', b],
      ['ACTIVE', b],
    ]);
  });

  it('WatchConnection sends one connection: its state, then only its changes (refresh, attention required)', async () => {
    const { created } = await connectViaConsent(auth, api, 'ws-one');
    const id = created.connection!.id;
    const other = await staticConnection(api, 'ws-one');
    const w = track(watchOne(api, id));
    await w.ready();
    expect(summary(w.events)).toEqual([['SNAPSHOT', id]]);
    expect(w.events[0]!.connection!.status).toBe(ConnectionStatus.ACTIVE);
    await api.tokens.refreshToken({ connectionId: id });
    await api.connections.deleteConnection({ connectionId: other });
    auth.refreshMode = 'invalid_grant';
    try {
      await expectConnectError(api.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    } finally {
      auth.refreshMode = 'ok';
    }
    await w.until((r) => r.liveEvents.length >= 2, 'refresh and attention required');
    expect(summary(w.liveEvents)).toEqual([
      ['REFRESHED', id],
      ['ATTENTION_REQUIRED', id],
    ]);
    expect(w.liveEvents[0]!.connection!.tokenExpireTime).toBeDefined();
    expect(w.liveEvents[1]!.connection!.status).toBe(ConnectionStatus.ATTENTION_REQUIRED);
    expect(w.liveEvents[1]!.connection!.statusReason).toBe('invalid_grant');
  });

  it('reports a denied consent as FAILED', async () => {
    const w = track(watchAll(api, { workspaceId: 'ws-denied' }));
    await w.ready();
    auth.denyConsent = true;
    try {
      const { created } = await connectViaConsent(auth, api, 'ws-denied');
      await w.until((r) => r.liveEvents.length >= 2, 'created and failed');
      expect(summary(w.liveEvents)).toEqual([
        ['CREATED', created.connection!.id],
        ['FAILED', created.connection!.id],
      ]);
      expect(w.liveEvents[1]!.connection!.statusReason).toBe('access_denied');
    } finally {
      auth.denyConsent = false;
    }
  });

  it('resumes from a cursor: the changes made while disconnected, nothing twice, then live', async () => {
    const first = track(watchAll(api, { workspaceId: 'ws-resume' }));
    await first.ready();
    const a = await staticConnection(api, 'ws-resume');
    await first.until((r) => r.liveEvents.length >= 2, 'a created and active');
    const cursor = first.lastCursor;
    await first.stop();

    const b = await staticConnection(api, 'ws-resume');
    await api.connections.deleteConnection({ connectionId: b });
    await staticConnection(api, 'ws-elsewhere');

    const second = track(watchAll(api, { workspaceId: 'ws-resume', resumeCursor: cursor }));
    await second.ready();
    // No snapshot: exactly what happened after the cursor.
    expect(summary(second.events)).toEqual([
      ['CREATED', b],
      ['ACTIVE', b],
      ['REVOKED', a],
      ['DELETED', b],
    ]);
    const c = await staticConnection(api, 'ws-resume');
    await second.until((r) => r.liveEvents.length >= 2, 'live events after the replay');
    expect(summary(second.liveEvents)).toEqual([
      ['CREATED', c],
      ['ACTIVE', c],
    ]);

    // A heartbeat's cursor resumes just as well: nothing after it, nothing again.
    await second.until((r) => r.items.at(-1)!.item.case === 'heartbeat', 'a heartbeat after the events');
    const third = track(watchAll(api, { workspaceId: 'ws-resume', resumeCursor: second.lastCursor }));
    await third.ready();
    expect(third.events).toEqual([]);

    // WatchConnection resumes too.
    const single = track(watchOne(api, c, cursor));
    await single.ready();
    expect(summary(single.events)).toEqual([
      ['CREATED', c],
      ['ACTIVE', c],
    ]);
  });

  it('sends heartbeats', async () => {
    const w = track(watchAll(api, { workspaceId: 'ws-quiet' }));
    await w.until((r) => r.heartbeats >= 4, 'four heartbeats', 5_000);
    expect(w.events).toEqual([]);
    for (const item of w.items) expect(item.item.case === 'heartbeat' && item.item.value.time).toBeTruthy();
  });

  it('works over gRPC (HTTP/2) and gRPC-Web as over Connect', async () => {
    for (const kind of ['grpc', 'grpc-web'] as const) {
      const w = track(watchAll(clients(nexus.baseUrl, ADMIN_KEY, kind), { workspaceId: `ws-${kind}` }));
      await w.ready();
      const id = await staticConnection(api, `ws-${kind}`);
      await w.until((r) => r.liveEvents.length >= 2, `events over ${kind}`);
      expect(summary(w.liveEvents)).toEqual([
        ['CREATED', id],
        ['ACTIVE', id],
      ]);
    }
  });

  it('refuses bad cursors, unknown connections and providers, other projects and missing scopes', async () => {
    const id = await staticConnection(api, 'ws-refuse');
    const refused = async (r: StreamRecorder, code: Code, reason: string) => {
      await r.done;
      expect(r.events).toEqual([]);
      expect({ code: Code[r.error?.code ?? Code.Unknown] }).toEqual({ code: Code[code] });
      await expectConnectError(Promise.reject(r.error), code, reason);
    };
    for (const bad of ['not-a-cursor!', 'bm9wZQ', Buffer.from('1:abc:1').toString('base64url'), 'x'.repeat(200)]) {
      await refused(watchAll(api, { resumeCursor: bad }), Code.InvalidArgument, 'RESUME_CURSOR_INVALID');
      await refused(watchOne(api, id, bad), Code.InvalidArgument, 'RESUME_CURSOR_INVALID');
    }
    const old = encodeCursor({ id: 1, at: new Date(Date.now() - 25 * 3_600_000) });
    await refused(watchAll(api, { resumeCursor: old }), Code.FailedPrecondition, 'RESUME_CURSOR_EXPIRED');
    await refused(watchOne(api, 'conn_01JZZZZZZZZZZZZZZZZZZZZZZZ'), Code.NotFound, 'CONNECTION_NOT_FOUND');
    await refused(watchOne(api, ''), Code.InvalidArgument, 'INVALID_FIELD');
    await refused(watchOne(api, 'c'.repeat(65)), Code.InvalidArgument, 'INVALID_FIELD');
    await refused(watchAll(api, { provider: 'no-such-provider' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await refused(watchAll(api, { workspaceId: 'w'.repeat(300) }), Code.InvalidArgument, 'INVALID_FIELD');

    await refused(watchAll(clients(nexus.baseUrl)), Code.Unauthenticated, 'UNAUTHENTICATED');
    const tokensOnly = clients(nexus.baseUrl, (await nexus.app.apiKeys.create('prj_default', 'agent', ['tokens'])).key);
    await refused(watchOne(tokensOnly, id), Code.PermissionDenied, 'SCOPE_MISSING');
    await refused(watchAll(tokensOnly), Code.PermissionDenied, 'SCOPE_MISSING');

    // Another project's key: the connection does not exist for it, and its project's stream stays silent.
    await nexus.app.store.projects.ensure('prj_watch_other', 'watch-other');
    const other = clients(nexus.baseUrl, (await nexus.app.apiKeys.create('prj_watch_other', 'k', ['admin'])).key);
    await refused(watchOne(other, id), Code.NotFound, 'CONNECTION_NOT_FOUND');
    await refused(watchAll(other, { provider: 'acme-api' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    const theirs = track(watchAll(other));
    await theirs.ready();
    expect(theirs.events).toEqual([]);
    await staticConnection(api, 'ws-refuse');
    await api.connections.deleteConnection({ connectionId: id });
    await theirs.until((r) => r.heartbeats >= 3, 'heartbeats after the changes');
    expect(theirs.events).toEqual([]);
  });

  it('prunes events past the retention', async () => {
    const { dataSource } = nexus.app.database;
    const [{ n: before }] = await dataSource.query('SELECT count(*)::int AS n FROM connection_events');
    expect(before).toBeGreaterThan(0);
    await dataSource.query(
      `UPDATE connection_events SET created_at = now() - interval '25 hours' WHERE id IN (SELECT id FROM connection_events ORDER BY id LIMIT 3)`,
    );
    expect(await nexus.app.events.prune()).toBe(3);
    const [{ n: after }] = await dataSource.query('SELECT count(*)::int AS n FROM connection_events');
    expect(after).toBe(before - 3);
  });
});

describe.each(BACKENDS)('stream limits and shutdown (%s)', (backend) => {
  it('refuses a snapshot larger than NEXUS_WATCH_SNAPSHOT_MAX; a narrower filter or a resume cursor is served', async () => {
    const nexus = await startTestApp({ backend, config: { watchSnapshotMax: 2, streamHeartbeatMs: 60_000 } });
    const api = clients(nexus.baseUrl, ADMIN_KEY);
    const open: StreamRecorder[] = [];
    try {
      await api.providers.createProvider({ provider: apiKeyProvider() });
      // Exactly at the limit: served.
      await staticConnection(api, 'ws-big');
      await staticConnection(api, 'ws-big');
      const atLimit = watchAll(api);
      open.push(atLimit);
      await atLimit.ready();
      expect(atLimit.events.filter((e) => e.type === ConnectionEventType.SNAPSHOT)).toHaveLength(2);
      const cursorBefore = atLimit.lastCursor;

      const small = await staticConnection(api, 'ws-small');
      const whole = watchAll(api);
      await whole.done;
      const err = await expectConnectError(Promise.reject(whole.error), Code.ResourceExhausted, 'SNAPSHOT_TOO_LARGE');
      expect(err.message).toContain('more than 2 connections');

      const narrow = watchAll(api, { workspaceId: 'ws-small' });
      open.push(narrow);
      await narrow.ready();
      expect(summary(narrow.events)).toEqual([['SNAPSHOT', small]]);
      // A cursor replays events instead of a snapshot: no limit applies.
      const resumed = watchAll(api, { resumeCursor: cursorBefore });
      open.push(resumed);
      await resumed.ready();
      expect(summary(resumed.events)).toEqual([
        ['CREATED', small],
        ['ACTIVE', small],
      ]);
    } finally {
      await Promise.all(open.map((s) => s.stop()));
      await nexus.close();
    }
  });

  it('refuses streams beyond NEXUS_MAX_STREAMS, and ends open streams on shutdown with UNAVAILABLE', async () => {
    const nexus = await startTestApp({ backend, config: { maxStreams: 2, streamHeartbeatMs: 60_000 } });
    const api = clients(nexus.baseUrl, ADMIN_KEY);
    const grpc = clients(nexus.baseUrl, ADMIN_KEY, 'grpc');
    const streams = [watchAll(api), watchAll(grpc)];
    let closed = false;
    try {
      await Promise.all(streams.map((s) => s.ready()));
      const third = watchAll(api);
      await third.done;
      await expectConnectError(Promise.reject(third.error), Code.ResourceExhausted, 'TOO_MANY_STREAMS');
      // A freed slot is usable again.
      await streams[0]!.stop();
      streams[0] = watchAll(api);
      await streams[0].ready();

      const started = Date.now();
      await nexus.close();
      closed = true;
      expect(Date.now() - started).toBeLessThan(5_000);
      for (const s of streams) {
        await s.done;
        await expectConnectError(Promise.reject(s.error), Code.Unavailable, 'SERVER_SHUTTING_DOWN');
      }
    } finally {
      await Promise.all(streams.map((s) => s.stop()));
      if (!closed) await nexus.close();
    }
  });
});

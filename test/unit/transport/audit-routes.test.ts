import { toJsonString } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditOutcome, AuditService, ListAuditEventsResponseSchema } from '../../../gen/ts/nexus/v1/audit_pb.js';
import { ApiKeys } from '../../../src/domain/access/api-keys.js';
import { AuditQueries } from '../../../src/domain/audit/audit-queries.js';
import { AuditRecorder } from '../../../src/domain/audit/audit-recorder.js';
import type { AuditEventInput } from '../../../src/domain/audit/types.js';
import type { ConnectionWatch } from '../../../src/domain/connections/connection-watch.js';
import type { StreamCredentials } from '../../../src/domain/connections/stream-credentials.js';
import { OPERATOR_PROJECT_ID } from '../../../src/domain/shared/principal.js';
import { AuditHandler } from '../../../src/transport/handlers/audit-handler.js';
import { bearer, routeClient, unreachable } from '../../support/admin-router.js';
import { expectConnectError } from '../../support/errors.js';
import { fakePersistence, type FakePersistence } from '../../support/fake-persistence.js';

// AuditService.ListAuditEvents over createRouterTransport with in-memory
// ports: events are written by the real AuditRecorder (hash-chained) at
// times a fake clock sets, and read back through the real handler,
// AuditQueries, access and error interceptors. Filters, paging, and whose
// log a key may read.

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;

describe('AuditService routes over fake ports', () => {
  let store: FakePersistence;
  let now: number;
  let recorder: AuditRecorder;
  let operator: string;
  let acmeAdmin: string;
  let client: ReturnType<typeof routeClient<typeof AuditService>>;
  const acme = 'prj_acme';
  const other = 'prj_other';

  const event = (over: Partial<AuditEventInput>): AuditEventInput => ({
    projectId: acme,
    actor: { kind: 'api_key', keyId: 'key_a' },
    action: 'token.read',
    target: { type: 'connection', id: 'con_1' },
    outcome: 'success',
    ...over,
  });

  // Acme's log, one event a minute from T0; one event in another project.
  const LOG: AuditEventInput[] = [
    event({ detail: { cached: true } }),
    event({ actor: { kind: 'system' }, action: 'token.refresh', outcome: 'failed', reason: 'PROVIDER_UNAVAILABLE' }),
    event({ actor: { kind: 'api_key', keyId: 'key_b' }, action: 'connection.delete', target: { type: 'connection', id: 'con_2' } }),
    event({ actor: { kind: 'api_key', keyId: 'key_b' }, target: { type: 'connection', id: 'con_2' }, outcome: 'denied', reason: 'SCOPE_MISSING' }),
    event({ actor: { kind: 'operator', keyId: 'key_op' }, action: 'project.update', target: { type: 'project', id: acme } }),
    event({ projectId: other, action: 'token.read', target: { type: 'connection', id: 'con_secret_other' } }),
  ];

  beforeEach(async () => {
    now = T0;
    store = fakePersistence(() => now);
    for (const [id, name] of [
      [OPERATOR_PROJECT_ID, 'default'],
      [acme, 'acme'],
      [other, 'other'],
    ] as const)
      await store.projects.ensure(id, name);
    const apiKeys = new ApiKeys(store, () => now);
    operator = (await apiKeys.create(OPERATOR_PROJECT_ID, 'operator', ['operator'])).key;
    acmeAdmin = (await apiKeys.create(acme, 'admin', ['admin'])).key;
    recorder = new AuditRecorder(store.audit, { flushMs: 1_000, maxBuffered: 100, clock: () => now });
    for (const [i, e] of LOG.entries()) {
      now = T0 + Math.min(i, 4) * MIN;
      await recorder.write(e);
    }
    const queries = new AuditQueries(store.audit, { heartbeatMs: 60_000, pollMs: 60_000 });
    // ListAuditEvents never streams: the watch's collaborators must stay untouched.
    const handler = new AuditHandler(queries, unreachable<ConnectionWatch>('streams'), unreachable<StreamCredentials>('streamCredentials'));
    client = routeClient(AuditService, handler, apiKeys);
  });

  afterEach(() => recorder.close());

  const list = (req: Parameters<typeof client.listAuditEvents>[0], key = acmeAdmin) => client.listAuditEvents(req, bearer(key));
  const seqs = async (req: Parameters<typeof client.listAuditEvents>[0], key = acmeAdmin) => (await list(req, key)).events.map((e) => Number(e.seq));

  it("lists the caller's project's log in seq order, hash-chained, with every field", async () => {
    const { events, nextPageToken } = await list({});
    expect(events.map((e) => Number(e.seq))).toEqual([1, 2, 3, 4, 5]);
    expect(nextPageToken).toBe('');
    for (let i = 1; i < events.length; i++) expect(events[i]!.prevHash).toBe(events[i - 1]!.hash);
    expect(events[0]).toMatchObject({
      projectId: acme,
      actor: { kind: 'api_key', id: 'key_a' },
      action: 'token.read',
      targetType: 'connection',
      targetId: 'con_1',
      outcome: AuditOutcome.SUCCESS,
      detail: { cached: 'true' },
    });
    expect(events[1]).toMatchObject({ actor: { kind: 'system', id: '' }, outcome: AuditOutcome.FAILED, reason: 'PROVIDER_UNAVAILABLE' });
    expect(Number(events[2]!.time!.seconds) * 1000).toBe(T0 + 2 * MIN);
    expect(toJsonString(ListAuditEventsResponseSchema, await list({}))).not.toContain('con_secret_other');
  });

  it('filters by action (exact or prefix), actor, target, outcome and time range', async () => {
    expect(await seqs({ action: 'token.read' })).toEqual([1, 4]);
    expect(await seqs({ action: 'token.' })).toEqual([1, 2, 4]);
    expect(await seqs({ action: 'token' })).toEqual([]);
    expect(await seqs({ actorId: 'key_b' })).toEqual([3, 4]);
    expect(await seqs({ targetType: 'connection', targetId: 'con_2' })).toEqual([3, 4]);
    expect(await seqs({ targetType: 'project' })).toEqual([5]);
    expect(await seqs({ outcome: AuditOutcome.DENIED })).toEqual([4]);
    expect(await seqs({ outcome: AuditOutcome.FAILED, action: 'token.' })).toEqual([2]);
    // start inclusive, end exclusive
    expect(await seqs({ startTime: timestampFromMs(T0 + MIN), endTime: timestampFromMs(T0 + 3 * MIN) })).toEqual([2, 3]);
    expect(await seqs({ startTime: timestampFromMs(T0 + 4 * MIN + 1) })).toEqual([]);
  });

  it('refuses bad filters with INVALID_FIELD', async () => {
    await expectConnectError(list({ startTime: timestampFromMs(T0 + MIN), endTime: timestampFromMs(T0) }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(list({ action: 'x'.repeat(257) }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(list({ outcome: 99 as AuditOutcome }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(list({ pageSize: 100_000 }), Code.InvalidArgument, 'INVALID_FIELD');
  });

  it('pages through the log without gaps or repeats; a token is bound to its filters', async () => {
    const pages: number[][] = [];
    let token = '';
    do {
      const page = await list({ pageSize: 2, pageToken: token });
      pages.push(page.events.map((e) => Number(e.seq)));
      token = page.nextPageToken;
    } while (token && pages.length < 10);
    expect(pages).toEqual([[1, 2], [3, 4], [5]]);
    const filtered = await list({ action: 'token.', pageSize: 2 });
    expect(filtered.events.map((e) => Number(e.seq))).toEqual([1, 2]);
    expect(await seqs({ action: 'token.', pageSize: 2, pageToken: filtered.nextPageToken })).toEqual([4]);
    await expectConnectError(list({ action: 'connection.', pageSize: 2, pageToken: filtered.nextPageToken }), Code.InvalidArgument, 'PAGE_TOKEN_INVALID');
    // Nor does a token carry a project: the operator's own log with acme's token is refused.
    await expectConnectError(list({ action: 'token.', pageSize: 2, pageToken: filtered.nextPageToken }, operator), Code.InvalidArgument, 'PAGE_TOKEN_INVALID');
  });

  it("is for admin keys, of their own project; only the operator reads another project's log", async () => {
    const apiKeys = new ApiKeys(store, () => now);
    const tokensOnly = (await apiKeys.create(acme, 'app', ['tokens'])).key;
    const connectionsOnly = (await apiKeys.create(acme, 'ui', ['connections'])).key;
    await expectConnectError(client.listAuditEvents({}), Code.Unauthenticated, 'UNAUTHENTICATED');
    for (const key of [tokensOnly, connectionsOnly]) await expectConnectError(list({}, key), Code.PermissionDenied, 'SCOPE_MISSING');
    await expectConnectError(list({ projectId: other }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    expect(await seqs({ projectId: acme })).toEqual([1, 2, 3, 4, 5]);
    const otherAdmin = (await apiKeys.create(other, 'admin', ['admin'])).key;
    expect((await list({}, otherAdmin)).events.map((e) => e.targetId)).toEqual(['con_secret_other']);
    expect(await seqs({ projectId: acme }, operator)).toEqual([1, 2, 3, 4, 5]);
    expect(await seqs({}, operator)).toEqual([]);
  });
});

import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { loadLoadConfig } from '../../src/config/config.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, clients, startTestApp, type TestApp } from '../support/test-app.js';
import { watchAll, type StreamRecorder } from '../support/watch.js';

/**
 * One end user could take every stream: a `connections`-scope key opened
 * all NEXUS_MAX_STREAMS and the operator's admin key then got
 * TOO_MANY_STREAMS. Streams are now quota'd per API key (and per end-user
 * workspace), and the last NEXUS_STREAMS_ADMIN_RESERVE are kept for admin keys.
 */
describe('stream quotas', () => {
  let nexus: TestApp;
  let userKey: string;
  let otherKey: string;
  const open: StreamRecorder[] = [];

  beforeAll(async () => {
    nexus = await startTestApp({
      backend: 'postgres',
      config: {
        maxStreams: 6,
        streamHeartbeatMs: 60_000,
        load: { ...loadLoadConfig({}), maxStreamsPerPrincipal: 3, streamsAdminReserve: 2 },
      },
    });
    userKey = (await nexus.app.apiKeys.create('prj_default', 'end-user backend', ['connections'])).key;
    otherKey = (await nexus.app.apiKeys.create('prj_default', 'another backend', ['connections'])).key;
  });

  afterAll(async () => {
    await Promise.all(open.map((s) => s.stop()));
    await nexus?.close();
  });

  async function watch(key: string): Promise<StreamRecorder> {
    const s = watchAll(clients(nexus.baseUrl, key));
    open.push(s);
    await s.ready().catch(() => {});
    return s;
  }

  it('a key gets its quota, then STREAM_QUOTA_EXCEEDED with a RetryInfo; another key still gets streams', async () => {
    for (let i = 0; i < 3; i++) expect((await watch(userKey)).error).toBeUndefined();
    const refused = await watch(userKey);
    await refused.done;
    const err = await expectConnectError(Promise.reject(refused.error), Code.ResourceExhausted, 'STREAM_QUOTA_EXCEEDED');
    expect(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds).toBeGreaterThan(0n);
    expect((await watch(otherKey)).error).toBeUndefined();
  });

  it('the last streams are reserved for admin keys: a non-admin key is refused, the admin key is not', async () => {
    // 4 of 6 streams are open; 2 are reserved for admins.
    const refused = await watch(otherKey);
    await refused.done;
    await expectConnectError(Promise.reject(refused.error), Code.ResourceExhausted, 'STREAM_QUOTA_EXCEEDED');
    const admin1 = await watch(ADMIN_KEY);
    const admin2 = await watch(ADMIN_KEY);
    expect(admin1.error).toBeUndefined();
    expect(admin2.error).toBeUndefined();
    // Now the server is full for everyone.
    const full = await watch(ADMIN_KEY);
    await full.done;
    await expectConnectError(Promise.reject(full.error), Code.ResourceExhausted, 'TOO_MANY_STREAMS');
  });

  it('a closed stream frees its slot in the quota', async () => {
    const mine = open.filter((s) => s.error === undefined);
    await Promise.all(mine.map((s) => s.stop()));
    for (let i = 0; i < 50 && nexus.app.watch.openStreams > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(nexus.app.watch.openStreams).toBe(0);
    for (let i = 0; i < 3; i++) expect((await watch(userKey)).error).toBeUndefined();
  });
});

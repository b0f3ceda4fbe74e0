import { Code, type ConnectError } from '@connectrpc/connect';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema, RetryInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { loadLoadConfig, type LoadConfig } from '../../src/config/config.js';
import type { QuotaOverride } from '../../src/domain/model/project-quotas.js';
import { KeyRing } from '../../src/crypto/index.js';
import { DEFAULT_PROJECT_ID } from '../../src/domain/shared/workspace-scope.js';
import { enforceHttpQuota } from '../../src/http/quota.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, clients, governanceClients, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Authenticated callers had no quota: one key could call as fast as the
 * server answered. Every authenticated RPC now spends a token bucket of its
 * API key and one of its client IP within the project; a refusal is
 * RESOURCE_EXHAUSTED / RATE_LIMITED with the real wait in a RetryInfo. The
 * clock is injected: nothing here sleeps.
 */

const NONE: QuotaOverride = { keyRatePerSecond: null, keyBurst: null, ipRatePerSecond: null, ipBurst: null };

function quotaLoad(quotas: Partial<LoadConfig>): LoadConfig {
  return { ...loadLoadConfig({}), unauthRatePerSecond: 100_000, unauthBurst: 100_000, ...quotas };
}

/** One authenticated call (ListProviders: any valid key may make it). */
function call(nexus: TestApp, key: string) {
  return clients(nexus.baseUrl, key).providers.listProviders({});
}

async function refusal(promise: Promise<unknown>, quota: 'api_key' | 'client_ip'): Promise<{ err: ConnectError; retryMs: number }> {
  const err = await expectConnectError(promise, Code.ResourceExhausted, 'RATE_LIMITED');
  expect(err.findDetails(ErrorInfoSchema)[0]!.metadata).toEqual({ quota });
  const delay = err.findDetails(RetryInfoSchema)[0]!.retryDelay!;
  return { err, retryMs: Number(delay.seconds) * 1000 + delay.nanos / 1e6 };
}

async function refusalsMetric(nexus: TestApp): Promise<string[]> {
  const text = await (await fetch(`${nexus.baseUrl}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('nexus_quota_refusals_total{'));
}

describe.each(BACKENDS)('call quotas of authenticated callers (%s)', (backend) => {
  let nexus: TestApp;
  const clock = { now: 1_000_000 };
  const keys: Record<string, string> = {};

  async function newKey(projectId: string, name: string): Promise<string> {
    if (projectId !== DEFAULT_PROJECT_ID) await nexus.app.store.projects.ensure(projectId, projectId);
    keys[name] = (await nexus.app.apiKeys.create(projectId, name, ['connections'])).key;
    return keys[name];
  }

  beforeAll(async () => {
    nexus = await startTestApp({
      backend,
      config: { load: quotaLoad({ quotaKeyRatePerSecond: 2, quotaKeyBurst: 3, quotaIpRatePerSecond: 1000, quotaIpBurst: 1000 }) },
      quotaClock: () => clock.now,
    });
  });

  afterAll(async () => {
    await nexus?.close();
  });

  it('a key over its quota gets RESOURCE_EXHAUSTED with the real wait, and is served again after it; another key of the project is not affected', async () => {
    const a = await newKey(DEFAULT_PROJECT_ID, 'agent-a');
    const b = await newKey(DEFAULT_PROJECT_ID, 'agent-b');
    for (let i = 0; i < 3; i++) await call(nexus, a);
    const { err, retryMs } = await refusal(call(nexus, a), 'api_key');
    // 2 calls per second and the clock has not moved: the next token is 500 ms away.
    expect(retryMs).toBe(500);
    expect(err.rawMessage).not.toContain(a);
    await refusal(call(nexus, a), 'api_key');
    // Another key of the same project, and the admin key, still have their whole budget.
    for (let i = 0; i < 3; i++) await call(nexus, b);
    await call(nexus, ADMIN_KEY);
    clock.now += 499;
    await refusal(call(nexus, a), 'api_key');
    clock.now += 1;
    await call(nexus, a);
    await refusal(call(nexus, a), 'api_key');
    for (const line of nexus.logs) expect(line).not.toContain(a);
  });

  it("one address is limited across every key of a project, with the project's own quota", async () => {
    const project = `prj_ip_${backend}`;
    const k = await Promise.all([0, 1, 2, 3].map((i) => newKey(project, `ip-${i}`)));
    await nexus.app.projectQuotas.set(project, { ...NONE, ipRatePerSecond: 1, ipBurst: 3 });
    for (let i = 0; i < 3; i++) await call(nexus, k[i]!);
    const { retryMs } = await refusal(call(nexus, k[3]!), 'client_ip');
    expect(retryMs).toBe(1000);
    // The default project's keys, from the same address, are not counted against it.
    await call(nexus, ADMIN_KEY);
    clock.now += 1000;
    await call(nexus, k[3]!);
    await refusal(call(nexus, k[0]!), 'client_ip');
  });

  it("a project's override applies to the next call, without a restart", async () => {
    const project = `prj_live_${backend}`;
    const key = await newKey(project, 'live');
    for (let i = 0; i < 3; i++) await call(nexus, key);
    await refusal(call(nexus, key), 'api_key');
    // The operator lifts the per-key quota for this project: served at once.
    await nexus.app.projectQuotas.set(project, { ...NONE, keyRatePerSecond: 0 });
    for (let i = 0; i < 20; i++) await call(nexus, key);
    // And tightens it: a burst of one call every 10 s.
    await nexus.app.projectQuotas.set(project, { ...NONE, keyRatePerSecond: 1, keyBurst: 1 });
    clock.now += 10_000;
    await call(nexus, key);
    expect((await refusal(call(nexus, key), 'api_key')).retryMs).toBe(1000);
    // Stored: a fresh read sees the override, on this database.
    const rows: { key_rate_per_second: number; key_burst: number }[] = await nexus.app.database.dataSource.query(
      'SELECT key_rate_per_second, key_burst FROM project_quotas WHERE project_id = $1',
      [project],
    );
    expect(rows).toEqual([{ key_rate_per_second: 1, key_burst: 1 }]);
  });

  it('counts refusals by project and kind, with no key, secret or address in a label', async () => {
    const lines = await refusalsMetric(nexus);
    const count = (project: string, kind: string) =>
      Number(lines.find((l) => l.startsWith(`nexus_quota_refusals_total{project="${project}",kind="${kind}"}`))?.split(' ')[1] ?? 0);
    expect(count(DEFAULT_PROJECT_ID, 'key')).toBe(4);
    expect(count(`prj_ip_${backend}`, 'ip')).toBe(2);
    expect(count(`prj_live_${backend}`, 'key')).toBe(2);
    const text = lines.join('\n');
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toMatch(/key_|nxs_/);
  });

  it("the operator sets a project's quotas through ProjectService; they apply to the next call", async () => {
    const operator = governanceClients(nexus.baseUrl, ADMIN_KEY).projects;
    // The operator's own key is in the default project, whose quota here is 2/s: lifted for this test.
    await nexus.app.projectQuotas.set(DEFAULT_PROJECT_ID, { ...NONE, keyRatePerSecond: 0 });
    const { project } = await operator.createProject({ project: { name: `quota-rpc-${backend}`, quotas: { keyRatePerSecond: 1, keyBurst: 2 } } });
    expect(project!.quotas).toMatchObject({ keyRatePerSecond: 1, keyBurst: 2 });
    expect([project!.quotas!.ipRatePerSecond, project!.quotas!.ipBurst]).toEqual([undefined, undefined]);
    expect(project!.effectiveQuotas).toMatchObject({ keyRatePerSecond: 1, keyBurst: 2, ipRatePerSecond: 1000, ipBurst: 1000 });
    const key = (await nexus.app.apiKeys.create(project!.id, 'rpc', ['connections'])).key;
    await call(nexus, key);
    await call(nexus, key);
    expect((await refusal(call(nexus, key), 'api_key')).retryMs).toBe(1000);

    // Lifted through UpdateProject (mask "quotas": an unset field goes back to the default): served at once.
    const updated = await operator.updateProject({ project: { id: project!.id, quotas: { keyRatePerSecond: 0 } }, updateMask: { paths: ['quotas'] } });
    expect(updated.project!.effectiveQuotas).toMatchObject({ keyRatePerSecond: 0, keyBurst: 3 });
    for (let i = 0; i < 10; i++) await call(nexus, key);
    const got = (await operator.getProject({ projectId: project!.id })).project!.quotas!;
    expect([got.keyRatePerSecond, got.keyBurst]).toEqual([0, undefined]);
    const listed = await operator.listProjects({ pageSize: 500 });
    expect(listed.projects.find((p) => p.id === project!.id)!.effectiveQuotas).toMatchObject({ keyRatePerSecond: 0 });
    expect(listed.projects.find((p) => p.id === DEFAULT_PROJECT_ID)!.effectiveQuotas).toMatchObject({ keyRatePerSecond: 0, keyBurst: 3, ipBurst: 1000 });

    // Out of bounds: refused, naming the field, and nothing changes (display name included).
    const bad = await expectConnectError(
      operator.updateProject({
        project: { id: project!.id, displayName: 'changed', quotas: { keyBurst: 0 } },
        updateMask: { paths: ['display_name', 'quotas'] },
      }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    expect(bad.findDetails(ErrorInfoSchema)[0]!.metadata).toMatchObject({ field: 'project.quotas.key_burst' });
    const after = (await operator.getProject({ projectId: project!.id })).project!;
    expect(after.displayName).not.toBe('changed');
    expect(after.quotas).toMatchObject({ keyRatePerSecond: 0 });

    // A project's own admin key cannot raise its quotas: ProjectService is the operator's.
    const tenantAdmin = (await nexus.app.apiKeys.create(project!.id, 'tenant-admin', ['admin'])).key;
    await expectConnectError(
      governanceClients(nexus.baseUrl, tenantAdmin).projects.updateProject({
        project: { id: project!.id, quotas: { keyRatePerSecond: 0 } },
        updateMask: { paths: ['quotas'] },
      }),
      Code.PermissionDenied,
      'OPERATOR_REQUIRED',
    );
  });

  it('HTTP routes that take an API key answer 429 with Retry-After', async () => {
    const project = `prj_http_${backend}`;
    await nexus.app.store.projects.ensure(project, project);
    await nexus.app.projectQuotas.set(project, { ...NONE, keyRatePerSecond: 1, keyBurst: 2 });
    const principal = { projectId: project, keyId: 'key_http', scopes: new Set(['connections'] as const) };
    const route = Fastify();
    route.get('/proxied', async (_req, reply) => {
      if (!(await enforceHttpQuota(nexus.app.quotas, principal, '192.0.2.1', reply))) return reply;
      return { ok: true };
    });
    try {
      expect((await route.inject('/proxied')).statusCode).toBe(200);
      expect((await route.inject('/proxied')).statusCode).toBe(200);
      const refused = await route.inject('/proxied');
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json()).toMatchObject({ code: 'resource_exhausted', reason: 'ERROR_REASON_RATE_LIMITED', quota: 'api_key', retry_after_ms: 1000 });
      clock.now += 1000;
      expect((await route.inject('/proxied')).statusCode).toBe(200);
    } finally {
      await route.close();
    }
    expect((await refusalsMetric(nexus)).some((l) => l.startsWith(`nexus_quota_refusals_total{project="${project}",kind="key"} 1`))).toBe(true);
  });
});

describe('quotas with two replicas (postgres)', () => {
  let db: TestDatabase;
  let replicas: TestApp[];
  const clock = { now: 5_000_000 };

  beforeAll(async () => {
    db = await createTestDatabase();
    const keyRing = KeyRing.generate('t1');
    // Each of 2 replicas enforces half: 4 per second and a burst of 6 become 2/s and 3 on each.
    const start = () =>
      startTestApp({
        backend: 'postgres',
        databaseUrl: db.url,
        keyRing,
        config: { load: quotaLoad({ quotaKeyRatePerSecond: 4, quotaKeyBurst: 6, quotaIpRatePerSecond: 1000, quotaIpBurst: 1000, quotaReplicas: 2 }) },
        quotaClock: () => clock.now,
      });
    replicas = [await start(), await start()];
  });

  afterAll(async () => {
    for (const r of replicas ?? []) await r.close();
    await db?.drop();
  });

  it('each replica enforces its share, so the two together allow the configured burst', async () => {
    const key = (await replicas[0]!.app.apiKeys.create(DEFAULT_PROJECT_ID, 'split', ['connections'])).key;
    for (const r of replicas) {
      for (let i = 0; i < 3; i++) await call(r, key);
      // 2 per second on each replica: 500 ms to the next call.
      expect((await refusal(call(r, key), 'api_key')).retryMs).toBe(500);
    }
  });

  it('an override set through one replica reaches the other within the cache TTL', async () => {
    const project = 'prj_replicated';
    await replicas[0]!.app.store.projects.ensure(project, project);
    const key = (await replicas[0]!.app.apiKeys.create(project, 'r', ['connections'])).key;
    // Replica 1 reads (and caches) the project's quotas: the defaults.
    for (let i = 0; i < 3; i++) await call(replicas[1]!, key);
    await refusal(call(replicas[1]!, key), 'api_key');
    await replicas[0]!.app.projectQuotas.set(project, { ...NONE, keyRatePerSecond: 0 });
    // Still cached on replica 1 ...
    await refusal(call(replicas[1]!, key), 'api_key');
    // ... until its cache expires (5 s): the call that finds it stale starts a re-read and is judged on the old answer.
    clock.now += 5_000;
    let served = 0;
    for (let i = 0; i < 50 && served < 10; i++) {
      try {
        await call(replicas[1]!, key);
        served++;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(served).toBe(10);
  });
});

// Projects and API keys through ProjectService and ApiKeyService, on both
// databases: the operator's work, a project admin's, and their refusals.
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../../gen/ts/nexus/v1/api_key_pb.js';
import { createApiKey, listApiKeys, parseDuration, revokeApiKey, rotateApiKey } from '../../src/cli/api-keys.js';
import { createProject, deleteProject, getProject, listProjects, updateProject } from '../../src/cli/projects.js';
import { setQuotas } from '../../src/cli/quotas.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, governanceClients, startTestApp, type TestApp } from '../support/test-app.js';

const minutes = (n: number) => ({ seconds: BigInt(n * 60), nanos: 0 });

describe.each(BACKENDS)('projects and API keys (%s)', (backend) => {
  let nexus: TestApp;
  let now = Date.parse('2026-12-01T09:00:00Z');
  const operator = () => governanceClients(nexus.baseUrl, ADMIN_KEY);

  beforeAll(async () => {
    nexus = await startTestApp({ backend, clock: () => now });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('the operator creates, reads, pages through, updates and deletes projects', async () => {
    const { projects } = operator();
    const created = (await projects.createProject({ project: { name: 'acme', displayName: 'Acme Corp', corsOrigins: ['https://console.acme.example'] } }))
      .project!;
    expect(created).toMatchObject({ name: 'acme', displayName: 'Acme Corp', corsOrigins: ['https://console.acme.example'], allowedReturnUrls: [] });
    expect(created.id).toMatch(/^prj_[0-9A-Z]{26}$/);
    await expectConnectError(projects.createProject({ project: { name: 'acme' } }), Code.AlreadyExists, 'PROJECT_ALREADY_EXISTS');
    await expectConnectError(projects.createProject({ project: { name: 'Not A Slug' } }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(
      projects.createProject({ project: { name: 'bad-origin', corsOrigins: ['https://x.example/path'] } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(
      projects.createProject({ project: { name: 'bad-return', allowedReturnUrls: ['ftp://x.example'] } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await projects.createProject({ project: { name: 'beta' } });
    expect((await projects.getProject({ projectId: created.id })).project).toEqual(created);
    await expectConnectError(projects.getProject({ projectId: 'prj_nosuchproject' }), Code.NotFound, 'PROJECT_NOT_FOUND');

    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await projects.listProjects({ pageSize: 1, pageToken });
      expect(page.projects.length).toBeLessThanOrEqual(1);
      seen.push(...page.projects.map((p) => p.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen.sort()).toEqual(['acme', 'beta', 'default']);
    await expectConnectError(projects.listProjects({ pageToken: 'garbage' }), Code.InvalidArgument, 'PAGE_TOKEN_INVALID');

    const updated = (
      await projects.updateProject({
        project: { id: created.id, displayName: 'Acme', allowedReturnUrls: ['https://acme.example/back/'], branding: { accentColor: '#FF0000' } },
        updateMask: { paths: ['display_name', 'allowed_return_urls', 'branding'] },
      })
    ).project!;
    expect(updated).toMatchObject({
      displayName: 'Acme',
      allowedReturnUrls: ['https://acme.example/back/'],
      corsOrigins: ['https://console.acme.example'],
      branding: { accentColor: '#ff0000' },
    });
    await expectConnectError(projects.updateProject({ project: { id: created.id }, updateMask: { paths: ['name'] } }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(projects.updateProject({ project: { id: 'prj_nosuchproject' } }), Code.NotFound, 'PROJECT_NOT_FOUND');
    await expectConnectError(projects.deleteProject({ projectId: 'prj_default', force: true }), Code.FailedPrecondition, 'PROJECT_PROTECTED');
  });

  it('an update without a mask changes only the fields it sets (AIP-134): quotas and settings left out are kept', async () => {
    const { projects } = operator();
    const made = (
      await projects.createProject({
        project: {
          name: 'masked',
          displayName: 'Masked',
          corsOrigins: ['https://masked.example'],
          allowedReturnUrls: ['https://masked.example/back/'],
          branding: { accentColor: '#112233' },
          quotas: { keyRatePerSecond: 7, ipBurst: 9 },
        },
      })
    ).project!;
    // The bug: an empty mask reset every mutable field the request left out, quotas included.
    const renamed = (await projects.updateProject({ project: { id: made.id, displayName: 'Renamed' } })).project!;
    expect(renamed).toMatchObject({
      displayName: 'Renamed',
      corsOrigins: ['https://masked.example'],
      allowedReturnUrls: ['https://masked.example/back/'],
      branding: { accentColor: '#112233' },
      quotas: { keyRatePerSecond: 7, ipBurst: 9 },
    });
    expect((await projects.getProject({ projectId: made.id })).project).toMatchObject({ displayName: 'Renamed', quotas: { keyRatePerSecond: 7, ipBurst: 9 } });
    // Quotas sent without a mask replace the project's quotas (all four, as the `quotas` path does); the rest stays.
    const requoted = (await projects.updateProject({ project: { id: made.id, quotas: { keyBurst: 40 } } })).project!;
    expect(requoted.quotas).toEqual(expect.objectContaining({ keyBurst: 40 }));
    expect(requoted.quotas?.keyRatePerSecond).toBeUndefined();
    expect([requoted.displayName, requoted.corsOrigins]).toEqual(['Renamed', ['https://masked.example']]);
    // Nothing set, no mask: nothing changes. Clearing a field takes a mask naming it.
    expect((await projects.updateProject({ project: { id: made.id } })).project).toMatchObject({
      displayName: 'Renamed',
      corsOrigins: ['https://masked.example'],
    });
    const cleared = (await projects.updateProject({ project: { id: made.id, corsOrigins: [] }, updateMask: { paths: ['cors_origins'] } })).project!;
    expect([cleared.corsOrigins, cleared.quotas?.keyBurst]).toEqual([[], 40]);
  });

  it('a project uses its own return URLs (else the global ones), and its CORS origins are allowed', async () => {
    const { projects, apiKeys } = operator();
    const project = (
      await projects.createProject({
        project: { name: 'urls', allowedReturnUrls: ['https://urls.example/back/'], corsOrigins: ['https://urls-console.example'] },
      })
    ).project!;
    const admin = (await apiKeys.createApiKey({ projectId: project.id, name: 'admin', scopes: [ApiKeyScope.ADMIN] })).secret;
    const c = clients(nexus.baseUrl, admin);
    await c.providers.createProvider({ provider: apiKeyProvider() });
    const start = (returnUrl: string) =>
      c.connections.createConnection({ workspaceId: 'ws', provider: { case: 'providerName', value: 'acme-api' }, returnUrl });
    await expectConnectError(start(RETURN_URL), Code.InvalidArgument, 'RETURN_URL_NOT_ALLOWED');
    expect((await start('https://urls.example/back/done')).connection?.projectId).toBe(project.id);
    // The default project has no list of its own: the installation's applies.
    const main = clients(nexus.baseUrl, ADMIN_KEY);
    await main.providers.createProvider({ provider: apiKeyProvider({ name: 'urls-api' }) }).catch(() => undefined);
    await expectConnectError(
      main.connections.createConnection({
        workspaceId: 'ws',
        provider: { case: 'providerName', value: 'urls-api' },
        returnUrl: 'https://urls.example/back/done',
      }),
      Code.InvalidArgument,
      'RETURN_URL_NOT_ALLOWED',
    );

    const preflight = (origin: string) =>
      fetch(`${nexus.baseUrl}/nexus.v1.ProviderService/ListProviders`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    expect((await preflight('https://urls-console.example')).headers.get('access-control-allow-origin')).toBe('https://urls-console.example');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    await projects.updateProject({ project: { id: project.id, corsOrigins: [] }, updateMask: { paths: ['cors_origins'] } });
    expect((await preflight('https://urls-console.example')).headers.get('access-control-allow-origin')).toBeNull();

    // Deleting refuses while a connection exists; forced, it goes, with its keys.
    await expectConnectError(projects.deleteProject({ projectId: project.id }), Code.FailedPrecondition, 'PROJECT_HAS_CONNECTIONS');
    expect((await projects.deleteProject({ projectId: project.id, force: true })).revokedConnections).toBe(1);
    await expectConnectError(projects.getProject({ projectId: project.id }), Code.NotFound, 'PROJECT_NOT_FOUND');
    await expectConnectError(c.providers.listProviders({}), Code.Unauthenticated, 'UNAUTHENTICATED');
  });

  it('keys: created with an expiry, listed without secrets, used (last use recorded), rotated, revoked', async () => {
    const { projects, apiKeys } = operator();
    const project = (await projects.createProject({ project: { name: 'keys' } })).project!;
    const created = await apiKeys.createApiKey({ projectId: project.id, name: 'project admin', scopes: [ApiKeyScope.ADMIN], ttl: minutes(60) });
    expect(created.secret).toMatch(/^nxs_/);
    expect(created.apiKey).toMatchObject({ projectId: project.id, name: 'project admin', scopes: [ApiKeyScope.ADMIN] });
    expect(Number(created.apiKey!.expireTime!.seconds) * 1000).toBe(now + 3_600_000);
    const projectAdmin = governanceClients(nexus.baseUrl, created.secret);

    // The project admin manages its own project's keys (project_id empty: its own).
    const agent = await projectAdmin.apiKeys.createApiKey({ name: 'agent', scopes: [ApiKeyScope.TOKENS, ApiKeyScope.CONNECTIONS] });
    await clients(nexus.baseUrl, agent.secret).connections.listConnections({});
    const listed = await projectAdmin.apiKeys.listApiKeys({ pageSize: 1 });
    expect(listed.apiKeys).toHaveLength(1);
    const all = [...listed.apiKeys, ...(await projectAdmin.apiKeys.listApiKeys({ pageSize: 1, pageToken: listed.nextPageToken })).apiKeys];
    expect(all.map((k) => k.name)).toEqual(['project admin', 'agent']);
    const wire = JSON.stringify(all, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(wire).not.toContain(created.secret);
    expect(wire).not.toContain(agent.secret);
    for (const row of await nexus.app.store.apiKeys.listByProject(project.id)) expect(wire).not.toContain(row.keyHash);
    await expect.poll(async () => (await projectAdmin.apiKeys.listApiKeys({})).apiKeys.find((k) => k.name === 'agent')?.lastUseTime).toBeDefined();

    // Rotation: the new key works at once, the old one until the overlap ends.
    const rotated = await projectAdmin.apiKeys.rotateApiKey({ keyId: agent.apiKey!.id, overlap: minutes(2) });
    expect(rotated.apiKey).toMatchObject({ name: 'agent', scopes: agent.apiKey!.scopes });
    expect(Number(rotated.previousApiKey!.expireTime!.seconds) * 1000).toBe(now + 120_000);
    await clients(nexus.baseUrl, rotated.secret).connections.listConnections({});
    await clients(nexus.baseUrl, agent.secret).connections.listConnections({});
    now += 121_000;
    await expectConnectError(clients(nexus.baseUrl, agent.secret).connections.listConnections({}), Code.Unauthenticated, 'API_KEY_EXPIRED');
    await clients(nexus.baseUrl, rotated.secret).connections.listConnections({});
    await expectConnectError(projectAdmin.apiKeys.rotateApiKey({ keyId: agent.apiKey!.id }), Code.FailedPrecondition, 'API_KEY_NOT_ACTIVE');

    // Revocation: refused at once.
    const revoked = await projectAdmin.apiKeys.revokeApiKey({ keyId: rotated.apiKey!.id });
    expect(revoked.apiKey?.revokeTime).toBeDefined();
    await expectConnectError(clients(nexus.baseUrl, rotated.secret).connections.listConnections({}), Code.Unauthenticated, 'UNAUTHENTICATED');
    expect((await projectAdmin.apiKeys.revokeApiKey({ keyId: rotated.apiKey!.id })).apiKey?.revokeTime).toEqual(revoked.apiKey?.revokeTime);
    await expectConnectError(projectAdmin.apiKeys.rotateApiKey({ keyId: rotated.apiKey!.id }), Code.FailedPrecondition, 'API_KEY_NOT_ACTIVE');
    await expectConnectError(projectAdmin.apiKeys.revokeApiKey({ keyId: 'key_nosuchkey' }), Code.NotFound, 'API_KEY_NOT_FOUND');

    // Expiry: the project admin key itself, cached by now, stops at its expiry.
    now += 3_600_000;
    await expectConnectError(projectAdmin.apiKeys.listApiKeys({}), Code.Unauthenticated, 'API_KEY_EXPIRED');
  });

  it('refuses what each caller may not do', async () => {
    const { projects, apiKeys } = operator();
    const project = (await projects.createProject({ project: { name: 'refusals' } })).project!;
    const projectAdmin = governanceClients(
      nexus.baseUrl,
      (await apiKeys.createApiKey({ projectId: project.id, name: 'a', scopes: [ApiKeyScope.ADMIN] })).secret,
    );
    const tokensOnly = governanceClients(
      nexus.baseUrl,
      (await apiKeys.createApiKey({ projectId: project.id, name: 't', scopes: [ApiKeyScope.TOKENS] })).secret,
    );
    // A project admin is not the operator, not even one of the installation project.
    const defaultAdmin = governanceClients(nexus.baseUrl, (await apiKeys.createApiKey({ name: 'default admin', scopes: [ApiKeyScope.ADMIN] })).secret);

    for (const who of [projectAdmin, defaultAdmin]) {
      await expectConnectError(who.projects.listProjects({}), Code.PermissionDenied, 'OPERATOR_REQUIRED');
      await expectConnectError(who.projects.createProject({ project: { name: 'mine' } }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
      await expectConnectError(who.projects.deleteProject({ projectId: project.id, force: true }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    }
    await expectConnectError(projectAdmin.apiKeys.listApiKeys({ projectId: 'prj_default' }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(defaultAdmin.apiKeys.listApiKeys({ projectId: project.id }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(tokensOnly.apiKeys.listApiKeys({}), Code.PermissionDenied, 'SCOPE_MISSING');
    await expectConnectError(tokensOnly.apiKeys.createApiKey({ name: 'x', scopes: [ApiKeyScope.ADMIN] }), Code.PermissionDenied, 'SCOPE_MISSING');
    // No one but the operator grants, rotates or revokes `operator`; nobody grants it outside the installation project.
    await expectConnectError(defaultAdmin.apiKeys.createApiKey({ name: 'x', scopes: [ApiKeyScope.OPERATOR] }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(projectAdmin.apiKeys.createApiKey({ name: 'x', scopes: [ApiKeyScope.OPERATOR] }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(apiKeys.createApiKey({ projectId: project.id, name: 'x', scopes: [ApiKeyScope.OPERATOR] }), Code.InvalidArgument, 'INVALID_FIELD');
    const operatorKey = (await apiKeys.listApiKeys({})).apiKeys.find((k) => k.name === 'NEXUS_ADMIN_API_KEY')!;
    expect(operatorKey.scopes).toContain(ApiKeyScope.OPERATOR);
    await expectConnectError(defaultAdmin.apiKeys.rotateApiKey({ keyId: operatorKey.id }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    await expectConnectError(defaultAdmin.apiKeys.revokeApiKey({ keyId: operatorKey.id }), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    // Another project's key by id alone is not found (the caller's project is the filter).
    const other = (await apiKeys.createApiKey({ name: 'other', scopes: [ApiKeyScope.TOKENS] })).apiKey!;
    await expectConnectError(projectAdmin.apiKeys.revokeApiKey({ keyId: other.id }), Code.NotFound, 'API_KEY_NOT_FOUND');
    await expectConnectError(projectAdmin.apiKeys.rotateApiKey({ keyId: other.id }), Code.NotFound, 'API_KEY_NOT_FOUND');
    // Bad input.
    await expectConnectError(projectAdmin.apiKeys.createApiKey({ name: '', scopes: [ApiKeyScope.TOKENS] }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(projectAdmin.apiKeys.createApiKey({ name: 'x', scopes: [] }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(projectAdmin.apiKeys.createApiKey({ name: 'x', scopes: [ApiKeyScope.UNSPECIFIED] }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(
      projectAdmin.apiKeys.createApiKey({ name: 'x', scopes: [ApiKeyScope.TOKENS], ttl: { seconds: 1n, nanos: 0 } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(
      projectAdmin.apiKeys.createApiKey({ name: 'x', scopes: [ApiKeyScope.TOKENS], ttl: { seconds: -600n, nanos: 0 } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(apiKeys.listApiKeys({ projectId: 'prj_nosuchproject' }), Code.NotFound, 'PROJECT_NOT_FOUND');
    const mine = (await projectAdmin.apiKeys.listApiKeys({})).apiKeys[0]!;
    await expectConnectError(
      projectAdmin.apiKeys.rotateApiKey({ keyId: mine.id, overlap: { seconds: BigInt(31 * 86_400), nanos: 0 } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  it('the CLI commands (as run in-process or through the control socket) do the same', async () => {
    const created = await createProject(nexus.app, 'cli-made', { displayName: 'CLI', returnUrls: 'https://cli.example/back/' });
    const id = /created project (prj_\w+)/.exec(created)![1]!;
    expect(await listProjects(nexus.app)).toMatch(new RegExp(`${id}\\s+cli-made\\s+CLI`));
    await setQuotas(nexus.app, id, { keyBurst: '33' });
    expect(await updateProject(nexus.app, id, { corsOrigins: 'https://cli-console.example' })).toContain('CORS origins: https://cli-console.example');
    // `projects update` changes what it is given, not the quotas (`nexus quotas` owns those).
    expect((await nexus.app.projectQuotas.view(id)).override.keyBurst).toBe(33);
    expect(await getProject(nexus.app, id)).toContain('return URLs:  https://cli.example/back/');
    const key = await createApiKey(nexus.app, id, 'ci', ['tokens'], parseDuration('30d', '--expires-in'));
    expect(key).toMatch(/^created key_\w+ \(tokens, expires \d{4}-/);
    const keyId = /created (key_\w+)/.exec(key)![1]!;
    expect(await rotateApiKey(nexus.app, id, keyId, parseDuration('10m', '--overlap'))).toMatch(new RegExp(`to replace ${keyId}, which stops working at`));
    expect(await listApiKeys(nexus.app, id)).toMatch(/EXPIRES\s+LAST USED/);
    // Another project's key, named under this project: refused, and it keeps working.
    const otherKey = await createApiKey(nexus.app, 'prj_default', 'other-project', ['tokens']);
    const otherId = /created (key_\w+)/.exec(otherKey)![1]!;
    const otherSecret = otherKey.trim().split('\n').at(-1)!;
    await expect(revokeApiKey(nexus.app, id, otherId)).rejects.toThrow(`project ${id} has no API key ${otherId}`);
    await expect(rotateApiKey(nexus.app, id, otherId)).rejects.toMatchObject({ reason: 'API_KEY_NOT_FOUND' });
    await expectConnectError(clients(nexus.baseUrl, otherSecret).tokens.getToken({ connectionId: 'conn_nosuch' }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    expect(await revokeApiKey(nexus.app, 'prj_default', otherId)).toBe(`revoked ${otherId}`);
    await expectConnectError(clients(nexus.baseUrl, otherSecret).tokens.getToken({ connectionId: 'conn_nosuch' }), Code.Unauthenticated, 'UNAUTHENTICATED');
    expect(() => parseDuration('5y', '--expires-in')).toThrow(/--expires-in must be a number/);
    await expect(createApiKey(nexus.app, id, 'op', ['operator'])).rejects.toMatchObject({ reason: 'INVALID_FIELD' });
    expect(await deleteProject(nexus.app, id, false)).toBe(`deleted project ${id}`);
    await expect(deleteProject(nexus.app, 'prj_default', true)).rejects.toMatchObject({ reason: 'PROJECT_PROTECTED' });
  });
});

import { Code } from '@connectrpc/connect';
import { beforeEach, describe, expect, it } from 'vitest';
import { ProjectService } from '../../../gen/ts/nexus/v1/project_pb.js';
import { ApiKeys, CACHE_TTL_MS } from '../../../src/domain/access/api-keys.js';
import type { ConnectionService } from '../../../src/domain/connections/connection-service.js';
import type { ConnectionRow } from '../../../src/domain/model/connection.js';
import { ProjectAdmin } from '../../../src/domain/projects/project-admin.js';
import { OPERATOR_PROJECT_ID } from '../../../src/domain/shared/principal.js';
import { ProjectHandler } from '../../../src/transport/handlers/project-handler.js';
import { bearer, routeClient, unreachable } from '../../support/admin-router.js';
import { expectConnectError } from '../../support/errors.js';
import { fakePersistence, type FakePersistence } from '../../support/fake-persistence.js';

// ProjectService's routes (the installation operator's API) over
// createRouterTransport with in-memory persistence ports: the real handler,
// ProjectAdmin, access and error interceptors; no database.

describe('ProjectService routes over fake ports', () => {
  let store: FakePersistence;
  let apiKeys: ApiKeys;
  let operator: string;
  let now: number;
  let client: ReturnType<typeof routeClient<typeof ProjectService>>;
  const as = (key = operator) => bearer(key);
  const project = (name: string, over: Record<string, unknown> = {}) => ({ project: { name, displayName: name.toUpperCase(), ...over } });

  beforeEach(async () => {
    now = Date.parse('2026-01-01T00:00:00Z');
    store = fakePersistence(() => now);
    await store.projects.ensure(OPERATOR_PROJECT_ID, 'default');
    apiKeys = new ApiKeys(store, () => now);
    operator = (await apiKeys.create(OPERATOR_PROJECT_ID, 'operator', ['operator'])).key;
    // Only a forced delete of a project with live connections reaches the connection service.
    const admin = new ProjectAdmin(store, unreachable<ConnectionService>('connections'), false);
    client = routeClient(ProjectService, new ProjectHandler(admin), apiKeys);
  });

  const liveConnection = (projectId: string, status: ConnectionRow['status'] = 'ACTIVE') =>
    store.rows.connections.set(`con_${store.rows.connections.size}`, { id: 'con', projectId, status } as ConnectionRow);

  it('the operator creates, reads, updates (by mask) and lists projects in pages', async () => {
    const { project: made } = await client.createProject(project('acme', { corsOrigins: ['https://acme.example.com'] }), as());
    expect(made).toMatchObject({ name: 'acme', displayName: 'ACME', corsOrigins: ['https://acme.example.com'] });
    expect(store.rows.projects.get(made!.id)?.name).toBe('acme');
    await expectConnectError(client.createProject(project('acme'), as()), Code.AlreadyExists, 'PROJECT_ALREADY_EXISTS');
    await expectConnectError(client.createProject(project('Not A Slug'), as()), Code.InvalidArgument, 'INVALID_FIELD');

    const { project: updated } = await client.updateProject(
      { project: { id: made!.id, name: 'ignored', displayName: 'Acme Inc', corsOrigins: [] }, updateMask: { paths: ['display_name'] } },
      as(),
    );
    expect([updated?.name, updated?.displayName, updated?.corsOrigins]).toEqual(['acme', 'Acme Inc', ['https://acme.example.com']]);
    await expectConnectError(client.updateProject({ project: { id: made!.id }, updateMask: { paths: ['name'] } }, as()), Code.InvalidArgument, 'INVALID_FIELD');
    expect((await client.getProject({ projectId: made!.id }, as())).project?.displayName).toBe('Acme Inc');

    for (const name of ['beta', 'gamma']) await client.createProject(project(name), as());
    const first = await client.listProjects({ pageSize: 3 }, as());
    expect(first.projects).toHaveLength(3);
    expect(first.nextPageToken).not.toBe('');
    const second = await client.listProjects({ pageSize: 3, pageToken: first.nextPageToken }, as());
    expect([...first.projects, ...second.projects].map((p) => p.name).sort()).toEqual(['acme', 'beta', 'default', 'gamma']);
    expect(second.nextPageToken).toBe('');
    await expectConnectError(client.listProjects({ pageSize: 3, pageToken: 'forged' }, as()), Code.InvalidArgument, 'PAGE_TOKEN_INVALID');
  });

  it('only the operator: a project admin (even of the installation project) and narrower keys are refused', async () => {
    const { project: made } = await client.createProject(project('acme'), as());
    const installationAdmin = (await apiKeys.create(OPERATOR_PROJECT_ID, 'admin', ['admin'])).key;
    const acmeAdmin = (await apiKeys.create(made!.id, 'admin', ['admin'])).key;
    const tokensOnly = (await apiKeys.create(OPERATOR_PROJECT_ID, 'app', ['tokens'])).key;
    await expectConnectError(client.getProject({ projectId: made!.id }), Code.Unauthenticated, 'UNAUTHENTICATED');
    for (const key of [installationAdmin, acmeAdmin, tokensOnly]) {
      await expectConnectError(client.getProject({ projectId: made!.id }, as(key)), Code.PermissionDenied, 'OPERATOR_REQUIRED');
      await expectConnectError(client.createProject(project('sneaky'), as(key)), Code.PermissionDenied, 'OPERATOR_REQUIRED');
      await expectConnectError(client.deleteProject({ projectId: made!.id }, as(key)), Code.PermissionDenied, 'OPERATOR_REQUIRED');
    }
    expect([...store.rows.projects.values()].map((p) => p.name).sort()).toEqual(['acme', 'default']);
  });

  it('refuses to delete a project with live connections unless forced, and never the installation project', async () => {
    const { project: made } = await client.createProject(project('acme'), as());
    liveConnection(made!.id);
    liveConnection(made!.id, 'REVOKED');
    const err = await expectConnectError(client.deleteProject({ projectId: made!.id }, as()), Code.FailedPrecondition, 'PROJECT_HAS_CONNECTIONS');
    expect(err.rawMessage).toContain('1 connection(s)');
    expect(store.rows.projects.has(made!.id)).toBe(true);
    await expectConnectError(client.deleteProject({ projectId: OPERATOR_PROJECT_ID }, as()), Code.FailedPrecondition, 'PROJECT_PROTECTED');
    await expectConnectError(client.deleteProject({ projectId: 'prj_nope' }, as()), Code.NotFound, 'PROJECT_NOT_FOUND');
  });

  it('deletes a project without live connections, its keys with it', async () => {
    const { project: made } = await client.createProject(project('acme'), as());
    liveConnection(made!.id, 'REVOKED');
    const acmeAdmin = await apiKeys.create(made!.id, 'admin', ['admin']);
    expect(await apiKeys.authenticate(acmeAdmin.key)).toMatchObject({ projectId: made!.id });
    expect(await client.deleteProject({ projectId: made!.id }, as())).toMatchObject({ revokedConnections: 0 });
    expect(store.rows.projects.has(made!.id)).toBe(false);
    expect(store.rows.apiKeys.has(acmeAdmin.id)).toBe(false);
    // No revocation channel in the unit tier: the key cache's lifetime bounds it.
    now += CACHE_TTL_MS + 1;
    await expect(apiKeys.authenticate(acmeAdmin.key)).rejects.toMatchObject({ reason: 'UNAUTHENTICATED' });
    await expectConnectError(client.getProject({ projectId: made!.id }, as()), Code.NotFound, 'PROJECT_NOT_FOUND');
  });
});

import { toJson } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientType, GetClientResponseSchema, HandoffIpBinding } from '../../gen/ts/nexus/v1/client_pb.js';
import { hashSecret } from '../../src/crypto/index.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, authClients, startTestApp, type AuthClients, type TestApp } from '../support/test-app.js';

describe.each(BACKENDS)('OAuth clients admin API (%s)', (backend) => {
  let nexus: TestApp;
  let admin: AuthClients;

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
    admin = authClients(nexus.baseUrl, ADMIN_KEY);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('creates a confidential client, shows its secret once, stores only the hash', async () => {
    const res = await admin.clients.createClient({
      client: {
        type: ClientType.CONFIDENTIAL,
        displayName: 'Acme',
        redirectUris: ['https://app.example.com/cb', 'myapp://callback'],
        siweChainIds: [1n, 8453n],
      },
    });
    expect(res.clientSecret).toMatch(/^nxcs_/);
    expect(res.client).toMatchObject({
      type: ClientType.CONFIDENTIAL,
      displayName: 'Acme',
      handoffIpBinding: HandoffIpBinding.STRICT,
      projectId: 'prj_default',
    });
    const got = await admin.clients.getClient({ clientId: res.client!.id });
    expect(got.client?.siweChainIds).toEqual([1n, 8453n]);
    expect(toJson(GetClientResponseSchema, got) as object).not.toHaveProperty('clientSecret');
    expect(JSON.stringify(toJson(GetClientResponseSchema, got))).not.toContain(res.clientSecret);
    const row = await nexus.app.store.clients.findAnyById(res.client!.id);
    expect(row?.secretHash).toBe(hashSecret(res.clientSecret));
  });

  it('creates a public client without a secret', async () => {
    const res = await admin.clients.createClient({ client: { type: ClientType.PUBLIC, displayName: 'Mobile' } });
    expect(res.clientSecret).toBe('');
    expect((await nexus.app.store.clients.findAnyById(res.client!.id))?.secretHash).toBeNull();
  });

  it('lists newest first with paging, updates by mask, deletes', async () => {
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three'])
      ids.push((await admin.clients.createClient({ client: { type: ClientType.PUBLIC, displayName: name } })).client!.id);
    const first = await admin.clients.listClients({ pageSize: 2 });
    expect(first.clients.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    const second = await admin.clients.listClients({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.clients[0]!.id).toBe(ids[0]);
    const updated = await admin.clients.updateClient({
      client: { id: ids[0], handoffIpBinding: HandoffIpBinding.RELAXED, branding: { accentColor: '#00FF00' }, displayName: 'ignored' },
      updateMask: { paths: ['handoff_ip_binding', 'branding'] },
    });
    expect(updated.client).toMatchObject({ displayName: 'one', handoffIpBinding: HandoffIpBinding.RELAXED });
    expect(updated.client?.branding?.accentColor).toBe('#00ff00');
    await admin.clients.deleteClient({ clientId: ids[0]! });
    await expectConnectError(admin.clients.getClient({ clientId: ids[0]! }), Code.NotFound, 'CLIENT_NOT_FOUND');
    await expectConnectError(admin.clients.deleteClient({ clientId: ids[0]! }), Code.NotFound, 'CLIENT_NOT_FOUND');
  });

  it('refuses invalid input with INVALID_ARGUMENT', async () => {
    const bad = async (client: Record<string, unknown>) =>
      expectConnectError(
        admin.clients.createClient({ client: { type: ClientType.PUBLIC, displayName: 'x', ...client } }),
        Code.InvalidArgument,
        'INVALID_FIELD',
      );
    await bad({ type: ClientType.UNSPECIFIED });
    await bad({ displayName: '' });
    await bad({ redirectUris: ['not a url'] });
    await bad({ redirectUris: ['https://app.example.com/cb#frag'] });
    await bad({ redirectUris: ['javascript:alert(1)'] });
    await bad({ branding: { accentColor: 'red' } });
    await bad({ branding: { logoUrl: 'ftp://example.com/logo.png' } });
    await bad({ siweOrigins: ['https://app.example.com/path'] });
    await bad({ siweChainIds: [0n] });
    const c = (await admin.clients.createClient({ client: { type: ClientType.PUBLIC, displayName: 'y' } })).client!;
    await expectConnectError(admin.clients.updateClient({ client: { id: c.id, type: ClientType.CONFIDENTIAL } }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(
      admin.clients.updateClient({ client: { id: c.id }, updateMask: { paths: ['secret_hash'] } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  it('needs an admin key, and keeps projects apart', async () => {
    const key = (await nexus.app.apiKeys.create('prj_default', 'c', ['connections'])).key;
    await expectConnectError(authClients(nexus.baseUrl, key).clients.listClients({}), Code.PermissionDenied, 'SCOPE_MISSING');
    await expectConnectError(authClients(nexus.baseUrl).clients.listClients({}), Code.Unauthenticated, 'UNAUTHENTICATED');
    const mine = (await admin.clients.createClient({ client: { type: ClientType.PUBLIC, displayName: 'mine' } })).client!;
    await nexus.app.store.projects.ensure('prj_other', 'other');
    const other = authClients(nexus.baseUrl, (await nexus.app.apiKeys.create('prj_other', 'k', ['admin'])).key);
    await expectConnectError(other.clients.getClient({ clientId: mine.id }), Code.NotFound, 'CLIENT_NOT_FOUND');
    await expectConnectError(other.clients.deleteClient({ clientId: mine.id }), Code.NotFound, 'CLIENT_NOT_FOUND');
    expect((await other.clients.listClients({})).clients).toEqual([]);
  });
});

import type { JsonObject } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { StrategyType } from '../../gen/ts/nexus/v1/token_pb.js';
import { callback } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

const FIELDS_SCHEMA = {
  type: 'object',
  required: ['subdomain'],
  additionalProperties: false,
  properties: {
    subdomain: { type: 'string', title: 'Subdomain', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    team: { type: 'string', title: 'Team' },
  },
};

describe.each(BACKENDS)('post-OAuth fields (%s)', (backend) => {
  let auth: TestAuthServer;
  let nexus: TestApp;
  let api: Clients;
  const issuedTokens: string[] = [];

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: oauthProvider(auth, { name: 'fields-oauth', postOauthFieldsSchema: FIELDS_SCHEMA }) });
    await api.providers.createProvider({ provider: oauthProvider(auth, { name: 'plain-oauth' }) });
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
  });

  /** Creates a connection and plays the user through consent; returns where the callback sent the browser. */
  async function consent(provider: string, workspaceId: string) {
    const created = await api.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: provider }, returnUrl: RETURN_URL });
    const result = await callback(await auth.consent(created.authUrl));
    expect(result.status).toBe(302);
    return { id: created.connection!.id, back: new URL(result.location!) };
  }

  it('keeps the connection PENDING after consent until valid fields are supplied, then activates it', async () => {
    const { id, back } = await consent('fields-oauth', 'ws-fields');
    expect(back.origin + back.pathname).toBe(RETURN_URL);
    expect(back.searchParams.get('status')).toBe('pending');
    expect(back.searchParams.get('connection_id')).toBe(id);

    const pending = (await api.connections.getConnection({ connectionId: id })).connection!;
    expect(pending.status).toBe(ConnectionStatus.PENDING);
    expect(pending.statusReason).toBe('fields_required');
    expect(pending.fields).toBeUndefined();
    // The tokens were exchanged, but are not handed out yet.
    await expectConnectError(api.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'CONNECTION_NOT_ACTIVE');
    await expectConnectError(api.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'CONNECTION_NOT_ACTIVE');

    const pendingFields = await api.connections.getPendingFields({ connectionId: id });
    expect(pendingFields.schema).toEqual(FIELDS_SCHEMA);

    // Invalid fields: refused, still pending.
    const invalid: JsonObject[] = [{}, { subdomain: 'Not A Subdomain!' }, { subdomain: 42 }, { subdomain: 'acme', unknown: 'x' }];
    for (const fields of invalid) {
      const err = await expectConnectError(api.connections.finalizeConnection({ connectionId: id, fields }), Code.InvalidArgument, 'CREDENTIALS_INVALID');
      expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.violations).toBeTruthy();
    }
    const still = (await api.connections.getConnection({ connectionId: id })).connection!;
    expect(still.status).toBe(ConnectionStatus.PENDING);
    expect(still.statusReason).toBe('fields_required');
    expect(still.fields).toBeUndefined();
    await expectConnectError(api.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'CONNECTION_NOT_ACTIVE');

    // Valid fields: active.
    const finalized = await api.connections.finalizeConnection({ connectionId: id, fields: { subdomain: 'acme-corp', team: 'blue' } });
    expect(finalized.redirectUrl).toBe(`${RETURN_URL}?status=success&connection_id=${id}`);
    expect(finalized.connection?.status).toBe(ConnectionStatus.ACTIVE);
    expect(finalized.connection?.fields).toEqual({ subdomain: 'acme-corp', team: 'blue' });
    const active = (await api.connections.getConnection({ connectionId: id })).connection!;
    expect(active.status).toBe(ConnectionStatus.ACTIVE);
    expect(active.statusReason).toBe('');
    expect(active.fields).toEqual({ subdomain: 'acme-corp', team: 'blue' });
    const listed = (await api.connections.listConnections({ workspaceId: 'ws-fields' })).connections;
    expect(listed.map((c) => [c.id, c.fields])).toEqual([[id, { subdomain: 'acme-corp', team: 'blue' }]]);

    const token = (await api.tokens.getToken({ connectionId: id })).credential!;
    expect(token.strategy?.type).toBe(StrategyType.OAUTH2);
    expect(token.credentials.case).toBe('oauth2');
    const accessToken = (token.credentials.value as { accessToken: string }).accessToken;
    expect(accessToken.split('.')).toHaveLength(3);
    issuedTokens.push(accessToken);

    // Once is enough.
    await expectConnectError(
      api.connections.finalizeConnection({ connectionId: id, fields: { subdomain: 'other' } }),
      Code.FailedPrecondition,
      'NO_PENDING_FIELDS',
    );
    await expectConnectError(api.connections.getPendingFields({ connectionId: id }), Code.FailedPrecondition, 'NO_PENDING_FIELDS');
    expect((await api.connections.getConnection({ connectionId: id })).connection?.fields).toEqual({ subdomain: 'acme-corp', team: 'blue' });
  });

  it('does not take fields before consent', async () => {
    const created = await api.connections.createConnection({
      workspaceId: 'ws-early',
      provider: { case: 'providerName', value: 'fields-oauth' },
      returnUrl: RETURN_URL,
    });
    const id = created.connection!.id;
    await expectConnectError(api.connections.getPendingFields({ connectionId: id }), Code.FailedPrecondition, 'NO_PENDING_FIELDS');
    await expectConnectError(
      api.connections.finalizeConnection({ connectionId: id, fields: { subdomain: 'early' } }),
      Code.FailedPrecondition,
      'NO_PENDING_FIELDS',
    );
    const conn = (await api.connections.getConnection({ connectionId: id })).connection!;
    expect(conn.status).toBe(ConnectionStatus.PENDING);
    expect(conn.statusReason).toBe('consent_required');
    expect(conn.fields).toBeUndefined();
  });

  it('answers NO_PENDING_FIELDS for a provider without a fields schema', async () => {
    const { id, back } = await consent('plain-oauth', 'ws-plain');
    expect(back.searchParams.get('status')).toBe('success');
    expect((await api.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.ACTIVE);
    await expectConnectError(api.connections.getPendingFields({ connectionId: id }), Code.FailedPrecondition, 'NO_PENDING_FIELDS');
    await expectConnectError(
      api.connections.finalizeConnection({ connectionId: id, fields: { subdomain: 'x' } }),
      Code.FailedPrecondition,
      'NO_PENDING_FIELDS',
    );
    expect((await api.connections.getConnection({ connectionId: id })).connection?.fields).toBeUndefined();
  });

  it('answers NOT_FOUND for an unknown connection', async () => {
    await expectConnectError(api.connections.getPendingFields({ connectionId: 'conn_unknown' }), Code.NotFound, 'CONNECTION_NOT_FOUND');
    await expectConnectError(
      api.connections.finalizeConnection({ connectionId: 'conn_unknown', fields: { subdomain: 'x' } }),
      Code.NotFound,
      'CONNECTION_NOT_FOUND',
    );
  });

  it("supersedes the workspace's older connection only when the new one is finalized", async () => {
    const first = await consent('fields-oauth', 'ws-twice');
    await api.connections.finalizeConnection({ connectionId: first.id, fields: { subdomain: 'first' } });
    const second = await consent('fields-oauth', 'ws-twice');
    // Consent alone does not replace the working connection.
    expect((await api.connections.getConnection({ connectionId: first.id })).connection?.status).toBe(ConnectionStatus.ACTIVE);
    expect((await api.tokens.getToken({ connectionId: first.id })).credential!.credentials.case).toBe('oauth2');
    await api.connections.finalizeConnection({ connectionId: second.id, fields: { subdomain: 'second' } });
    const old = (await api.connections.getConnection({ connectionId: first.id })).connection!;
    expect(old.status).toBe(ConnectionStatus.REVOKED);
    expect(old.supersededBy).toBe(second.id);
  });

  it('wrote no token, client secret or API key to the log', () => {
    expect(issuedTokens).toHaveLength(1);
    const all = nexus.logs.join('\n');
    expect(all).toContain('/oauth/callback');
    for (const value of [auth.clientSecret, ADMIN_KEY, ...issuedTokens]) expect(all).not.toContain(value);
    // The callback's code and state are logged redacted.
    expect(all).not.toMatch(/[?&](code|state)=(?!\[redacted\]|%5Bredacted%5D)[^&"\s]+/);
  });
});

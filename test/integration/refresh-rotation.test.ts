import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshTokenRotation } from '../../gen/ts/nexus/v1/provider_pb.js';
import { connectViaConsent } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

// A replica that died mid-refresh leaves an expired lease and an unknown
// outcome. Whether the refresh token may be sent again depends on whether the
// provider rotates refresh tokens: declared on the provider, or learned from
// the connection's last refresh (unknown counts as rotating).
describe.each(BACKENDS)("an interrupted refresh and the provider's refresh_token_rotation (%s)", (backend) => {
  let auth: TestAuthServer;
  let nexus: TestApp;
  let api: Clients;

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: oauthProvider(auth, { name: 'learned' }) });
    for (const [name, rotation] of [
      ['stable', RefreshTokenRotation.STABLE],
      ['rotates', RefreshTokenRotation.ROTATES],
    ] as const) {
      const provider = oauthProvider(auth, { name });
      provider.oauth2!.refreshTokenRotation = rotation;
      await api.providers.createProvider({ provider });
    }
  }, 120_000);
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
  });

  /** An ACTIVE connection whose refresh was claimed by a process that then died (its lease has run out). */
  async function interrupted(provider: string, learnedRotates: boolean | null): Promise<string> {
    const { created } = await connectViaConsent(auth, api, `ws-${provider}`, provider);
    const id = created.connection!.id;
    await nexus.app.database.dataSource.query(
      `UPDATE connections SET refresh_attempt_id = 'att_dead', refresh_attempt_by = 'dead-host:1', refresh_started_at = now() - interval '1 minute',
         refresh_lease_until = now() - interval '1 second', refresh_token_rotates = $2 WHERE id = $1`,
      [id, learnedRotates],
    );
    return id;
  }

  it('is stored and returned with the provider', async () => {
    expect((await api.providers.getProvider({ provider: 'stable' })).provider?.oauth2?.refreshTokenRotation).toBe(RefreshTokenRotation.STABLE);
    expect((await api.providers.getProvider({ provider: 'rotates' })).provider?.oauth2?.refreshTokenRotation).toBe(RefreshTokenRotation.ROTATES);
    expect((await api.providers.getProvider({ provider: 'learned' })).provider?.oauth2?.refreshTokenRotation).toBe(RefreshTokenRotation.UNSPECIFIED);
  });

  it('undeclared and never refreshed: not resent, the connection needs attention', async () => {
    const id = await interrupted('learned', null);
    const before = auth.refreshRequests;
    await expectConnectError(api.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    expect(auth.refreshRequests).toBe(before);
    expect((await api.connections.getConnection({ connectionId: id })).connection?.statusReason).toBe('refresh_interrupted');
  });

  it('declared stable, even though never refreshed: another caller resends it and completes', async () => {
    const id = await interrupted('stable', null);
    const before = auth.refreshRequests;
    const refreshed = (await api.tokens.refreshToken({ connectionId: id })).credential!;
    expect(refreshed.credentials.case).toBe('oauth2');
    expect(auth.refreshRequests).toBe(before + 1);
    const row = (await nexus.app.store.connections.findById('prj_default', id))!;
    expect([row.status, row.refreshAttemptId]).toEqual(['ACTIVE', null]);
  });

  it('declared rotating, even though the last refresh returned the same token: not resent', async () => {
    const id = await interrupted('rotates', false);
    const before = auth.refreshRequests;
    await expectConnectError(api.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'ATTENTION_REQUIRED');
    expect(auth.refreshRequests).toBe(before);
  });

  it('undeclared, learned not rotating: resent and completed', async () => {
    const id = await interrupted('learned', false);
    const before = auth.refreshRequests;
    await api.tokens.refreshToken({ connectionId: id });
    expect(auth.refreshRequests).toBe(before + 1);
  });
});

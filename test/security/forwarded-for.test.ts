// Attack: a client behind a trusted proxy sends its own X-Forwarded-For. The
// proxy appends the real address as `ip:port` (or `[v6]:port`, or `unknown`).
// Hops in those forms used to be skipped, so the spoofed left value became
// "the client", and a handoff code bound to a victim's spoofed-to address
// was redeemed by another client.
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffIntent } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { REDIRECT, registerClient, signInUser, type TestClient } from '../support/auth-flows.js';
import { expectConnectError } from '../support/errors.js';
import { authClients, startTestApp, type TestApp } from '../support/test-app.js';

describe('X-Forwarded-For spoofing against handoff IP binding', () => {
  let nexus: TestApp;
  let client: TestClient;
  const via = (xff: string) => ({ headers: { 'x-forwarded-for': xff } });

  beforeAll(async () => {
    // The test talks from 127.0.0.1, which plays the trusted proxy.
    nexus = await startTestApp({ backend: 'postgres', config: { trustedProxies: ['127.0.0.1'] } });
    client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  async function handoffFrom(xff: string) {
    const user = await signInUser(nexus.baseUrl, client);
    return authClients(nexus.baseUrl, user.accessToken).auth.initHandoff({ redirectUri: REDIRECT, intent: HandoffIntent.CONNECTIONS }, via(xff));
  }

  it('a spoofed left value does not win over the proxy-written ip:port hop', async () => {
    // The victim's app initiates from 198.51.100.7; a client-supplied 6.6.6.6 rides in front.
    const handoff = await handoffFrom('6.6.6.6, 198.51.100.7:50123');
    // The attacker at 203.0.113.66 sends the same spoofed value.
    await expectConnectError(
      authClients(nexus.baseUrl).auth.redeemHandoff({ code: handoff.code }, via('6.6.6.6, 203.0.113.66:40000')),
      Code.PermissionDenied,
      'HANDOFF_IP_MISMATCH',
    );
    await expectConnectError(
      authClients(nexus.baseUrl).auth.redeemHandoff({ code: handoff.code }, via('6.6.6.6, [2001:db8::66]:443')),
      Code.PermissionDenied,
      'HANDOFF_IP_MISMATCH',
    );
    // The real client, whose port differs on the new connection, redeems it.
    const web = await authClients(nexus.baseUrl).auth.redeemHandoff({ code: handoff.code }, via('6.6.6.6, 198.51.100.7:61000'));
    expect(web.clientId).toBe(client.id);
  });

  it('an unparsable hop (unknown) fails closed: no client whose address is unknown redeems a code', async () => {
    const handoff = await handoffFrom('6.6.6.6, unknown');
    await expectConnectError(
      authClients(nexus.baseUrl).auth.redeemHandoff({ code: handoff.code }, via('6.6.6.6, unknown')),
      Code.PermissionDenied,
      'HANDOFF_IP_MISMATCH',
    );
    await expectConnectError(
      authClients(nexus.baseUrl).auth.redeemHandoff({ code: handoff.code }, via('6.6.6.6')),
      Code.PermissionDenied,
      'HANDOFF_IP_MISMATCH',
    );
  });
});

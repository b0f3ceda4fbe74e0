import type { DescMethod } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyOf, SERVICES } from '../../src/transport/access.js';
import { ADMIN_KEY, clients, startTestApp, transport, type TestApp, type TransportKind } from '../support/test-app.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { callWithEmptyRequest, procedureOf, reasonOf } from '../support/every-method.js';

/**
 * Every method of every published service, called without credentials over a
 * real server: each one whose policy (ACCESS in src/transport/access.ts)
 * needs a key or a user token is refused with UNAUTHENTICATED; the open ones
 * answer with something else (their own checks), never that refusal. A new
 * RPC is in this test the moment it is in the proto.
 */
const methods: DescMethod[] = Object.values(SERVICES).flatMap((s) => s.methods);
const name = procedureOf;

describe('anonymous access to every method of every service', () => {
  let nexus: TestApp;

  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'embedded' });
    // A provider exists, so the public reads have something they could leak.
    await clients(nexus.baseUrl, ADMIN_KEY).providers.createProvider({ provider: apiKeyProvider() });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it.each<TransportKind>(['connect', 'grpc'])('refuses every credentialed method with UNAUTHENTICATED (%s)', async (kind) => {
    const t = transport(nexus.baseUrl, kind);
    let credentialed = 0;
    for (const m of methods) {
      const policy = policyOf(m.parent.typeName, m.name);
      expect(policy, `${name(m)} has no access policy`).toBeDefined();
      const err = await callWithEmptyRequest(t, m);
      const got = { method: name(m), code: err ? Code[err.code] : 'OK', reason: reasonOf(err) };
      if (policy!.kind === 'scope' || policy!.kind === 'operator' || policy!.kind === 'user') {
        credentialed++;
        expect(got).toEqual({ method: name(m), code: 'Unauthenticated', reason: 'ERROR_REASON_UNAUTHENTICATED' });
      } else {
        expect(got.reason, name(m)).not.toBe('ERROR_REASON_UNAUTHENTICATED');
        expect(got.code, name(m)).not.toBe('Internal');
      }
    }
    expect(credentialed).toBeGreaterThanOrEqual(20);
    // Nothing an anonymous caller did changed the provider.
    expect((await clients(nexus.baseUrl, ADMIN_KEY).providers.getProvider({ provider: 'acme-api' })).provider?.displayName).toBe('Acme API');
  });
});

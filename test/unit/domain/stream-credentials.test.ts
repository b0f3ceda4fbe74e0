import { describe, expect, it } from 'vitest';
import type { ConnectionEvents, CredentialRevocation } from '../../../src/domain/connections/connection-events.js';
import { ScopeMissingError, UnauthenticatedError } from '../../../src/domain/shared/errors.js';
import type { Principal } from '../../../src/domain/shared/principal.js';
import { StreamCredentials } from '../../../src/domain/connections/stream-credentials.js';

/** Only what the guard uses of the hub: the revocation notices. */
function fakeHub() {
  const hooks = new Set<(r: CredentialRevocation) => void>();
  const hub = {
    onCredentialRevoked(hook: (r: CredentialRevocation) => void) {
      hooks.add(hook);
      return () => hooks.delete(hook);
    },
  } as unknown as ConnectionEvents;
  return { hub, hooks, hear: (r: CredentialRevocation) => hooks.forEach((h) => h(r)) };
}

const caller: Principal = { projectId: 'prj_a', keyId: 'key_1', scopes: new Set(['connections']) };
const tick = () => new Promise((r) => setTimeout(r, 10));

describe('stream credential guard', () => {
  it('ends on a notice naming its key in its project, not on others', () => {
    const { hub, hear, hooks } = fakeHub();
    const guard = new StreamCredentials(hub, { recheckMs: 60_000 }).guard(caller, async () => {});
    hear({ projectId: 'prj_a', credentialId: 'key_2' });
    hear({ projectId: 'prj_b', credentialId: 'key_1' });
    expect(guard.ended).toBeUndefined();
    expect(guard.signal.aborted).toBe(false);
    hear({ projectId: 'prj_a', credentialId: 'key_1' });
    expect(guard.ended).toBeInstanceOf(UnauthenticatedError);
    expect(guard.signal.aborted).toBe(true);
    // It stops listening once ended.
    expect(hooks.size).toBe(0);
  });

  it('rechecks when notices may have been missed; an outage keeps the stream, a verdict ends it', async () => {
    const { hub, hear } = fakeHub();
    let verdict: Error | undefined = new Error('connection refused');
    let checks = 0;
    const guard = new StreamCredentials(hub, { recheckMs: 60_000 }).guard(caller, async () => {
      checks++;
      if (verdict) throw verdict;
    });
    hear(undefined);
    await tick();
    expect(checks).toBe(1);
    expect(guard.ended).toBeUndefined();
    verdict = new ScopeMissingError('connections');
    hear(undefined);
    await tick();
    expect(guard.ended).toBeInstanceOf(ScopeMissingError);
    guard.close();
  });

  it('ends when the credential expires, and rechecks on its interval', async () => {
    const { hub } = fakeHub();
    const expiring = new StreamCredentials(hub, { recheckMs: 60_000 }).guard({ ...caller, expiresAt: new Date(Date.now() + 30) }, async () => {});
    let checks = 0;
    const periodic = new StreamCredentials(hub, { recheckMs: 20 }).guard(caller, async () => {
      checks++;
    });
    await new Promise((r) => setTimeout(r, 80));
    expect(expiring.ended?.message).toMatch(/expired/);
    expect(checks).toBeGreaterThanOrEqual(2);
    expect(periodic.ended).toBeUndefined();
    periodic.close();
  });
});

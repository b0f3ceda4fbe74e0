// The Go module's own tests (clients/go/nexusauth/*_test.go): typed unary and stream errors,
// network failures as ErrUnavailable, the once-only retry of idempotent calls on a reset
// connection (through a TCP proxy that resets the first connection), WaitForConnection
// (wanted, terminal, timeout, a dropped stream resumed from its cursor), one token source per
// connection, the oauth2.TokenSource adapter, ProxyTransport's rewrite. gofmt and go vet first.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './build.js';
import { REPO_ROOT } from './support.js';

describe('Go module clients/go', () => {
  const cwd = path.join(REPO_ROOT, 'clients/go');

  it('is gofmt-formatted, with the examples and the release tool', async () => {
    const dirs = ['clients/go', 'clients/examples/go', 'clients/examples/go-proxy', 'scripts/go-release'];
    expect(await run('gofmt', ['-l', ...dirs], { cwd: REPO_ROOT })).toBe('');
  });

  it('passes go vet and go test', async () => {
    await run('go', ['vet', './...'], { cwd });
    const out = await run('go', ['test', '-count=1', '-timeout=120s', '-v', './...'], { cwd });
    expect(out).toMatch(/^ok\s+github\.com\/nexus-broker\/nexus\/clients\/go\/nexusauth/m);
    for (const name of ['TestIdempotentCallIsRetriedOnceOnAResetConnection', 'TestStreamErrorsAreTyped', 'TestWaitForConnection', 'TestOAuth2TokenSource']) {
      expect(out).toContain(`--- PASS: ${name}`);
    }
  }, 300_000);
});

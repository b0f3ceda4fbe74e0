// nexusauth.ProxyTransport against the real /proxy route (src/transport/proxy-route.ts), not a
// stand-in: clients/examples/go-proxy, built in its own module against the local clients/go
// and gen/go, calls a local provider API through a live Nexus. Checked here: the rewrite
// (APIBaseURL's prefix stripped, the query kept), the provider's key applied by Nexus and
// Nexus's key never forwarded, a download streamed (the API holds its second line back until
// the agent has printed the first), an upload of unknown length streamed (the agent writes
// its second part only once the API has received the first), the provider's own error passed
// through, and Nexus's own refusal (ATTENTION_REQUIRED, 424) as a typed *nexusauth.Error.
// First the reset retry against the real server: GetToken through a TCP proxy that resets
// the first connection once the request is on it succeeds on the second.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyProvider } from '../support/fixtures.js';
import { allowOutbound } from '../support/outbound-hosts.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type TestApp } from '../support/test-app.js';
import { removeTempDirs, tempDir } from './build.js';
import { buildGoApp } from './go-app.js';
import { Agent } from './support.js';

const PROVIDER_KEY = 'ak_go_proxy_0123456789';

/** Resolves when `done()` is called, or after `ms` with `false`. */
function gate(ms: number): { wait: Promise<boolean>; done: () => void } {
  let done!: () => void;
  const wait = new Promise<boolean>((resolve) => {
    done = () => resolve(true);
    setTimeout(() => resolve(false), ms).unref();
  });
  return { wait, done };
}

describe('Go ProxyTransport through the real proxy route', () => {
  let nexus: TestApp;
  let api: http.Server;
  let appDir: string;
  let connectionId: string;
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];
  // Armed when the agent starts (their timeouts run from then).
  let secondLine: ReturnType<typeof gate>;
  let firstPart: ReturnType<typeof gate>;
  let firstPartBeforeEnd = false;
  let secondLineHeld: boolean | undefined;

  let resetter: net.Server;
  const resetterConnections: net.Socket[] = [];

  beforeAll(async () => {
    api = http.createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/base/stream') {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-ratelimit-remaining': '7' });
        res.write('line 1\n');
        if (url.searchParams.get('lines') === '1') return void res.end();
        void secondLine.wait.then((released) => {
          secondLineHeld = released;
          res.end('line 2\n');
        });
      } else if (url.pathname === '/base/upload') {
        let body = '';
        let ended = false;
        req.on('data', (chunk: Buffer) => {
          body += chunk.toString();
          if (body.includes('part 1') && !ended) {
            firstPartBeforeEnd = !body.includes('part 2');
            firstPart.done();
          }
        });
        req.on('end', () => {
          ended = true;
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`received ${JSON.stringify(body)}`);
        });
      } else {
        req.resume();
        res.writeHead(418, { 'content-type': 'text/plain' }).end('short and stout');
      }
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    allowOutbound(new URL(apiUrl).host);
    nexus = await startTestApp({ backend: 'embedded' });
    const admin = clients(nexus.baseUrl, ADMIN_KEY);
    await admin.providers.createProvider({ provider: apiKeyProvider({ apiBaseUrl: `${apiUrl}/base` }) });
    const made = await admin.connections.createConnection({
      workspaceId: 'ws-go-proxy',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    await admin.connections.submitCredentials({ state: made.state, credentials: { api_key: PROVIDER_KEY } });
    connectionId = made.connection!.id;

    // Resets (RST) the first connection once the client has sent on it; pipes the others to Nexus.
    const nexusPort = Number(new URL(nexus.baseUrl).port);
    resetter = net.createServer((socket) => {
      resetterConnections.push(socket);
      if (resetterConnections.length === 1) {
        socket.once('data', () => socket.resetAndDestroy());
        return;
      }
      const upstream = net.connect(nexusPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));

    appDir = tempDir('nexus-go-proxy-');
    await buildGoApp(appDir, 'example.com/nexus-proxy-agent', 'clients/examples/go-proxy/main.go');
  }, 300_000);
  afterAll(async () => {
    for (const socket of resetterConnections) socket.destroy();
    await new Promise((resolve) => resetter?.close(resolve));
    await nexus?.close();
    api?.closeAllConnections();
    await new Promise((resolve) => api?.close(resolve));
    removeTempDirs();
  });

  it('retries a read on a reset connection; streams both ways, passes the provider through, types Nexus refusals', async () => {
    secondLine = gate(20_000);
    firstPart = gate(20_000);
    const agent = new Agent(path.join(appDir, 'agent'), [], {
      cwd: appDir,
      env: {
        NEXUS_URL: nexus.baseUrl,
        NEXUS_RESET_URL: `http://127.0.0.1:${(resetter.address() as AddressInfo).port}`,
        NEXUS_API_KEY: ADMIN_KEY,
        CONNECTION_ID: connectionId,
      },
    });
    await agent.drive(async () => {
      expect(await agent.waitFor('token after reset ')).toBe('STRATEGY_TYPE_API_KEY');
      expect(resetterConnections.length, 'one reset connection, one retry').toBe(2);

      // The first line reaches the agent while the API still holds the second back.
      expect(await agent.waitFor('got line 1', 20_000)).toBe('');
      expect(secondLineHeld).toBeUndefined();
      secondLine.done();
      expect(await agent.waitFor('got line 2')).toBe('');
      expect(secondLineHeld).toBe(true);
      expect(await agent.waitFor('download ')).toBe('200 7');

      // The API has the first part while the agent has not written the second.
      await agent.waitFor('sent part 1');
      expect(await firstPart.wait, 'the first part reached the API before the upload ended').toBe(true);
      expect(firstPartBeforeEnd).toBe(true);
      agent.send('continue');
      expect(await agent.waitFor('upload ')).toBe('200 received "part 1\\npart 2\\n"');
      expect(await agent.waitFor('provider ')).toBe('418');

      await agent.waitFor('await attention');
      await nexus.app.database.dataSource.query(`UPDATE connections SET status = 'ATTENTION_REQUIRED', status_reason = 'credentials_rejected' WHERE id = $1`, [
        connectionId,
      ]);
      agent.send('continue');
      expect(await agent.waitFor('error ')).toBe('failed_precondition ATTENTION_REQUIRED 424 true');
      await agent.waitFor('done');
      expect(await agent.exit()).toBe(0);
    });

    // Rewritten under the provider's api_base_url, with the provider's key and never Nexus's.
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /base/stream?lines=2', 'POST /base/upload', 'GET /base/teapot']);
    for (const r of seen) {
      expect(r.headers['x-acme-key']).toBe(PROVIDER_KEY);
      expect(JSON.stringify(r.headers)).not.toContain(ADMIN_KEY);
    }
  }, 120_000);
});

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { Browser } from '../support/consent.js';
import { freePort } from '../support/ports.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { clients } from '../support/test-app.js';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const ADMIN_KEY = 'nexus-demo-admin-key';
const RETURN_URL = 'http://localhost:3000/done';

/**
 * The README's first connection, with the real parts it names: `npm run demo-provider` (the
 * demo authorization server and the demo API, demo/), `providers:apply -f demo/providers.yaml`
 * (its ports moved to free ones), `nexus start` on the embedded database. An agent's credential
 * opens the demo API directly and through Nexus's proxy; the demo API refuses anything else, so
 * the docs' agents (docs/clients/*.md) have a real API to call on a reader's machine.
 */
describe('the demo provider, its API and demo/providers.yaml', () => {
  let demo: ChildProcess;
  let demoOut = '';
  let server: ServerProcess;
  let dataDir: string;
  let apiUrl: string;

  beforeAll(async () => {
    const [authPort, apiPort] = [await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    demo = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['demo/oauth-provider.ts'], {
      cwd: ROOT,
      env: { ...process.env, DEMO_PROVIDER_PORT: String(authPort), DEMO_API_PORT: String(apiPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout!.on('data', (c) => (demoOut += c));
    demo.stderr!.on('data', (c) => (demoOut += c));
    const deadline = Date.now() + 60_000;
    while (!demoOut.includes('Demo API on')) {
      if (demo.exitCode !== null || Date.now() > deadline) throw new Error(`the demo provider did not start:\n${demoOut}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    dataDir = mkdtempSync(path.join(os.tmpdir(), 'nexus-demo-'));
    const providersFile = path.join(dataDir, 'providers.yaml');
    writeFileSync(
      providersFile,
      readFileSync(path.join(ROOT, 'demo/providers.yaml'), 'utf8')
        .replaceAll('127.0.0.1:9090', `127.0.0.1:${authPort}`)
        .replaceAll('127.0.0.1:9091', `127.0.0.1:${apiPort}`),
    );
    const env = {
      // The README's walkthrough: the embedded database (an empty value counts as unset), for the CLI and the server alike.
      DATABASE_URL: '',
      NEXUS_DATA_DIR: path.join(dataDir, 'data'),
      NEXUS_ADMIN_API_KEY: ADMIN_KEY,
      DEMO_CLIENT_SECRET: 'demo-client-secret',
      NEXUS_OUTBOUND_ALLOWED_HOSTS: `127.0.0.1:${authPort},127.0.0.1:${apiPort}`,
    };
    const applied = await execFileAsync(process.execPath, ['bin/nexus.js', 'providers:apply', '-f', providersFile], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    expect(applied.stdout).toMatch(/\+ demo-oauth \(create OAUTH2\)/);
    server = await startServerProcess(env);
  }, 180_000);

  afterAll(async () => {
    await server?.stop('SIGTERM');
    demo?.kill('SIGTERM');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('an OAuth connection: consent at the demo provider, its token opens the demo API directly and through the proxy', { timeout: 60_000 }, async () => {
    const api = clients(server.baseUrl, ADMIN_KEY);
    const created = await api.connections.createConnection({
      workspaceId: 'user_abc123',
      provider: { case: 'providerName', value: 'demo-oauth' },
      returnUrl: RETURN_URL,
    });
    const browser = new Browser();
    const { providerUrl } = await browser.confirm(created.authUrl);
    // The demo provider approves at once: its /authorize sends the browser straight back to Nexus.
    const authorize = await browser.fetch(providerUrl);
    expect(authorize.status).toBe(302);
    const back = await browser.callback(authorize.headers.get('location')!);
    expect(back.status).toBe(302);
    expect(new URL(back.location!).searchParams.get('status')).toBe('success');
    const id = created.connection!.id;
    expect((await api.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.ACTIVE);

    const credential = (await api.tokens.getToken({ connectionId: id })).credential!;
    const accessToken = (credential.credentials.value as { accessToken: string }).accessToken;
    const direct = await fetch(`${apiUrl}/v1/things`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(direct.status).toBe(200);
    expect(await direct.json()).toEqual({ ok: true, path: '/v1/things', method: 'GET' });
    // A token the demo provider never issued is refused: the API checks what it is given.
    expect((await fetch(`${apiUrl}/v1/things`, { headers: { authorization: 'Bearer made-up' } })).status).toBe(401);
    expect((await fetch(`${apiUrl}/v1/things`)).status).toBe(401);

    const proxied = await fetch(`${server.baseUrl}/proxy/${id}/v1/things?page=2`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(proxied.status).toBe(200);
    expect(await proxied.json()).toEqual({ ok: true, path: '/v1/things?page=2', method: 'GET' });
    expect(demoOut).toMatch(/api: GET \/v1\/things\?page=2 -> 200/);
  });

  it('an API-key connection: the demo key opens the demo API through the proxy; another key does not', { timeout: 60_000 }, async () => {
    const api = clients(server.baseUrl, ADMIN_KEY);
    const connect = async (workspaceId: string, key: string) => {
      const created = await api.connections.createConnection({
        workspaceId,
        provider: { case: 'providerName', value: 'demo-api-key' },
        returnUrl: RETURN_URL,
      });
      await api.connections.submitCredentials({ state: created.state, credentials: { api_key: key } });
      return created.connection!.id;
    };
    const good = await connect('user_key_ok', 'demo-key-123');
    const res = await fetch(`${server.baseUrl}/proxy/${good}/v1/items`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: '{}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, path: '/v1/items', method: 'POST' });

    const wrong = await connect('user_key_wrong', 'not-the-demo-key');
    const refused = await fetch(`${server.baseUrl}/proxy/${wrong}/v1/items`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    // The provider's own 401 passes through (the proxy says so: no Nexus-Error header).
    expect(refused.status).toBe(401);
    expect(refused.headers.get('nexus-error')).toBeNull();
    expect(await refused.json()).toEqual({ error: 'no valid credential' });
  });
});

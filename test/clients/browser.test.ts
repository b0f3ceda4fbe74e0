// @nexus-broker/client in a real browser: the package is built, packed and installed from its
// tarball as a user gets it (test/clients/build.ts), a small page importing it is bundled with
// esbuild for the browser, served from its own origin, and run in headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core; no browser is downloaded). The page
// calls a live Nexus cross-origin over Connect-Web (CORS, `authorization` header included) and
// a local "provider API" through nexusFetch.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyLocation, AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type TestApp } from '../support/test-app.js';
import { copySource, removeTempDirs, run, tempDir } from './build.js';
import { CHROMIUM, launchChromium } from '../webapp/support.js';
import { REPO_ROOT } from './support.js';

const PAGE_TIMEOUT_MS = 20_000;

// The page's program, compiled against the installed package. Its config comes in the URL
// fragment; it shows what it did in the DOM and sets #status[data-state] to done or error.
const ENTRY = `
import {
  ErrorReason, NexusError, NotFoundError, StrategyType, TokenSource, createNexusClient, nexusFetch,
} from '@nexus-broker/client';
import { ErrorInfoSchema } from '@nexus-broker/client/gen/google/rpc/error_details_pb';

interface PageConfig {
  nexus: string;
  mode: 'full' | 'list';
  adminKey?: string;
  provider?: string;
  apiKey?: string;
  api?: string;
  returnUrl?: string;
}
const cfg = JSON.parse(decodeURIComponent(location.hash.slice(1))) as PageConfig;
const result: Record<string, unknown> = { origin: location.origin };

function show(id: string, text: string) {
  const p = document.createElement('p');
  p.id = id;
  p.textContent = text;
  document.getElementById('out')!.append(p);
}
function describe(err: unknown) {
  if (err instanceof Error) return { name: err.name, message: err.message, nexus: err instanceof NexusError };
  return { name: typeof err, message: String(err), nexus: false };
}

async function main() {
  // (1) Public ListProviders, without an API key.
  const anonymous = createNexusClient({ baseUrl: cfg.nexus });
  try {
    const { providers } = await anonymous.providers.listProviders({});
    const names = providers.map((p) => p.name);
    result.list = { ok: true, names };
    show('providers', names.join(', '));
  } catch (err) {
    result.list = { ok: false, error: describe(err) };
    show('providers', 'failed: ' + String(err));
    if (cfg.mode === 'list') return;
    throw err;
  }
  if (cfg.mode === 'list') return;

  // (2) A typed error: GetProvider for a name that does not exist.
  try {
    await anonymous.providers.getProvider({ provider: 'no-such-provider-' + Date.now() });
    result.notFound = { thrown: false };
  } catch (err) {
    const info = err instanceof NexusError ? err.cause.findDetails(ErrorInfoSchema)[0] : undefined;
    result.notFound = {
      thrown: true,
      isNotFoundError: err instanceof NotFoundError,
      isNexusError: err instanceof NexusError,
      name: (err as Error).name,
      reason: err instanceof NexusError ? err.reason : undefined,
      reasonIsEnum: err instanceof NexusError && err.reason === ErrorReason[ErrorReason.PROVIDER_NOT_FOUND],
      errorInfoReason: info?.reason,
      errorInfoDomain: info?.domain,
    };
    show('not-found', (err as Error).name + ' ' + (info?.reason ?? ''));
  }

  // (3) With the admin key: connect an API-key provider, then call the provider API with the
  // injected key through TokenSource + nexusFetch.
  const admin = createNexusClient({ baseUrl: cfg.nexus, apiKey: cfg.adminKey });
  const created = await admin.connections.createConnection({
    workspaceId: 'browser-user',
    provider: { case: 'providerName', value: cfg.provider! },
    returnUrl: cfg.returnUrl!,
  });
  const submitted = await admin.connections.submitCredentials({ state: created.state, credentials: { api_key: cfg.apiKey! } });
  const connectionId = submitted.connection!.id;
  const source = new TokenSource({ client: admin, connectionId });
  const token = await source.token();
  const fetchWithKey = nexusFetch(source);
  const res = await fetchWithKey(cfg.api + '/echo?from=browser', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hello: 'browser' }),
  });
  result.inject = {
    connectionId,
    strategy: 'STRATEGY_TYPE_' + StrategyType[token.strategy!.type],
    status: res.status,
    body: await res.json(),
  };
  show('inject', 'provider API answered ' + res.status);
}

const status = document.getElementById('status')!;
main().then(
  () => {
    document.getElementById('result')!.textContent = JSON.stringify(result);
    status.dataset.state = 'done';
  },
  (err: unknown) => {
    result.error = describe(err);
    result.stack = err instanceof Error ? err.stack : undefined;
    document.getElementById('result')!.textContent = JSON.stringify(result);
    status.dataset.state = 'error';
  },
);
`;

const HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Nexus client in a browser</title></head>
<body><div id="out"></div><div id="status"></div><pre id="result"></pre>
<script type="module" src="/app.js"></script></body></html>`;

interface PageResult {
  origin: string;
  list?: { ok: boolean; names?: string[]; error?: { name: string; message: string; nexus: boolean } };
  notFound?: Record<string, unknown>;
  inject?: { connectionId: string; strategy: string; status: number; body: unknown };
  error?: { name: string; message: string };
  stack?: string;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
async function stop(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

describe('TypeScript client package in a browser (headless Chromium)', () => {
  let bundle: string;
  let browser: Browser;
  let nexus: TestApp;
  let refusing: TestApp;
  let pageServer: Server;
  let pageUrl: string;
  let apiServer: Server;
  let apiUrl: string;
  const apiKey = `kb_${randomBytes(12).toString('hex')}`;
  /** What the provider API received (preflights included). */
  const received: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install chromium; .ci/run does this)`);
    }
    // Build from source, pack, and install the tarball into a fresh project, as in ts-client.test.ts.
    const src = tempDir('nexus-ts-src-');
    copySource(path.join(REPO_ROOT, 'clients/ts'), src);
    await run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: src });
    const packDir = tempDir('nexus-ts-pack-');
    await run('npm', ['pack', '--pack-destination', packDir], { cwd: src, env: { NEXUS_GEN_TS: path.join(REPO_ROOT, 'gen/ts') } });
    const tarball = path.join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);
    const appDir = tempDir('nexus-ts-web-');
    writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'web-app', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: appDir });

    // Bundle the page's program for browsers; imports resolve from the app's node_modules only.
    writeFileSync(path.join(appDir, 'entry.ts'), ENTRY);
    const out = await build({
      absWorkingDir: appDir,
      entryPoints: [path.join(appDir, 'entry.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      nodePaths: [],
      logLevel: 'silent',
    });
    bundle = out.outputFiles[0]!.text;

    // The page's own origin.
    pageServer = createServer((req, res) => {
      const p = new URL(req.url!, 'http://x').pathname;
      if (p === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HTML);
      else if (p === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
      else if (p === '/favicon.ico') res.writeHead(204).end();
      else res.writeHead(404).end();
    });
    pageUrl = await listen(pageServer);

    // The provider API, on a third origin: answers CORS preflights and echoes the key it got.
    apiServer = createServer((req, res) => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers });
      const cors = {
        'access-control-allow-origin': req.headers.origin ?? '*',
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'content-type, x-test-key',
        vary: 'origin',
      };
      if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
      req.resume();
      req.on('end', () => {
        const key = req.headers['x-test-key'];
        res.writeHead(key === `Token ${apiKey}` ? 200 : 401, { ...cors, 'content-type': 'application/json' });
        res.end(JSON.stringify({ receivedKey: key ?? null }));
      });
    });
    apiUrl = await listen(apiServer);

    nexus = await startTestApp({ backend: 'embedded', config: { corsOrigins: ['http://127.0.0.1:*'] } });
    refusing = await startTestApp({ backend: 'embedded', config: { corsOrigins: ['http://localhost:1'] } });
    for (const app of [nexus, refusing]) {
      await clients(app.baseUrl, ADMIN_KEY).providers.createProvider({
        provider: {
          name: 'browser-key',
          displayName: 'Browser key',
          authType: AuthType.API_KEY,
          enabled: true,
          apiKey: { location: ApiKeyLocation.HEADER, name: 'X-Test-Key', prefix: 'Token ' },
        },
      });
    }

    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await stop(pageServer);
    await stop(apiServer);
    await nexus?.close();
    await refusing?.close();
    removeTempDirs();
  });

  /** Opens the page with this config and returns what it reports, or fails with the page's log. */
  async function runPage(config: Record<string, unknown>): Promise<{ result: PageResult; log: string[] }> {
    const page = await browser.newPage();
    const log: string[] = [];
    page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
    try {
      await page.goto(`${pageUrl}/#${encodeURIComponent(JSON.stringify(config))}`, { timeout: PAGE_TIMEOUT_MS });
      await page.waitForSelector('#status[data-state]', { state: 'attached', timeout: PAGE_TIMEOUT_MS });
      const state = await page.getAttribute('#status', 'data-state');
      const result = JSON.parse((await page.textContent('#result')) ?? '{}') as PageResult;
      if (state !== 'done') {
        throw new Error(`the page failed: ${result.error?.name}: ${result.error?.message}\n${result.stack ?? ''}`);
      }
      return { result, log };
    } catch (err) {
      (err as Error).message += `\n--- page log:\n${log.join('\n')}`;
      throw err;
    } finally {
      await page.close();
    }
  }

  it('runs from another origin: public ListProviders, typed NotFoundError, connection + nexusFetch injection', async () => {
    const { result } = await runPage({
      mode: 'full',
      nexus: nexus.baseUrl,
      adminKey: ADMIN_KEY,
      provider: 'browser-key',
      apiKey,
      api: apiUrl,
      returnUrl: RETURN_URL,
    });
    // The page really ran cross-origin.
    expect(result.origin).toBe(pageUrl);
    expect(new URL(result.origin).origin).not.toBe(new URL(nexus.baseUrl).origin);

    // (1) Without a key.
    expect(result.list).toEqual({ ok: true, names: ['browser-key'] });

    // (2) A NotFoundError from the installed package, with the ErrorInfo detail decoded in the browser.
    expect(result.notFound).toEqual({
      thrown: true,
      isNotFoundError: true,
      isNexusError: true,
      name: 'NotFoundError',
      reason: 'PROVIDER_NOT_FOUND',
      reasonIsEnum: true,
      errorInfoReason: 'ERROR_REASON_PROVIDER_NOT_FOUND',
      errorInfoDomain: 'nexus',
    });

    // (3) The admin key went to Nexus in `authorization`; the provider API got the injected key.
    expect(result.inject).toMatchObject({ strategy: 'STRATEGY_TYPE_API_KEY', status: 200, body: { receivedKey: `Token ${apiKey}` } });
    expect(result.inject!.connectionId).toMatch(/^conn_/);
    const posts = received.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.url).toBe('/echo?from=browser');
    expect(posts[0]!.headers['x-test-key']).toBe(`Token ${apiKey}`);
    expect(posts[0]!.headers.origin).toBe(pageUrl);
    // The browser preflighted the custom header, and no Nexus credential reached the provider API.
    expect(received.some((r) => r.method === 'OPTIONS' && /x-test-key/i.test(String(r.headers['access-control-request-headers'])))).toBe(true);
    for (const r of received) expect(JSON.stringify(r.headers)).not.toContain(ADMIN_KEY);
    // Nexus kept the connection.
    const got = await clients(nexus.baseUrl, ADMIN_KEY).connections.getConnection({ connectionId: result.inject!.connectionId });
    expect(got.connection?.id).toBe(result.inject!.connectionId);
  }, 60_000);

  it('is refused by a Nexus whose CORS list does not include the page origin', async () => {
    // The server is up and answers outside a browser...
    const direct = await clients(refusing.baseUrl).providers.listProviders({});
    expect(direct.providers.map((p) => p.name)).toEqual(['browser-key']);
    // ...but does not allow this origin, so the browser blocks the call.
    const { result, log } = await runPage({ mode: 'list', nexus: refusing.baseUrl });
    expect(result.list?.ok, `ListProviders from ${pageUrl} should have been blocked; page log:\n${log.join('\n')}`).toBe(false);
    expect(result.list?.error?.message).toMatch(/failed to fetch/i);
    // Typed: a network failure is an UnavailableError (a NexusError), as docs/clients/typescript.md says.
    expect(result.list?.error?.name).toBe('UnavailableError');
    expect(result.list?.error?.nexus).toBe(true);
    expect(log.join('\n')).toMatch(/blocked by CORS policy/);
    // The allowed Nexus, for contrast, answers the same preflight for this origin.
    const preflight = (base: string) =>
      fetch(`${base}/nexus.v1.ProviderService/ListProviders`, {
        method: 'OPTIONS',
        headers: {
          origin: pageUrl,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,connect-protocol-version,authorization',
        },
      });
    expect((await preflight(refusing.baseUrl)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(nexus.baseUrl)).headers.get('access-control-allow-origin')).toBe(pageUrl);
  }, 60_000);
});

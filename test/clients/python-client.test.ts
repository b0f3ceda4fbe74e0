// nexus-broker (clients/python), as a user gets it: a wheel built with `pip wheel`, installed
// into a fresh virtual environment, and used by agent programs over gRPC (blocking and
// asyncio) and through the real /proxy route against a live Nexus.
import { copyFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyLocation, AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { throughNexus, user } from '../support/consent.js';
import { allowOutbound } from '../support/outbound-hosts.js';
import { ADMIN_KEY, clients } from '../support/test-app.js';
import { removeTempDirs, run, tempDir } from './build.js';
import { MYPY, pythonApp, type PythonApp } from './python-venv.js';
import { Agent, REPO_ROOT, runScenario, startEnv, type Env } from './support.js';

const SCRIPTS = path.join(REPO_ROOT, 'test/clients/python');

/**
 * The upstream API behind the proxy, built to tell a streamed body from a buffered one:
 * POST /up records the bytes as they arrive (GET /seen, asked directly by the agent, reports
 * them), and GET /down sends its first chunk, then the rest only once the agent, having
 * received that chunk, calls POST /ack directly. A buffering hop deadlocks both.
 */
class StreamingUpstream {
  readonly key = `up_${randomBytes(12).toString('hex')}`;
  url = '';
  seen = 0;
  private acked: (() => void) | null = null;
  private ackedEarly = false;
  readonly headers: Record<string, string | string[] | undefined>[] = [];
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/seen') return void res.end(JSON.stringify({ bytes: this.seen }));
      if (url.pathname === '/reset') {
        this.seen = 0;
        return void res.end('{}');
      }
      if (url.pathname === '/ack') {
        if (this.acked) this.acked();
        else this.ackedEarly = true;
        return void res.end('{}');
      }
      this.headers.push(req.headers);
      const keyOk = req.headers['x-upstream-key'] === this.key;
      if (url.pathname === '/up') {
        const hash = createHash('sha256');
        let bytes = 0;
        req.on('data', (c: Buffer) => {
          hash.update(c);
          bytes += c.length;
          this.seen += c.length;
        });
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ bytes, sha256: hash.digest('hex'), query: url.search, key_ok: keyOk }));
        });
        return;
      }
      if (url.pathname === '/down') {
        res.writeHead(keyOk ? 200 : 401, { 'content-type': 'text/plain' });
        res.write(`first ${'.'.repeat(1000)}\n`);
        const rest = () => res.end(`${'-'.repeat(100_000)}\nlast\n`);
        if (this.ackedEarly) {
          this.ackedEarly = false;
          rest();
        } else {
          const timer = setTimeout(() => res.destroy(), 20_000);
          this.acked = () => {
            clearTimeout(timer);
            this.acked = null;
            rest();
          };
        }
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('Python client package', () => {
  let env: Env;
  let app: PythonApp;
  let upstream: StreamingUpstream;
  let agentEnv: Record<string, string>;

  beforeAll(async () => {
    // One pip run for the package, its extras and the tools the checks below use.
    app = await pythonApp(['aws', 'requests', 'typing'], [MYPY, 'build', 'twine', 'setuptools>=68', 'wheel']);
    copyFileSync(path.join(REPO_ROOT, 'clients/examples/python/agent.py'), path.join(app.dir, 'agent.py'));
    upstream = new StreamingUpstream();
    await upstream.start();
    allowOutbound(new URL(upstream.url).host);
    env = await startEnv();
    await clients(env.nexus.baseUrl, ADMIN_KEY).providers.createProvider({
      provider: {
        name: 'stream-api',
        displayName: 'Streaming API',
        authType: AuthType.API_KEY,
        enabled: true,
        apiKey: { location: ApiKeyLocation.HEADER, name: 'X-Upstream-Key' },
        apiBaseUrl: upstream.url,
      },
    });
    agentEnv = {
      ...env.agentEnv,
      NEXUS_ADDR: env.nexus.baseUrl.replace(/^http:\/\//, ''),
      NEXUS_URL: env.nexus.baseUrl,
      UPSTREAM_URL: upstream.url,
      UPSTREAM_KEY: upstream.key,
      PYTHONPATH: SCRIPTS,
    };
  }, 300_000);
  afterAll(async () => {
    await upstream?.stop();
    await env?.close();
    removeTempDirs();
  });

  const lines = (out: string) => out.trim().split('\n');

  it('installs a typed package with the generated stubs, gRPC modules included', async () => {
    const out = await run(
      app.python,
      [
        '-c',
        'import importlib.resources as r, nexus_broker, nexus.v1.token_pb2 as t; v = r.files("nexus.v1"); print(nexus_broker.__version__, r.files("nexus_broker").joinpath("py.typed").is_file(), v.joinpath("token_pb2.pyi").is_file(), v.joinpath("token_pb2_grpc.pyi").is_file(), v.joinpath("connection_pb2_grpc.pyi").is_file(), t.STRATEGY_TYPE_AWS_SIGV4)',
      ],
      { cwd: app.dir },
    );
    const version = (await import('node:fs')).readFileSync(path.join(REPO_ROOT, 'clients/VERSION'), 'utf8').trim();
    expect(out.trim()).toBe(`${version} True True True True 4`);
  });

  it('runs an agent over gRPC: connections, tokens, injection for every strategy, typed errors', async () => {
    const agent = new Agent(app.python, ['agent.py'], { cwd: app.dir, env: { ...env.agentEnv, NEXUS_ADDR: env.nexus.baseUrl.replace(/^http:\/\//, '') } });
    await runScenario(env, agent, { notFound: 'NotFoundError', invalidArgument: 'InvalidArgumentError', attention: 'AttentionRequiredError' });
  }, 120_000);

  it('types stream errors like unary ones, shows code and reason in repr, retries a read once on a reset socket', async () => {
    const out = lines(await run(app.python, [path.join(SCRIPTS, 'streams_and_retry.py')], { cwd: app.dir, env: agentEnv }));
    const missing = 'conn_00000000000000000000000000';
    const repr = `NotFoundError(code=NOT_FOUND, reason='CONNECTION_NOT_FOUND', message='connection "${missing}" not found', metadata={'connection_id': '${missing}'})`;
    expect(out).toEqual([
      `stream NotFoundError CONNECTION_NOT_FOUND ${repr}`,
      `unary NotFoundError CONNECTION_NOT_FOUND ${repr}`,
      "violations CREDENTIALS_INVALID [('credentials.password', 'is required'), ('credentials.username', 'is required')] True",
      // ListProviders on a connection reset under it: one reset, one new connection, success.
      'retried True 1 2',
      // CreateConnection is not retried: the reset surfaces as UNAVAILABLE, no new connection.
      'not_retried UnavailableError UNAVAILABLE 2 2',
      'unreachable UnavailableError UNAVAILABLE',
      'async_stream NotFoundError CONNECTION_NOT_FOUND',
      'async_unary InvalidArgumentError INVALID_FIELD',
      'async_retried True 1 1',
      'done',
    ]);
  }, 90_000);

  it('waits for a connection while the user consents, blocking and asyncio; ends on FAILED, REVOKED, timeout, cancel', async () => {
    const agent = new Agent(app.python, [path.join(SCRIPTS, 'wait_agent.py')], { cwd: app.dir, env: agentEnv });
    // Plays the user: opens the printed consent link, confirms, consents (or denies) at the
    // authorization server, and lands on the callback.
    const consent = async (prefix: string) => {
      const link = await agent.waitFor(prefix);
      return user.fetch(await env.auth.consent(await throughNexus(link)));
    };
    // The provider API refuses the first OAuth access token it sees (reset: the scenario test
    // may have run before and revoked access).
    env.api.oauthAlways401 = false;
    env.api.rejectFirstOauthToken = true;
    const refreshesBefore = env.auth.refreshRequests;
    await agent.drive(async () => {
      await agent.waitFor('consent ');
      // The agent is blocked in wait_for_connection: nothing printed after the link.
      await new Promise((r) => setTimeout(r, 1000));
      expect(agent.lines.at(-1)).toMatch(/^consent /);
      const cb = await consent('consent ');
      expect(new URL(cb.headers.get('location')!).searchParams.get('status')).toBe('success');
      expect(await agent.waitFor('active ')).toBe('True CONNECTION_STATUS_ACTIVE');

      env.auth.denyConsent = true;
      await consent('deny ');
      env.auth.denyConsent = false;
      expect(await agent.waitFor('denied ')).toBe('ConnectionEndedError CONNECTION_STATUS_FAILED CONNECTION_NOT_ACTIVE');
      expect(await agent.waitFor('timeout ')).toBe('DeadlineExceededError True DEADLINE_EXCEEDED');
      expect(await agent.waitFor('cancelled ')).toBe('CANCELLED');
      expect(await agent.waitFor('revoked ')).toBe('CONNECTION_STATUS_REVOKED');
      expect(await agent.waitFor('not_found ')).toBe('NotFoundError CONNECTION_NOT_FOUND');

      await consent('async_consent ');
      expect(await agent.waitFor('async_active ')).toBe('CONNECTION_STATUS_ACTIVE');
      // One 401, one RefreshToken at the authorization server, one retry with the new token.
      expect(await agent.waitFor('async_oauth_call ')).toBe('200 1');
      expect(env.auth.refreshRequests).toBe(refreshesBefore + 1);
      const oauthCalls = env.api.received.filter((r) => r.provider === 'local-oauth').slice(-2);
      expect(oauthCalls.map((r) => r.problem)).toEqual(['access token rejected', null]);
      expect(await agent.waitFor('async_timeout ')).toBe('DeadlineExceededError True');
      expect(await agent.waitFor('async_cancelled ')).toBe('True');
      await agent.waitFor('done');
      expect(await agent.exit()).toBe(0);
    });
  }, 120_000);

  it('runs the asyncio client, and the proxy transports against the real proxy route, streaming both ways', async () => {
    const out = lines(await run(app.python, [path.join(SCRIPTS, 'async_and_proxy.py')], { cwd: app.dir, env: agentEnv }));
    expect(out).toEqual([
      'upload_streamed True',
      'upload 200 True True ?run=sync True',
      'download 200 True True',
      'proxy_error NotFoundError CONNECTION_NOT_FOUND 404',
      'async_call key-header STRATEGY_TYPE_API_KEY True 200',
      'async_call sigv4 STRATEGY_TYPE_AWS_SIGV4 True 200',
      'async_upload_streamed True',
      'async_upload 200 True True ?run=async',
      'async_download 200 True True',
      'async_proxy_error NotFoundError CONNECTION_NOT_FOUND',
      'done',
    ]);
    // Nexus applied the connection's key; the agent's Nexus API key never reached the upstream.
    expect(upstream.headers.length).toBeGreaterThanOrEqual(4);
    for (const h of upstream.headers) {
      expect(h['x-upstream-key']).toBe(upstream.key);
      expect(JSON.stringify(h)).not.toContain(ADMIN_KEY);
    }
    expect(env.api.ok('key-header').length + env.api.ok('sigv4').length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('rewrites requests for the proxy as docs/proxy.md says (no server: what it hands the transport below)', async () => {
    const out = lines(await run(app.python, [path.join(SCRIPTS, 'proxy_rewrite.py')], { cwd: app.dir, env: agentEnv }));
    expect(out).toEqual([
      // The agent's host is dropped, the connection id is one encoded segment, path and query
      // pass as sent, the agent's own X-API-Key is removed, Host is Nexus's.
      'GET https://nexus.example.com/proxy/conn_a%2Fb/user/repos?per_page=5&q=a%20b host=nexus.example.com auth=Bearer key1 x-api-key=None body=',
      'POST https://nexus.example.com/proxy/conn_a%2Fb/a%2Fb/c host=nexus.example.com auth=Bearer key1 x-api-key=None body=payload',
      // api_base_url's path is stripped once, only on a segment boundary; base_url's path is kept.
      'GET http://nexus.local:8080/base/proxy/conn_c/calendars/primary/events host=nexus.local:8080 auth=Bearer key2 x-api-key=None body=',
      'GET http://nexus.local:8080/base/proxy/conn_c host=nexus.local:8080 auth=Bearer key2 x-api-key=None body=',
      'GET http://nexus.local:8080/base/proxy/conn_c/calendar/v30/other host=nexus.local:8080 auth=Bearer key2 x-api-key=None body=',
      // Only a Nexus-Error header makes an answer Nexus's error; the same body from the provider passes.
      "nexus_error NexusError(code=FAILED_PRECONDITION, reason='CONNECTION_NOT_ACTIVE', message='connection is pending', metadata={'http_status': '409'})",
      'provider_error 409',
      'refused nexus.example.com',
      'refused ftp://nexus.example.com',
      'async PUT https://nexus.example.com/proxy/conn_d/x?y=1 host=nexus.example.com auth=Bearer key3 x-api-key=None body=async-body',
    ]);
  });

  it('passes mypy --strict: the package, the example agent and these test programs', async () => {
    const files = [
      path.join(app.dir, 'agent.py'),
      ...readdirSync(SCRIPTS)
        .filter((f) => f.endsWith('.py'))
        .map((f) => path.join(SCRIPTS, f)),
    ];
    const mypy = (args: string[]) =>
      run(app.python, ['-m', 'mypy', '--strict', '--no-incremental', ...args], { cwd: tempDir('nexus-py-mypy-'), env: { MYPYPATH: SCRIPTS } });
    expect(await mypy(['-p', 'nexus_broker'])).toMatch(/^Success: no issues found/m);
    expect(await mypy(files)).toMatch(/^Success: no issues found in 6 source files/m);
  }, 180_000);

  it('builds an sdist that, with the wheel, passes twine check', async () => {
    const dist = tempDir('nexus-py-dist-');
    await run(app.python, ['-m', 'build', '--no-isolation', '--sdist', '--outdir', dist, app.src], { cwd: app.src });
    const sdist = readdirSync(dist).find((f) => f.endsWith('.tar.gz'));
    expect(sdist).toBeDefined();
    const out = await run(app.python, ['-m', 'twine', 'check', '--strict', path.join(dist, sdist!), app.wheel], { cwd: dist });
    expect(out.match(/PASSED/g)).toHaveLength(2);
  }, 180_000);
});

// Shared harness for the client package suites (ts-client, python-client, go-client):
// a live Nexus, the local OAuth server, a local "provider API" that checks the credentials
// it receives (SigV4 verified here, independently of the signers), and a driver that runs
// an agent program and plays the user for it (OAuth consent, revoking access).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { expect } from 'vitest';
import { userEnv } from './build.js';
import { ApiKeyLocation, AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type TestApp } from '../support/test-app.js';
import { isConsentLink, throughNexus, user } from '../support/consent.js';
import { verifySigV4 } from '../support/sigv4-verifier.js';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

/** The static-credential providers the agents connect, in order, with what the user "types". */
export function staticCredentials() {
  const s = (p: string) => `${p}${randomBytes(10).toString('hex')}`;
  return {
    'key-header': { api_key: s('kh_') },
    'key-query': { api_key: s('kq_') },
    basic: { username: 'agent-user', password: s('pw_') },
    bearer: { token: s('bt_') },
    sigv4: { access_key_id: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secret_access_key: s('sk_'), session_token: s('st_'), region: 'eu-west-1' },
  };
}
export type StaticCredentials = ReturnType<typeof staticCredentials>;

export interface Received {
  provider: string;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** null when the credentials were right, else why not. */
  problem: string | null;
}

/** The provider API: POST /check/<provider>?... answers 200 when the credentials are right. */
export class TestApi {
  readonly received: Received[] = [];
  /** OAuth: access tokens this API refuses with 401 (as if the provider revoked them). */
  readonly rejectedTokens = new Set<string>();
  /** OAuth: refuse the first token seen (forces the client's refresh-and-retry). */
  rejectFirstOauthToken = true;
  /** OAuth: answer 401 to every request (the user revoked the app). */
  oauthAlways401 = false;
  private server!: Server;
  url = '';

  constructor(private readonly creds: StaticCredentials) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const provider = new URL(req.url!, 'http://x').pathname.replace(/^\/check\//, '');
        const { status, problem } = this.check(provider, req, body);
        this.received.push({ provider, method: req.method!, url: req.url!, headers: req.headers, body: body.toString(), problem });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(problem ? { error: problem } : { ok: true, provider }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Successful requests per provider. */
  ok(provider: string): Received[] {
    return this.received.filter((r) => r.provider === provider && r.problem === null);
  }

  private check(provider: string, req: IncomingMessage, body: Buffer): { status: number; problem: string | null } {
    const url = new URL(req.url!, 'http://x');
    const h = req.headers;
    const want = (cond: boolean, problem: string) => (cond ? { status: 200, problem: null } : { status: 401, problem });
    switch (provider) {
      case 'key-header':
        return want(h['x-test-key'] === `Token ${this.creds['key-header'].api_key}`, 'bad X-Test-Key');
      case 'key-query':
        return want(url.searchParams.get('api_key') === this.creds['key-query'].api_key, 'bad api_key query parameter');
      case 'basic': {
        const c = this.creds.basic;
        return want(h.authorization === `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`, 'bad Basic credentials');
      }
      case 'bearer':
        return want(h.authorization === `Bearer ${this.creds.bearer.token}`, 'bad bearer token');
      case 'sigv4': {
        const c = this.creds.sigv4;
        const problem = verifySigV4(req, body, { ...c, service: 'execute-api' });
        return problem ? { status: 403, problem } : { status: 200, problem: null };
      }
      case 'local-oauth': {
        const token = /^Bearer (\S+)$/.exec(h.authorization ?? '')?.[1];
        if (!token || token.split('.').length !== 3) return { status: 401, problem: 'no access token' };
        if (this.oauthAlways401) return { status: 401, problem: 'access revoked' };
        if (this.rejectFirstOauthToken) {
          this.rejectFirstOauthToken = false;
          this.rejectedTokens.add(token);
        }
        return want(!this.rejectedTokens.has(token), 'access token rejected');
      }
      default:
        return { status: 404, problem: `unknown provider ${provider}` };
    }
  }
}

// --- AWS Signature Version 4: test/support/sigv4-verifier.ts (shared with the proxy's tests) ---
export { verifySigV4 };

// --- the environment -----------------------------------------------------------------------

export interface Env {
  nexus: TestApp;
  auth: TestAuthServer;
  api: TestApi;
  creds: StaticCredentials;
  /** Environment variables for the agent program. */
  agentEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function startEnv(): Promise<Env> {
  const auth = await TestAuthServer.start();
  const nexus = await startTestApp({ backend: 'embedded' });
  const creds = staticCredentials();
  const api = new TestApi(creds);
  await api.start();
  const admin = clients(nexus.baseUrl, ADMIN_KEY);
  await admin.providers.createProvider({ provider: oauthProvider(auth) });
  const simple = (name: string, authType: AuthType, extra: object = {}) =>
    admin.providers.createProvider({ provider: { name, displayName: name, authType, enabled: true, ...extra } });
  await simple('key-header', AuthType.API_KEY, { apiKey: { location: ApiKeyLocation.HEADER, name: 'X-Test-Key', prefix: 'Token ' } });
  await simple('key-query', AuthType.API_KEY, { apiKey: { location: ApiKeyLocation.QUERY, name: 'api_key' } });
  await simple('basic', AuthType.BASIC_AUTH);
  await simple('bearer', AuthType.BEARER);
  await simple('sigv4', AuthType.AWS_SIGV4, { awsSigv4: { service: 'execute-api', defaultRegion: 'us-east-1' } });
  const agentEnv = {
    NEXUS_ADDR: nexus.baseUrl,
    NEXUS_API_KEY: ADMIN_KEY,
    NEXUS_RETURN_URL: RETURN_URL,
    NEXUS_OAUTH_PROVIDER: 'local-oauth',
    NEXUS_STATIC_CREDENTIALS: JSON.stringify(creds),
    TEST_API_URL: api.url,
  };
  return {
    nexus,
    auth,
    api,
    creds,
    agentEnv,
    async close() {
      await api.stop();
      await nexus.close();
      await auth.stop();
    },
  };
}

// --- running an agent ------------------------------------------------------------------------

/** A running program, read line by line. */
export class Agent {
  readonly lines: string[] = [];
  stderr = '';
  private waiters: (() => void)[] = [];
  private exited: Promise<number | null>;
  private child: ChildProcess;

  constructor(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string> }) {
    this.child = spawn(cmd, args, { cwd: opts.cwd, env: userEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      this.wake();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.wake();
        resolve(code);
      }),
    );
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits for a line starting with `prefix` and returns the rest. */
  async waitFor(prefix: string, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => l.startsWith(prefix));
      if (line !== undefined) return line.slice(prefix.length).trim();
      if (this.child.exitCode !== null)
        throw new Error(`agent exited (${this.child.exitCode}) before "${prefix}"\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${prefix}"\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  async exit(): Promise<number | null> {
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /**
   * Runs `script`, the test's side of a conversation with this agent: a failure carries the
   * agent's stdout and stderr, and the agent is killed either way.
   */
  async drive<T>(script: () => Promise<T>): Promise<T> {
    try {
      return await script();
    } catch (err) {
      (err as Error).message += `\n--- agent stdout:\n${this.lines.join('\n')}\n--- agent stderr:\n${this.stderr}`;
      throw err;
    } finally {
      this.kill();
    }
  }
}

/**
 * Plays the agent's user through the shared scenario and checks the results. Every agent
 * (TS, Python, Go) speaks the same line protocol on stdout:
 *   connected <provider> <connection_id>      (static connections, created and submitted)
 *   auth_url <url>                            (the test consents, then sends "continue")
 *   connected local-oauth <connection_id>
 *   token <provider> <STRATEGY_TYPE_...>      (GetToken through the client)
 *   call <provider> <http status>             (through the injection layer)
 *   error <case> <TypeName> <REASON>          (case: not_found, invalid_argument, attention_required)
 *   await attention                           (the test revokes access, then sends "continue")
 *   done
 */
export async function runScenario(env: Env, agent: Agent, names: { attention: string; notFound: string; invalidArgument: string }): Promise<void> {
  const { api, auth, nexus, creds } = env;
  await agent.drive(async () => {
    const authUrl = await agent.waitFor('auth_url ');
    // The agent hands out Nexus's consent link; the person confirms there, then at the provider.
    expect(isConsentLink(authUrl)).toBe(true);
    const providerUrl = await throughNexus(authUrl);
    expect(new URL(providerUrl).origin + new URL(providerUrl).pathname).toBe(auth.authorizationUrl);
    const callback = await auth.consent(providerUrl);
    const cb = await user.fetch(callback);
    expect(cb.status).toBe(302);
    expect(new URL(cb.headers.get('location')!).searchParams.get('status')).toBe('success');
    const refreshesBefore = auth.refreshRequests;
    agent.send('continue');

    await agent.waitFor('await attention');
    // Every strategy went through the injection layer and was accepted.
    const providers = [...Object.keys(creds), 'local-oauth'];
    for (const p of providers) {
      expect(await agent.waitFor(`connected ${p} `)).toMatch(/^conn_/);
      expect(await agent.waitFor(`call ${p} `), `call ${p}`).toBe('200');
      const ok = api.ok(p);
      expect(ok.length, `${p}: ${JSON.stringify(api.received.filter((r) => r.provider === p).map((r) => r.problem))}`).toBeGreaterThanOrEqual(1);
      expect(ok[0]!.body).toBe('{"hello":"world"}');
    }
    expect(await agent.waitFor('token local-oauth ')).toBe('STRATEGY_TYPE_OAUTH2');
    expect(await agent.waitFor('token key-header ')).toBe('STRATEGY_TYPE_API_KEY');
    expect(await agent.waitFor('token sigv4 ')).toBe('STRATEGY_TYPE_AWS_SIGV4');
    // No Nexus credential leaked to the provider API, and the SigV4 request was signed with a session token.
    for (const r of api.received) expect(JSON.stringify(r.headers)).not.toContain(env.agentEnv.NEXUS_API_KEY);
    expect(api.ok('sigv4')[0]!.headers['x-amz-security-token']).toBe(creds.sigv4.session_token);
    // The OAuth API refused the first token with 401: one forced refresh, one retry with a new token.
    const oauthCalls = api.received.filter((r) => r.provider === 'local-oauth');
    expect(oauthCalls.map((r) => r.problem)).toEqual(['access token rejected', null]);
    expect(oauthCalls[0]!.headers.authorization).not.toBe(oauthCalls[1]!.headers.authorization);
    expect(auth.refreshRequests).toBe(refreshesBefore + 1);

    expect(await agent.waitFor('error not_found ')).toBe(`${names.notFound} CONNECTION_NOT_FOUND`);
    expect(await agent.waitFor('error invalid_argument ')).toBe(`${names.invalidArgument} INVALID_FIELD`);

    // The user revokes the app at the provider: the API answers 401, the client forces one
    // refresh, the provider rejects it, and the agent gets ATTENTION_REQUIRED, not retried.
    auth.forgetRefreshTokens();
    api.oauthAlways401 = true;
    const seen = api.received.length;
    const refreshes = auth.refreshRequests;
    agent.send('continue');
    expect(await agent.waitFor('error attention_required ')).toBe(`${names.attention} ATTENTION_REQUIRED`);
    expect(auth.refreshRequests).toBe(refreshes + 1);
    expect(api.received.length).toBe(seen + 1);
    await agent.waitFor('done');
    expect(await agent.exit()).toBe(0);
    // Secrets never reach Nexus's logs.
    const logs = nexus.logs.join('');
    for (const c of Object.values(creds)) for (const v of Object.values(c)) if (v.length > 12) expect(logs).not.toContain(v);
  });
}

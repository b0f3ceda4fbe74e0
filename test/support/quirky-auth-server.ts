import { createHash, randomBytes } from 'node:crypto';
import dns from 'node:dns';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Agent, setGlobalDispatcher } from 'undici';
import type { Resolver } from '../../src/domain/outbound/outbound-policy.js';
import { allowOutbound } from './outbound-hosts.js';
import { throughNexus } from './consent.js';

/**
 * A strict OAuth 2.0 authorization server with the quirks real providers
 * have, one instance per behaviour, over real HTTP on loopback:
 * - clientAuth: the ONLY client authentication it accepts ('basic' refuses
 *   credentials in the body, 'post' refuses an Authorization header);
 * - tokenFormat: 'json', 'form' (form-encoded whatever the Accept header,
 *   and OAuth errors in a 200 answer, as GitHub does), 'form-unless-accept-json'
 *   (GitHub's actual behaviour), or 'nested' (Slack's user token under
 *   authed_user, a different bot token at the top level; refresh answers
 *   flat with token_type "user");
 * - requiredAuthorizeParams / requiredTokenParams: refused without them;
 * - expectedScope: the exact `scope` string the authorize request must carry;
 * - host: the exact Host header every request must carry (tenant subdomains);
 * - pkce: 'required' (the default) or 'refused' (a server that rejects a
 *   code_challenge on the authorize request and a code_verifier at the token
 *   endpoint, as some non-PKCE servers do);
 * - userinfo: a GitHub-like user endpoint (GET /user, Bearer access token)
 *   answering this JSON for tokens it issued, 401 otherwise.
 * Codes are single-use and PKCE-bound (unless PKCE is refused); refresh tokens rotate.
 */
export interface QuirkyOptions {
  clientAuth: 'basic' | 'post';
  tokenFormat: 'json' | 'form' | 'form-unless-accept-json' | 'nested';
  requiredAuthorizeParams?: Record<string, string>;
  requiredTokenParams?: Record<string, string>;
  expectedScope?: string;
  /** Host name (without port) every request must be addressed to. */
  host?: string;
  pkce?: 'required' | 'refused';
  userinfo?: Record<string, unknown>;
}

interface IssuedCode {
  redirectUri: string;
  challenge: string;
  scope: string;
}

export class QuirkyAuthServer {
  readonly clientId = 'quirky-client';
  readonly clientSecret = 'quirky-secret-7c1d!';
  /** Access tokens this server issued, newest last (what GetToken must hand out). */
  readonly accessTokens: string[] = [];
  /** The top-level decoy token of 'nested' answers (what GetToken must NOT hand out). */
  readonly decoyTokens: string[] = [];
  readonly tokenRequests: { grant: string; accept: string; auth: 'basic' | 'post' | 'none'; refused?: string }[] = [];
  readonly authorizeRefusals: string[] = [];
  readonly revoked: string[] = [];
  /** Authorization headers of the GET /user requests. */
  readonly userinfoRequests: string[] = [];
  private readonly codes = new Map<string, IssuedCode>();
  private readonly refreshTokens = new Set<string>();
  private port = 0;

  private constructor(
    private readonly app: FastifyInstance,
    readonly options: QuirkyOptions,
  ) {}

  /** `port`: one reserved in advance (quirkyPorts), for a server started after the Nexus that must reach it. */
  static async start(options: QuirkyOptions, port = 0): Promise<QuirkyAuthServer> {
    const app = Fastify();
    const server = new QuirkyAuthServer(app, options);
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    app.get('/oauth/authorize', (req, reply) => server.authorize(req, reply));
    app.post('/oauth/token', (req, reply) => server.token(req, reply));
    app.post('/oauth/revoke', (req, reply) => server.revoke(req, reply));
    app.get('/user', (req, reply) => server.user(req, reply));
    await app.listen({ port, host: '127.0.0.1' });
    server.port = (app.server.address() as { port: number }).port;
    allowOutbound(`127.0.0.1:${server.port}`);
    return server;
  }

  /** Base URL; with a `host` option, the template host part is the caller's to write. */
  get origin(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }
  get portNumber(): number {
    return this.port;
  }

  /** Plays the user at the consent screen; throws with the refusal when the authorize request is not acceptable. */
  async consent(authUrl: string): Promise<string> {
    // A Nexus consent link is confirmed on Nexus's page first, as the person would.
    const res = await fetch(await throughNexus(authUrl), { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status !== 302 || !location) throw new Error(`authorization server refused: ${await res.text()}`);
    return location;
  }

  forgetRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  async stop(): Promise<void> {
    await this.app.close();
  }

  private wrongHost(req: FastifyRequest): boolean {
    return this.options.host !== undefined && req.headers.host !== `${this.options.host}:${this.port}`;
  }

  private authorize(req: FastifyRequest, reply: FastifyReply) {
    const q = req.query as Record<string, string | undefined>;
    const refuse = (why: string) => {
      this.authorizeRefusals.push(why);
      return reply.code(400).type('text/plain').send(why);
    };
    if (this.wrongHost(req)) return refuse(`wrong host ${req.headers.host}`);
    if (q.response_type !== 'code') return refuse('response_type must be code');
    if (q.client_id !== this.clientId) return refuse('unknown client_id');
    if (!q.redirect_uri || !q.state) return refuse('redirect_uri and state are required');
    if (this.options.pkce === 'refused') {
      if (q.code_challenge !== undefined || q.code_challenge_method !== undefined) return refuse('code_challenge is not supported');
    } else if (q.code_challenge_method !== 'S256' || !q.code_challenge) {
      return refuse('PKCE S256 is required');
    }
    for (const [k, v] of Object.entries(this.options.requiredAuthorizeParams ?? {})) {
      if (q[k] !== v) return refuse(`${k}=${v} is required`);
    }
    if (this.options.expectedScope !== undefined && q.scope !== this.options.expectedScope) {
      return refuse(`scope must be exactly "${this.options.expectedScope}", got "${q.scope}"`);
    }
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { redirectUri: q.redirect_uri, challenge: q.code_challenge ?? '', scope: q.scope ?? '' });
    const back = new URL(q.redirect_uri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.state);
    return reply.redirect(back.href, 302);
  }

  private token(req: FastifyRequest, reply: FastifyReply) {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    const accept = req.headers.accept ?? '';
    const auth = req.headers.authorization?.startsWith('Basic ') ? 'basic' : body.client_secret ? 'post' : 'none';
    const record = { grant: body.grant_type ?? '', accept, auth } as QuirkyAuthServer['tokenRequests'][number];
    this.tokenRequests.push(record);
    const fail = (error: string, status = 400) => {
      record.refused = error;
      return this.answer(reply, accept, { error }, status);
    };
    if (this.wrongHost(req)) return fail('invalid_request');
    if (!this.clientAuthenticated(req, body)) return fail('invalid_client', 401);
    for (const [k, v] of Object.entries(this.options.requiredTokenParams ?? {})) {
      if (body[k] !== v) return fail('invalid_request');
    }
    let scope: string;
    if (body.grant_type === 'authorization_code') {
      const issued = this.codes.get(body.code ?? '');
      this.codes.delete(body.code ?? '');
      if (!issued || issued.redirectUri !== body.redirect_uri) return fail('invalid_grant');
      if (this.options.pkce === 'refused') {
        if (body.code_verifier !== undefined) return fail('invalid_request');
      } else if (
        createHash('sha256')
          .update(body.code_verifier ?? '')
          .digest('base64url') !== issued.challenge
      ) {
        return fail('invalid_grant');
      }
      scope = issued.scope;
    } else if (body.grant_type === 'refresh_token') {
      if (!this.refreshTokens.delete(body.refresh_token ?? '')) return fail('invalid_grant');
      scope = 'refreshed';
    } else {
      return fail('unsupported_grant_type');
    }
    const accessToken = `at-${randomBytes(12).toString('hex')}`;
    const refreshToken = `rt-${randomBytes(12).toString('hex')}`;
    this.accessTokens.push(accessToken);
    this.refreshTokens.add(refreshToken);
    const tokens = { access_token: accessToken, token_type: 'bearer', expires_in: 3600, refresh_token: refreshToken, scope };
    // Slack nests the user token in the code exchange's answer; a refresh answer is flat, typed "user".
    if (this.options.tokenFormat === 'nested' && body.grant_type === 'refresh_token') {
      return reply.send({ ok: true, ...tokens, token_type: 'user' });
    }
    if (this.options.tokenFormat === 'nested') {
      const decoy = `xoxb-${randomBytes(8).toString('hex')}`;
      this.decoyTokens.push(decoy);
      const { token_type: _t, ...user } = tokens;
      return reply.send({ ok: true, access_token: decoy, token_type: 'bot', scope: 'bot:scope', authed_user: { id: 'U1', token_type: 'user', ...user } });
    }
    return this.answer(reply, accept, tokens, 200);
  }

  private revoke(req: FastifyRequest, reply: FastifyReply) {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    if (this.wrongHost(req)) return reply.code(400).send({ error: 'invalid_request' });
    if (!this.clientAuthenticated(req, body)) return reply.code(401).send({ error: 'invalid_client' });
    this.revoked.push(body.token ?? '');
    return reply.code(200).send('');
  }

  private user(req: FastifyRequest, reply: FastifyReply) {
    const header = req.headers.authorization ?? '';
    this.userinfoRequests.push(header);
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!this.options.userinfo || !this.accessTokens.includes(token)) return reply.code(401).send({ message: 'Bad credentials' });
    return reply.send(this.options.userinfo);
  }

  /** Form answers carry their OAuth errors in a 200, as GitHub's do. */
  private answer(reply: FastifyReply, accept: string, body: Record<string, unknown>, status: number) {
    const form = this.options.tokenFormat === 'form' || (this.options.tokenFormat === 'form-unless-accept-json' && !accept.includes('application/json'));
    if (!form) return reply.code(status).send(body);
    const encoded = new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)])).toString();
    return reply.code(200).type('application/x-www-form-urlencoded').send(encoded);
  }

  private clientAuthenticated(req: FastifyRequest, body: Record<string, string | undefined>): boolean {
    const header = req.headers.authorization;
    if (this.options.clientAuth === 'basic') {
      if (body.client_secret !== undefined || !header?.startsWith('Basic ')) return false;
      const [id, secret] = Buffer.from(header.slice(6), 'base64')
        .toString()
        .split(':')
        .map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));
      return id === this.clientId && secret === this.clientSecret;
    }
    if (header) return false;
    return body.client_id === this.clientId && body.client_secret === this.clientSecret;
  }
}

/**
 * Resolves every `*.quirky.test` host to loopback for this process's fetch
 * (Nexus's OAuth client and the test's browser), as DNS would resolve a
 * real tenant's subdomain.
 */
export function resolveQuirkyHostsToLoopback(): void {
  setGlobalDispatcher(
    new Agent({
      connect: {
        lookup: (host, opts, cb) => {
          if (!host.endsWith('.quirky.test')) return dns.lookup(host, opts, cb);
          if ((opts as { all?: boolean }).all)
            return (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
          return (cb as (e: null, a: string, f: number) => void)(null, '127.0.0.1', 4);
        },
      },
    }),
  );
}

/** Nexus's outbound resolver for these tests: *.quirky.test is loopback, anything else is not found. */
export const quirkyResolver: Resolver = async (hostname) => {
  if (hostname.endsWith('.quirky.test')) return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

/**
 * Ports reserved before Nexus starts for quirky servers started later,
 * with their allow-list entries (loopback and the tenant host names).
 */
export async function quirkyPorts(count: number, hostNames: string[]): Promise<{ ports: number[]; allowedHosts: string[] }> {
  const { freePort } = await import('./ports.js');
  const ports: number[] = [];
  while (ports.length < count) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return { ports, allowedHosts: ports.flatMap((p) => ['127.0.0.1', ...hostNames].map((h) => `${h}:${p}`)) };
}

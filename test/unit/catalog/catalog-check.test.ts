// `nexus catalog check` against a local server on loopback that plays the services: one whose
// endpoints still answer, one whose authorization endpoint is gone, one whose discovery document
// moved the token endpoint, one that fails, an MCP server. The outbound policy allow-lists that
// server's host:port only, so the same run shows the SSRF-safe fetch refusing everything else.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCatalog, describeCheck, type CheckedEntry } from '../../../src/domain/catalog/catalog-check.js';
import { ProviderCatalog } from '../../../src/domain/catalog/provider-catalog.js';
import { OutboundPolicy } from '../../../src/domain/outbound/outbound-policy.js';
import { createSafeFetch } from '../../../src/domain/outbound/safe-fetch.js';
import type { ProviderInput } from '../../../src/domain/providers/provider-input.js';

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

let server: Server;
let base = '';
const seen: Seen[] = [];

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    seen.push({ method: req.method!, path, authorization: req.headers.authorization, body: await read(req) });
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path === '/live/authorize') return void res.writeHead(400).end('missing client_id');
    if (path === '/live/token') return void json(401, { error: 'invalid_client' });
    if (path === '/gone/token') return void json(400, { error: 'invalid_request' });
    if (path === '/idp/.well-known/openid-configuration') {
      return void json(200, { issuer: `${base}/idp`, authorization_endpoint: `${base}/idp/authorize`, token_endpoint: `${base}/idp/v2/token` });
    }
    if (path === '/same/.well-known/openid-configuration') {
      return void json(200, { issuer: `${base}/same`, authorization_endpoint: `${base}/same/authorize`, token_endpoint: `${base}/same/token` });
    }
    if (path === '/failing/authorize') return void res.writeHead(503).end();
    if (path === '/mcp') return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function oauth(name: string, o: Partial<NonNullable<ProviderInput['oauth2']>>): CheckedEntry {
  return {
    name,
    input: {
      name,
      displayName: name,
      description: '',
      logoUrl: '',
      categories: [],
      authType: 'OAUTH2',
      enabled: true,
      credentialSchema: undefined,
      postOauthFieldsSchema: undefined,
      apiKey: undefined,
      awsSigv4: undefined,
      mcp: undefined,
      oauth2: {
        clientId: '',
        clientSecret: '',
        authorizationUrl: '',
        tokenUrl: '',
        revocationUrl: '',
        issuer: '',
        defaultScopes: [],
        scopeSeparator: '',
        authorizeParams: {},
        clientAuthMethod: undefined,
        ...o,
      },
    },
  };
}

describe('nexus catalog check', () => {
  it('reports what still answers, what moved, what fails and what it cannot check', async () => {
    const policy = new OutboundPolicy({ production: false, allowedHosts: [new URL(base).host] });
    const fetch = createSafeFetch(policy, { timeoutMs: 5_000 });
    const entries: CheckedEntry[] = [
      oauth('live', { authorizationUrl: `${base}/live/authorize`, tokenUrl: `${base}/live/token` }),
      oauth('gone', { authorizationUrl: `${base}/gone/authorize`, tokenUrl: `${base}/gone/token` }),
      oauth('moved-token', { issuer: `${base}/idp`, tokenUrl: `${base}/idp/token` }),
      oauth('same', { issuer: `${base}/same`, authorizationUrl: `${base}/same/authorize`, tokenUrl: `${base}/same/token` }),
      oauth('no-discovery', { issuer: `${base}/nothing` }),
      oauth('failing', { authorizationUrl: `${base}/failing/authorize`, tokenUrl: `${base}/live/token` }),
      oauth('tenant', { authorizationUrl: 'https://{subdomain}.example.com/authorize', tokenUrl: 'https://{subdomain}.example.com/token' }),
      {
        name: 'mcp',
        input: {
          ...oauth('mcp', {}).input,
          authType: 'MCP',
          oauth2: undefined,
          mcp: { serverUrl: `${base}/mcp`, clientId: '', clientSecret: '', defaultScopes: [] },
        },
      },
      { name: 'static', input: { ...oauth('static', {}).input, authType: 'BEARER', oauth2: undefined } },
    ];
    const results = await checkCatalog(entries, fetch, 3);
    const by = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(results.map((r) => r.name)).toEqual(entries.map((e) => e.name));
    expect(by.live).toMatchObject({ status: 'ok' });
    expect(by.gone).toMatchObject({ status: 'changed', details: ['authorization_url answers 404: moved or removed'] });
    expect(by['moved-token']!.status).toBe('changed');
    expect(by['moved-token']!.details).toEqual([`token_url is now ${base}/idp/v2/token (catalog: ${base}/idp/token)`]);
    expect(by.same).toMatchObject({ status: 'ok', details: ['matches the discovery document'] });
    expect(by['no-discovery']!.status).toBe('changed');
    expect(by['no-discovery']!.details[0]).toContain('no discovery document');
    expect(by.failing).toMatchObject({ status: 'unreachable' });
    expect(by.failing!.details[0]).toContain('503');
    expect(by.tenant).toMatchObject({ status: 'skipped', details: ['URLs depend on connection fields (subdomain)'] });
    expect(by.mcp).toMatchObject({ status: 'ok' });
    expect(by.static!.status).toBe('skipped');
    expect(describeCheck(results).split('\n').at(-1)).toBe('3 ok, 3 changed, 1 unreachable, 2 skipped');

    // The probes carry no credential of any kind.
    const probes = seen.filter((s) => s.path.endsWith('/token') && s.method === 'POST');
    expect(probes.length).toBeGreaterThanOrEqual(2);
    for (const s of seen) expect(s.authorization).toBeUndefined();
    for (const p of probes) expect(p.body).toBe('grant_type=authorization_code');
  });

  it('fetches nothing the outbound policy refuses: internal addresses, other ports, plain http in production', async () => {
    const before = seen.length;
    const port = Number(new URL(base).port);
    const other = `http://127.0.0.1:${port + 1 === 65536 ? port - 1 : port + 1}`;
    const policy = new OutboundPolicy({ production: false, allowedHosts: [] });
    const fetch = createSafeFetch(policy, { timeoutMs: 2_000 });
    const results = await checkCatalog(
      [
        oauth('loopback', { authorizationUrl: `${base}/live/authorize`, tokenUrl: `${base}/live/token` }),
        oauth('other-port', { authorizationUrl: `${other}/authorize`, tokenUrl: `${other}/token` }),
        oauth('metadata', { authorizationUrl: 'https://169.254.169.254/latest/meta-data', tokenUrl: 'https://169.254.169.254/token' }),
      ],
      fetch,
    );
    for (const r of results) {
      expect(r.status, r.name).toBe('unreachable');
      expect(r.details[0], r.name).toMatch(/^not fetched: /);
    }
    const production = createSafeFetch(new OutboundPolicy({ production: true, allowedHosts: [new URL(base).host] }), { timeoutMs: 2_000 });
    const [prod] = await checkCatalog([oauth('prod', { authorizationUrl: `${base}/live/authorize`, tokenUrl: `${base}/live/token` })], production);
    expect(prod).toMatchObject({ status: 'unreachable' });
    expect(prod!.details[0]).toContain('https');
    expect(seen.length).toBe(before);
  });

  it('reads the built-in catalog: every entry is checkable or skipped for a stated reason', async () => {
    // No network here: a fetch that answers nothing shows which entries would be fetched.
    const asked: string[] = [];
    const offline = Object.assign(async (url: string) => (asked.push(url), new Response('{}', { status: 404 })), {
      head: async (url: string) => (asked.push(url), new Response(null, { status: 400 })),
    });
    const results = await checkCatalog(ProviderCatalog.builtin().all, offline, 8);
    expect(results.length).toBe(ProviderCatalog.builtin().size);
    for (const r of results) expect(r.details.length, r.name).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 'ok').length).toBeGreaterThan(50);
    expect(asked.every((u) => u.startsWith('https://'))).toBe(true);
  });
});

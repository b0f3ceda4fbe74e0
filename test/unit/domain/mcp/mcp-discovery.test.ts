import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpDiscoveryFailedError, ProviderUnavailableError, UrlNotAllowedError } from '../../../../src/domain/shared/errors.js';
import { McpDiscovery } from '../../../../src/domain/mcp/mcp-discovery.js';
import { OutboundPolicy } from '../../../../src/domain/outbound/outbound-policy.js';
import { createSafeFetch } from '../../../../src/domain/outbound/safe-fetch.js';

/**
 * One loopback server playing MCP server and authorization server, whose
 * answers each test sets, so discovery parsing and caching are exercised
 * over real HTTP.
 */
describe('MCP discovery', () => {
  let server: Server;
  let origin: string;
  const hits: string[] = [];
  let prm: (self: string) => { status: number; body: string } = () => ({ status: 404, body: '' });
  let asMeta: () => unknown = () => ({});

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      if (req.url?.startsWith('/.well-known/oauth-protected-resource')) {
        const answer = prm(`${origin}${req.url.replace('/.well-known/oauth-protected-resource', '') || '/'}`);
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      } else if (req.url === '/.well-known/oauth-authorization-server/as') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(asMeta()));
      } else if (req.url === '/boom/mcp') {
        res.writeHead(503).end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function discovery(ttlMs = 60_000, maxEntries = 256) {
    const policy = new OutboundPolicy({ production: false, allowedHosts: [origin.replace('http://', '')] });
    return new McpDiscovery({ policy, fetch: createSafeFetch(policy, { timeoutMs: 2000 }), ttlMs, maxEntries, allowInsecureRequests: true });
  }

  const goodAs = () => ({
    issuer: `${origin}/as`,
    authorization_endpoint: `${origin}/as/authorize`,
    token_endpoint: `${origin}/as/token`,
    code_challenge_methods_supported: ['S256'],
    response_types_supported: ['code'],
  });

  it('finds the path-aware well-known metadata without a challenge, and caches the result for its lifetime', async () => {
    prm = (self) => ({ status: 200, body: JSON.stringify({ resource: self, authorization_servers: [`${origin}/as`], scopes_supported: ['a'] }) });
    asMeta = goodAs;
    const d = discovery();
    const info = await d.discover(`${origin}/one/mcp`);
    expect(info.resource).toBe(`${origin}/one/mcp`);
    expect(info.scopesSupported).toEqual(['a']);
    expect(info.server.token_endpoint).toBe(`${origin}/as/token`);
    expect(hits).toContain('GET /.well-known/oauth-protected-resource/one/mcp');
    const count = hits.length;
    await d.discover(`${origin}/one/mcp`);
    expect(hits.length).toBe(count); // cached
    const expired = discovery(0);
    await expired.discover(`${origin}/one/mcp`);
    await expired.discover(`${origin}/one/mcp`);
    expect(hits.length).toBeGreaterThan(count + 4); // a zero lifetime fetches every time
  });

  it('keeps at most maxEntries servers', async () => {
    const d = discovery(60_000, 2);
    for (const name of ['a', 'b', 'c']) await d.discover(`${origin}/${name}/mcp`);
    const count = hits.length;
    await d.discover(`${origin}/a/mcp`); // evicted first
    expect(hits.length).toBeGreaterThan(count);
    const again = hits.length;
    await d.discover(`${origin}/c/mcp`);
    expect(hits.length).toBe(again);
  });

  it.each([
    ['a resource of another server', (self: string) => ({ resource: `${self}/x`, authorization_servers: ['https://as.example/'] }), McpDiscoveryFailedError],
    ['no authorization servers', (self: string) => ({ resource: self, authorization_servers: [] }), McpDiscoveryFailedError],
    ['a non-string authorization server', (self: string) => ({ resource: self, authorization_servers: [42] }), McpDiscoveryFailedError],
    ['a resource that is not a string', () => ({ resource: 7 }), McpDiscoveryFailedError],
    ['an authorization server on a private address', (self: string) => ({ resource: self, authorization_servers: ['https://10.1.1.1/'] }), UrlNotAllowedError],
    [
      'an http authorization server off the allow-list',
      (self: string) => ({ resource: self, authorization_servers: ['http://as.example/'] }),
      UrlNotAllowedError,
    ],
  ])('refuses protected-resource metadata with %s', async (_what, body, kind) => {
    prm = (self) => ({ status: 200, body: JSON.stringify(body(self)) });
    const err = await discovery()
      .discover(`${origin}/bad/mcp`)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(kind);
    if (err instanceof UrlNotAllowedError) expect(err.kind).toBe('failed_precondition');
  });

  it('refuses metadata that is not JSON or not an object', async () => {
    for (const body of ['<html>', '[1,2]', '']) {
      prm = () => ({ status: 200, body });
      await expect(discovery().discover(`${origin}/junk/mcp`)).rejects.toBeInstanceOf(McpDiscoveryFailedError);
    }
  });

  it('refuses authorization server metadata without S256, with an issuer mismatch, or pointing at internal endpoints', async () => {
    prm = (self) => ({ status: 200, body: JSON.stringify({ resource: self, authorization_servers: [`${origin}/as`] }) });
    for (const [meta, kind] of [
      [{ ...goodAs(), code_challenge_methods_supported: ['plain'] }, McpDiscoveryFailedError],
      [{ ...goodAs(), issuer: 'https://evil.example/as' }, McpDiscoveryFailedError],
      [{ ...goodAs(), token_endpoint: undefined }, McpDiscoveryFailedError],
      [{ ...goodAs(), token_endpoint: 'https://169.254.169.254/token' }, UrlNotAllowedError],
      [{ ...goodAs(), registration_endpoint: 'https://[fd00::1]/register' }, UrlNotAllowedError],
    ] as const) {
      asMeta = () => meta;
      await expect(discovery().discover(`${origin}/as-check/mcp`)).rejects.toBeInstanceOf(kind);
    }
  });

  it('reports missing metadata as MCP_DISCOVERY_FAILED and server errors as unavailable', async () => {
    prm = () => ({ status: 404, body: '' });
    await expect(discovery().discover(`${origin}/none/mcp`)).rejects.toBeInstanceOf(McpDiscoveryFailedError);
    await expect(discovery().discover(`${origin}/boom/mcp`)).rejects.toBeInstanceOf(ProviderUnavailableError);
    prm = () => ({ status: 500, body: '' });
    await expect(discovery().discover(`${origin}/five/mcp`)).rejects.toBeInstanceOf(ProviderUnavailableError);
  });
});

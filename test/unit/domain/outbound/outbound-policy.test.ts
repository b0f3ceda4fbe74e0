import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UrlNotAllowedError } from '../../../../src/domain/shared/errors.js';
import { normalizeEntry, OutboundPolicy, type Resolver } from '../../../../src/domain/outbound/outbound-policy.js';
import { createSafeFetch, ResponseTooLargeError } from '../../../../src/domain/outbound/safe-fetch.js';

/** A resolver for made-up names, so no test depends on (or sends traffic through) real DNS. */
function fakeDns(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const addrs = table[hostname];
    if (!addrs) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

function refusal(fn: () => unknown): UrlNotAllowedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UrlNotAllowedError);
    return err as UrlNotAllowedError;
  }
  throw new Error('expected a refusal');
}

describe('outbound policy (static checks)', () => {
  const dev = new OutboundPolicy({ production: false, allowedHosts: ['127.0.0.1:4000', 'mcp.internal:8443'] });
  const prod = new OutboundPolicy({ production: true, allowedHosts: ['127.0.0.1:4000'] });

  it('accepts public https URLs and allow-listed hosts (http for them only outside production)', () => {
    expect(dev.checkUrl('https://mcp.example.com/mcp', 'f').href).toBe('https://mcp.example.com/mcp');
    expect(dev.checkUrl('http://127.0.0.1:4000/mcp', 'f').port).toBe('4000');
    expect(dev.checkUrl('https://mcp.internal:8443/x', 'f').hostname).toBe('mcp.internal');
  });

  it('refuses http outside the allow-list, and http everywhere in production', () => {
    expect(refusal(() => dev.checkUrl('http://mcp.example.com/mcp', 'f')).message).toContain('https');
    expect(refusal(() => prod.checkUrl('http://127.0.0.1:4000/mcp', 'f')).message).toContain('NODE_ENV=production');
    expect(refusal(() => dev.checkUrl('ftp://mcp.example.com/', 'f')).message).toContain('https');
    expect(refusal(() => dev.checkUrl('file:///etc/passwd', 'f')).message).toContain('https');
  });

  it('refuses internal IP literals not on the allow-list, whatever the spelling', () => {
    for (const url of [
      'https://10.0.0.5/mcp',
      'https://169.254.169.254/latest/meta-data',
      'https://127.0.0.1:4001/',
      'https://[::1]/',
      'https://[::ffff:7f00:1]/',
      'https://0x7f000001/',
      'https://2130706433/',
      'https://100.64.0.1/',
      'https://[fd00::1]/',
    ]) {
      expect(refusal(() => dev.checkUrl(url, 'provider.mcp.server_url')).metadata.field).toBe('provider.mcp.server_url');
    }
  });

  it('refuses credentials in URLs, relative and oversized URLs', () => {
    refusal(() => dev.checkUrl('https://user:pw@mcp.example.com/', 'f'));
    refusal(() => dev.checkUrl('/mcp', 'f'));
    refusal(() => dev.checkUrl(`https://mcp.example.com/${'a'.repeat(2100)}`, 'f'));
  });

  it('resolves names and refuses those with any internal address', async () => {
    const dns = fakeDns({ 'public.test': ['93.184.216.34'], 'sneaky.test': ['93.184.216.34', '10.0.0.7'], 'meta.test': ['169.254.169.254'] });
    const policy = new OutboundPolicy({ production: false, allowedHosts: [], resolver: dns });
    await expect(policy.checkUrlResolved('https://public.test/mcp', 'f')).resolves.toBeInstanceOf(URL);
    await expect(policy.checkUrlResolved('https://sneaky.test/mcp', 'f')).rejects.toThrow(/resolves to a private address/);
    await expect(policy.checkUrlResolved('https://meta.test/mcp', 'f')).rejects.toThrow(/metadata/);
    // A name that does not resolve now is checked again when it is fetched.
    await expect(policy.checkUrlResolved('https://nowhere.test/mcp', 'f')).resolves.toBeInstanceOf(URL);
  });

  it('parses allow-list entries strictly', () => {
    expect(normalizeEntry('127.0.0.1:80')).toBe('127.0.0.1:80');
    expect(normalizeEntry('MCP.Internal:8443')).toBe('mcp.internal:8443');
    expect(normalizeEntry('[::1]:9000')).toBe('[::1]:9000');
    for (const bad of ['127.0.0.1', 'http://127.0.0.1:80', '127.0.0.1:99999', '*:80', 'host:80/path']) {
      expect(() => normalizeEntry(bad)).toThrow(/host:port/);
    }
  });
});

describe('safe fetch', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/big') {
        res.end('x'.repeat(4096));
      } else if (req.url === '/to-private') {
        res.writeHead(302, { location: 'http://10.0.0.9/steal' }).end();
      } else if (req.url === '/to-self') {
        res.writeHead(302, { location: '/ok' }).end();
      } else if (req.url === '/loop') {
        res.writeHead(302, { location: '/loop' }).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches an allow-listed host and follows checked redirects', async () => {
    const policy = new OutboundPolicy({ production: false, allowedHosts: [`127.0.0.1:${port}`] });
    const fetch = createSafeFetch(policy, { timeoutMs: 2000 });
    const res = await fetch(`http://127.0.0.1:${port}/to-self`);
    expect(await res.json()).toEqual({ ok: true });
    // A GET follows checked hops even when asked for 'manual' (oauth4webapi's discovery does).
    expect((await fetch(`http://127.0.0.1:${port}/to-self`, { redirect: 'manual' })).status).toBe(200);
    // Any other method gets the 3xx back: a token request is never re-sent elsewhere.
    expect((await fetch(`http://127.0.0.1:${port}/to-self`, { method: 'POST', body: 'a=b' })).status).toBe(302);
    // head() drops the body unread.
    const probe = await fetch.head(`http://127.0.0.1:${port}/big`);
    expect(probe.status).toBe(200);
    expect(await probe.text()).toBe('');
  });

  it('refuses a redirect to a private address without connecting to it', async () => {
    const policy = new OutboundPolicy({ production: false, allowedHosts: [`127.0.0.1:${port}`] });
    const fetch = createSafeFetch(policy, { timeoutMs: 2000 });
    await expect(fetch(`http://127.0.0.1:${port}/to-private`)).rejects.toThrow(UrlNotAllowedError);
    await expect(fetch(`http://127.0.0.1:${port}/loop`)).rejects.toThrow(/redirected more than 3 times/);
  });

  it('checks the address at connect time: a name resolving to loopback is refused (no DNS rebinding)', async () => {
    // The static check sees a name; only the socket's lookup sees where it points.
    const dns = fakeDns({ 'rebind.test': ['127.0.0.1'] });
    const policy = new OutboundPolicy({ production: false, allowedHosts: [`rebind.test:${port}`], resolver: dns });
    const strict = new OutboundPolicy({ production: false, allowedHosts: [], resolver: dns });
    const before = hits.length;
    const fetch = createSafeFetch(strict, { timeoutMs: 2000 });
    await expect(fetch(`https://rebind.test:${port}/ok`)).rejects.toThrow(/resolves to a loopback address/);
    expect(dns.calls).toContain('rebind.test');
    expect(hits.length).toBe(before); // nothing reached the server
    // An allow-listed name may resolve internally.
    const trusted = createSafeFetch(policy, { timeoutMs: 2000 });
    expect((await trusted(`http://rebind.test:${port}/ok`)).status).toBe(200);
  });

  it('caps response bodies', async () => {
    const policy = new OutboundPolicy({ production: false, allowedHosts: [`127.0.0.1:${port}`] });
    const fetch = createSafeFetch(policy, { timeoutMs: 2000, maxBodyBytes: 1024 });
    await expect(fetch(`http://127.0.0.1:${port}/big`)).rejects.toThrow(ResponseTooLargeError);
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UrlNotAllowedError } from '../../src/domain/shared/errors.js';
import { OutboundPolicy, type Resolver } from '../../src/domain/outbound/outbound-policy.js';
import { createSafeFetch } from '../../src/domain/outbound/safe-fetch.js';

/** A loopback HTTP server that counts every TCP connection it accepts (a refused fetch must open none). */
async function countingServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"internal":true}'));
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

const loopbackName: Resolver = async (hostname) => {
  if (hostname !== 'svc.internal.test') throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return [{ address: '127.0.0.1', family: 4 }];
};

describe('an allow-list entry host:port admits that port only', () => {
  let allowed: Awaited<ReturnType<typeof countingServer>>;
  let other: Awaited<ReturnType<typeof countingServer>>;

  beforeAll(async () => {
    allowed = await countingServer();
    other = await countingServer();
  });
  afterAll(async () => {
    await new Promise((r) => allowed.server.close(r));
    await new Promise((r) => other.server.close(r));
  });

  it('reaches the allow-listed port', async () => {
    const policy = new OutboundPolicy({ production: false, allowedHosts: [`svc.internal.test:${allowed.port}`], resolver: loopbackName });
    const fetch = createSafeFetch(policy, { timeoutMs: 2000 });
    expect(await (await fetch(`http://svc.internal.test:${allowed.port}/`)).json()).toEqual({ internal: true });
  });

  it('refuses another port of the same host before connecting (the attack: https on any port passed)', async () => {
    const policy = new OutboundPolicy({ production: false, allowedHosts: [`svc.internal.test:${allowed.port}`], resolver: loopbackName });
    const fetch = createSafeFetch(policy, { timeoutMs: 2000 });
    const before = other.connections();
    // https passes the static check for a host name (no IP literal to refuse); only the connect-time check stops it.
    const err = await fetch(`https://svc.internal.test:${other.port}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UrlNotAllowedError);
    expect((err as Error).message).toMatch(/resolves to a loopback address/);
    expect(other.connections()).toBe(before);
    // Plain http to the other port is refused statically.
    await expect(fetch(`http://svc.internal.test:${other.port}/`)).rejects.toThrow(/http only for hosts on NEXUS_OUTBOUND_ALLOWED_HOSTS/);
    expect(other.connections()).toBe(before);
  });

  it('an IP-literal entry admits its own port only, too', async () => {
    const policy = new OutboundPolicy({ production: false, allowedHosts: [`127.0.0.1:${allowed.port}`] });
    const fetch = createSafeFetch(policy, { timeoutMs: 2000 });
    expect((await fetch(`http://127.0.0.1:${allowed.port}/`)).status).toBe(200);
    await expect(fetch(`https://127.0.0.1:${other.port}/`)).rejects.toThrow(UrlNotAllowedError);
    expect(policy.trustsEndpoint('127.0.0.1', String(other.port), 'https:')).toBe(false);
    expect(policy.trustsEndpoint('127.0.0.1', String(allowed.port), 'http:')).toBe(true);
  });
});

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { BACKENDS } from '../support/databases.js';
import { allowOutbound } from '../support/outbound-hosts.js';
import { verifySigV4 } from '../support/sigv4-verifier.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  problem: string | null;
}

/**
 * The proxy signs AWS SigV4 server-side (src/domain/proxy/sigv4.ts): here an upstream checks
 * each forwarded request with a verifier written from the AWS specification
 * (test/support/sigv4-verifier.ts, not Nexus's signer), for a buffered body, a streamed one
 * (UNSIGNED-PAYLOAD, as S3 accepts), a query to canonicalize and an encoded path.
 */
describe.each(BACKENDS)('proxy: AWS SigV4 signed by Nexus, verified by the upstream (%s)', (backend) => {
  const seen: Seen[] = [];
  const creds = {
    access_key_id: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secret_access_key: `sk_${randomBytes(16).toString('hex')}`,
    session_token: `st_${randomBytes(16).toString('hex')}`,
    region: 'eu-west-1',
  };
  let upstream: http.Server;
  let nexus: TestApp;
  let admin: Clients;
  let apiConn: string;
  let s3Conn: string;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const service = req.url!.startsWith('/s3/') ? 's3' : 'execute-api';
        const problem = verifySigV4(req, body, { ...creds, service });
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, problem });
        res.writeHead(problem === null ? 200 : 403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ problem }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    allowOutbound(new URL(base).host);
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    const provider = (name: string, service: string, path: string) =>
      admin.providers.createProvider({
        provider: {
          name,
          displayName: name,
          authType: AuthType.AWS_SIGV4,
          enabled: true,
          awsSigv4: { service, defaultRegion: 'us-east-1' },
          apiBaseUrl: `${base}${path}`,
        },
      });
    await provider('aws-api', 'execute-api', '/api');
    await provider('aws-s3', 's3', '/s3');
    const connect = async (providerName: string) => {
      const made = await admin.connections.createConnection({
        workspaceId: 'ws-aws',
        provider: { case: 'providerName', value: providerName },
        returnUrl: RETURN_URL,
      });
      await admin.connections.submitCredentials({ state: made.state, credentials: creds });
      return made.connection!.id;
    };
    apiConn = await connect('aws-api');
    s3Conn = await connect('aws-s3');
  });

  afterAll(async () => {
    await nexus?.close();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  const proxy = (conn: string, path: string, init: RequestInit & { duplex?: 'half' } = {}) =>
    fetch(`${nexus.baseUrl}/proxy/${conn}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(init.headers as Record<string, string>) } });

  it('signs a GET with a query to canonicalize and an encoded path segment', async () => {
    const res = await proxy(apiConn, '/things/a%20b?z=1&a=x%2Fy&a=b');
    expect(await res.json()).toEqual({ problem: null });
    expect(res.status).toBe(200);
    const last = seen.at(-1)!;
    expect(last.url).toBe('/api/things/a%20b?z=1&a=x%2Fy&a=b');
    expect(last.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${creds.access_key_id}/\\d{8}/eu-west-1/execute-api/aws4_request, `));
    expect(last.headers['x-amz-security-token']).toBe(creds.session_token);
    // The agent's own credential never reaches the provider.
    expect(JSON.stringify(last.headers)).not.toContain(ADMIN_KEY);
  });

  it('signs a POST whose body it hashes, and the body arrives intact', async () => {
    const body = JSON.stringify({ name: 'widget', n: 42 });
    const res = await proxy(apiConn, '/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(await res.json()).toEqual({ problem: null });
    const last = seen.at(-1)!;
    expect(last.method).toBe('POST');
    expect(last.body.toString()).toBe(body);
  });

  it('signs a streamed S3 upload as UNSIGNED-PAYLOAD, which S3 accepts', async () => {
    const parts = [Buffer.alloc(256 * 1024, 1), Buffer.alloc(256 * 1024, 2)];
    const res = await proxy(s3Conn, '/bucket/key.bin', { method: 'PUT', body: Readable.toWeb(Readable.from(parts)) as ReadableStream, duplex: 'half' });
    expect(await res.json()).toEqual({ problem: null });
    const last = seen.at(-1)!;
    expect(last.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(last.body.equals(Buffer.concat(parts))).toBe(true);
  });

  it('a wrong secret fails the upstream check: the signature is really checked', async () => {
    const made = await admin.connections.createConnection({
      workspaceId: 'ws-aws-wrong',
      provider: { case: 'providerName', value: 'aws-api' },
      returnUrl: RETURN_URL,
    });
    await admin.connections.submitCredentials({ state: made.state, credentials: { ...creds, secret_access_key: 'sk_not_the_one' } });
    const res = await proxy(made.connection!.id, '/things');
    expect(res.status).toBe(403);
    expect((await res.json()) as { problem: string }).toEqual({ problem: expect.stringMatching(/^signature mismatch/) });
  });
});

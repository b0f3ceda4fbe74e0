import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { allowOutbound } from './outbound-hosts.js';

/** What the upstream saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

/**
 * A provider's API on loopback for the proxy tests (and the bench), allow-listed
 * for Nexus's outbound policy when started (start it before the app):
 * - /echo: answers JSON describing the request (method, url, headers, body size), reading the body as a stream;
 * - /download?bytes=N: streams N bytes;
 * - /headers: a 429 with rate-limit headers, a Set-Cookie, a Nexus-Error header and one echoing the credential;
 * - /hang: never answers;
 * - /bearer-only: 401 unless the bearer token is not in `rejectedTokens`.
 */
export class ProxyUpstream {
  readonly seen: SeenRequest[] = [];
  /** Bearer tokens /bearer-only refuses with 401. */
  readonly rejectedTokens = new Set<string>();
  /** The value /headers echoes back in x-echo (set to the credential to test the scrubbing). */
  echoValue = '';
  private readonly hanging = new Set<http.ServerResponse>();

  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<ProxyUpstream> {
    let upstream: ProxyUpstream | undefined;
    const server = http.createServer((req, res) => upstream!.handle(req, res));
    server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstream = new ProxyUpstream(server, (server.address() as AddressInfo).port);
    allowOutbound(`127.0.0.1:${upstream.port}`);
    return upstream;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes };
      this.seen.push(seen);
      const path = url.pathname.replace(/^\/api/, '');
      if (path.startsWith('/echo')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen));
      } else if (path === '/download') {
        const total = Number(url.searchParams.get('bytes') ?? '0');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
        const chunk = Buffer.alloc(64 * 1024, 7);
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            const n = Math.min(chunk.length, total - sent);
            sent += n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else if (path === '/headers') {
        res.writeHead(429, {
          'content-type': 'application/json',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': '30',
          'retry-after': '30',
          'set-cookie': 'session=provider-session; HttpOnly',
          'nexus-error': 'ERROR_REASON_FORGED',
          'x-echo': this.echoValue,
          connection: 'x-hop',
          'x-hop': 'dropped',
        });
        res.end(JSON.stringify({ error: 'slow down' }));
      } else if (path === '/hang') {
        this.hanging.add(res);
      } else if (path === '/bearer-only') {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        if (!token || this.rejectedTokens.has(token)) {
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' }).end('{"error":"invalid_token"}');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, bodyBytes }));
        }
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing');
      }
    });
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

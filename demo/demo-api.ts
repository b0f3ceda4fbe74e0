/**
 * The demo provider's API: what an agent calls with the credential Nexus hands out (or what
 * Nexus's proxy forwards to). `npm run demo-provider` serves it on 127.0.0.1:9091 beside the
 * demo authorization server; the docs-as-tests (test/clients/docs-as-tests.ts) start one on a
 * free port.
 *
 * It answers 200 with what it received (`{ ok, method, path }`) when the request carries a
 * credential it accepts, and 401 otherwise:
 * - `X-Demo-Key: <demoKey>` (the `demo-api-key` provider of demo/providers.yaml);
 * - `Authorization: Bearer <token>` that `acceptBearer` approves (the demo authorization
 *   server approves the access tokens it issued and that have not expired; without
 *   `acceptBearer` any bearer token passes);
 * - an AWS SigV4 `Authorization` header (accepted as is: the suites verify signatures themselves).
 * Every request is recorded in `received`, so a test can check which credential reached it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface DemoApiRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface DemoApiOptions {
  /** Decides whether a bearer token is valid; default: every one is. */
  acceptBearer?: (token: string) => boolean;
  /** Called once per request, after it is answered (the demo provider logs it). */
  onRequest?: (request: DemoApiRequest, status: number) => void;
}

/** Bodies above this are refused (413): a demo has no use for more. */
const MAX_BODY_BYTES = 1024 * 1024;

export class DemoApi {
  readonly received: DemoApiRequest[] = [];
  url = '';
  private server: Server | undefined;

  constructor(
    readonly demoKey: string,
    private readonly options: DemoApiOptions = {},
  ) {}

  /** Listens on `host:port` (port 0: a free one); `url` is set once it does. */
  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      req.on('end', () => {
        const request = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString() };
        this.received.push(request);
        const status = size > MAX_BODY_BYTES ? 413 : this.authorized(req.headers) ? 200 : 401;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            status === 200 ? { ok: true, path: request.url, method: request.method } : { error: status === 413 ? 'body too large' : 'no valid credential' },
          ),
        );
        this.options.onRequest?.(request, status);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.url = `http://${host}:${(server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private authorized(headers: IncomingHttpHeaders): boolean {
    if (headers['x-demo-key'] === this.demoKey) return true;
    const authorization = headers.authorization ?? '';
    if (/^AWS4-HMAC-SHA256 \S/.test(authorization)) return true;
    const bearer = /^Bearer (\S+)$/.exec(authorization)?.[1];
    return bearer !== undefined && (this.options.acceptBearer?.(bearer) ?? true);
  }
}

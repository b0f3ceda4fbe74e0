import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { allowOutbound } from './outbound-hosts.js';

/** One request the receiver got, and what an independent Standard Webhooks implementation made of it. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The secrets (of `secrets`) whose verification passed: the `standardwebhooks` package's own `verify`. */
  verifiedWith: string[];
  /** What the receiver answered (0: it held or dropped the request). */
  answered: number;
  at: number;
}

/**
 * How the receiver answers the next requests:
 * - `ok`: 204 (when at least one secret verifies; 400 otherwise, a real receiver's refusal), after `delayMs`;
 * - `status`: that status (a 5xx, a 3xx with a Location, ...);
 * - `hang`: never answers (the sender's timeout must end it);
 * - `hold`: keeps each request until `release()` (then answers 204): the e2e kills the sender meanwhile.
 * `down()` closes the port altogether (connection refused) and `up()` opens it again.
 */
export type ReceiverMode =
  | { kind: 'ok'; delayMs?: number }
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'hold' };

/**
 * A webhook receiver on loopback for the delivery tests, allow-listed for
 * Nexus's outbound policy when started (start it before the app). Every
 * request is verified with the `standardwebhooks` npm package against each
 * of `secrets` (an implementation independent of Nexus's signing), and
 * recorded.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  mode: ReceiverMode = { kind: 'ok' };
  /** The most requests ever open at once for one connection (the body's data.id). */
  maxConcurrentPerConnection = 0;
  private readonly openPerConnection = new Map<string, number>();
  /** The endpoint's secrets (`whsec_...`) to verify with; set once the endpoint exists. */
  secrets: string[] = [];
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<http.ServerResponse>();
  private readonly waiters = new Set<() => void>();

  private constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Starts on a free port (or `port`), allow-listed for outbound calls. */
  static async start(port = 0): Promise<WebhookReceiver> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    const receiver = new WebhookReceiver((server.address() as AddressInfo).port);
    receiver.attach(server);
    allowOutbound(`127.0.0.1:${receiver.port}`);
    return receiver;
  }

  /** Distinct webhook-ids received whose signature verified. */
  verifiedIds(): string[] {
    return [...new Set(this.received.filter((r) => r.verifiedWith.length > 0).map((r) => r.id))];
  }

  /** Resolves once `predicate` holds over what was received (checked on each request), or rejects after `timeoutMs`. */
  async waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs = 15_000, what = 'webhooks'): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.received.map((r) => ({ id: r.id, answered: r.answered })))}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 250));
        this.waiters.add(wake);
      });
    }
    return this.received;
  }

  /** Answers every held request with 204. */
  release(): void {
    for (const res of this.held) res.writeHead(204).end();
    this.held.clear();
  }

  /** Closes the port: new connections are refused, open ones are cut. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    this.held.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Listens on the same port again. */
  async up(): Promise<void> {
    if (this.server) return;
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.attach(server);
  }

  async stop(): Promise<void> {
    await this.down();
  }

  private attach(server: http.Server): void {
    server.keepAliveTimeout = 500;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    server.on('request', (req, res) => this.handle(req, res));
    this.server = server;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => String(req.headers[name] ?? '');
      const headers = {
        'webhook-id': header('webhook-id'),
        'webhook-timestamp': header('webhook-timestamp'),
        'webhook-signature': header('webhook-signature'),
      };
      const verifiedWith = this.secrets.filter((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      const record: ReceivedWebhook = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        verifiedWith,
        answered: 0,
        at: Date.now(),
      };
      this.received.push(record);
      const connection = connectionOf(body);
      const open = (this.openPerConnection.get(connection) ?? 0) + 1;
      this.openPerConnection.set(connection, open);
      this.maxConcurrentPerConnection = Math.max(this.maxConcurrentPerConnection, open);
      res.once('close', () => this.openPerConnection.set(connection, (this.openPerConnection.get(connection) ?? 1) - 1));
      const mode = this.mode;
      if (mode.kind === 'ok') {
        record.answered = verifiedWith.length > 0 ? 204 : 400;
        setTimeout(() => res.writeHead(record.answered).end(), mode.delayMs ?? 0);
      } else if (mode.kind === 'status') {
        record.answered = mode.status;
        res.writeHead(mode.status, mode.headers ?? {}).end(mode.body ?? '');
      } else if (mode.kind === 'hold') {
        this.held.add(res);
        res.once('close', () => this.held.delete(res));
      }
      // 'hang': never answered.
      for (const wake of [...this.waiters]) wake();
    });
  }
}

function connectionOf(body: string): string {
  try {
    return String((JSON.parse(body) as { data?: { id?: unknown } }).data?.id ?? '');
  } catch {
    return '';
  }
}

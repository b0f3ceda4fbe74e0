import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { LoadConfig } from '../config/config.js';
import { TokenBucket } from './token-bucket.js';

/** fastify's request handler; it serves HTTP/2 compat requests through the same API. */
type Handler = http.RequestListener;

// Every HTTP/2 prior-knowledge connection opens with this preface (RFC 9113 §3.4).
const H2_PREFACE_START = Buffer.from('PRI ');

/** The limits the front server enforces itself (the rest are enforced per call, in transport/admission.ts). */
export type FrontLimits = Pick<
  LoadConfig,
  | 'maxConnections'
  | 'headersTimeoutMs'
  | 'requestTimeoutMs'
  | 'idleTimeoutMs'
  | 'keepAliveTimeoutMs'
  | 'shutdownTimeoutMs'
  | 'h2MaxConcurrentStreams'
  | 'h2ResetBurst'
  | 'h2ResetRate'
>;

/**
 * One TCP port for HTTP/1.1 (browsers, curl, Connect and gRPC-Web) and
 * HTTP/2 cleartext (gRPC clients). Node's cleartext HTTP/2 server cannot
 * fall back to HTTP/1.1, so each new connection is routed by its first
 * bytes to the matching server.
 *
 * Neither inner server listens, so the front server applies their timers
 * itself: a connection that never sends its first bytes, a request whose
 * headers or body never finish, an idle connection of either protocol and a
 * shutdown that outlives its drain deadline are all closed (see FrontLimits).
 */
export class DualProtocolServer extends net.Server {
  readonly http1: http.Server;
  readonly http2: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** Per session: the budget of streams its peer may reset (a token bucket: h2ResetBurst, refilled at h2ResetRate per second). */
  private readonly resetBudgets = new WeakMap<http2.Http2Session, TokenBucket>();
  /** Accepted sockets whose protocol is not known yet (they belong to neither inner server). */
  private readonly sniffing = new Set<net.Socket>();
  private drainTimer: NodeJS.Timeout | undefined;
  private handler: Handler;
  private next: Handler | undefined;

  constructor(
    handler: Handler,
    private readonly limits: FrontLimits,
  ) {
    super((socket) => this.route(socket));
    this.handler = handler;
    // Through this, so takeOver() can hand the server to another handler.
    const handle: Handler = (req, res) => this.handler(req, res);
    this.maxConnections = limits.maxConnections;
    this.http1 = http.createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // How often Node checks the headers and request timeouts.
        connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
      },
      handle,
    );
    // No traffic either way for this long: the socket is closed (a streaming response's heartbeats are traffic).
    this.http1.timeout = limits.idleTimeoutMs;
    this.http2 = http2.createServer(
      {
        settings: { maxConcurrentStreams: limits.h2MaxConcurrentStreams },
        // Streams a peer opens beyond the limit are refused; a peer that keeps doing so is cut off.
        maxSessionRejectedStreams: 100,
        maxSessionInvalidFrames: 100,
      },
      handle as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
    );
    this.http2.on('session', (session) => this.trackSession(session));
    this.http2.on('stream', (stream) => {
      this.boundRequest(stream);
      this.countResets(stream);
    });
    // The inner HTTP/1.1 server checks header and request timeouts from its 'listening' handler on.
    this.once('listening', () => this.http1.emit('listening'));
  }

  private route(socket: net.Socket): void {
    this.sniffing.add(socket);
    // A socket that never sends its first bytes is closed like one that never finishes its headers.
    socket.setTimeout(this.limits.headersTimeoutMs, () => socket.destroy());
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const decidable = seen.length >= H2_PREFACE_START.length || !H2_PREFACE_START.subarray(0, seen.length).equals(seen);
      if (!decidable) return;
      socket.off('data', onData);
      socket.setTimeout(0);
      this.sniffing.delete(socket);
      socket.pause();
      // The sniffed bytes go back into the socket's read buffer. The HTTP/2
      // session feeds what is buffered to nghttp2 before reading from the
      // native handle, so the socket stays native (no JS relay per frame).
      socket.unshift(seen);
      if (seen.subarray(0, H2_PREFACE_START.length).equals(H2_PREFACE_START)) {
        this.http2.emit('connection', socket);
      } else {
        this.http1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.sniffing.delete(socket));
  }

  private trackSession(session: http2.ServerHttp2Session): void {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    // No frame either way for this long (a live stream's heartbeats are frames): GOAWAY, then gone.
    session.setTimeout(this.limits.idleTimeoutMs, () => {
      session.close();
      setTimeout(() => session.destroy(), 1_000).unref();
    });
  }

  /** An HTTP/2 request whose body has not fully arrived within the request timeout is cancelled. */
  private boundRequest(stream: http2.Http2Stream): void {
    if (stream.endAfterHeaders) return;
    const timer = setTimeout(() => {
      if (!stream.destroyed && !stream.readableEnded) stream.close(http2.constants.NGHTTP2_CANCEL);
    }, this.limits.requestTimeoutMs);
    timer.unref();
    stream.once('end', () => clearTimeout(timer));
    stream.once('close', () => clearTimeout(timer));
  }

  /**
   * Rapid reset (CVE-2023-44487): a peer that opens streams and resets them
   * at once makes the server start work that nobody waits for, without ever
   * holding many streams open. Node 20 has no setting for it, so resets
   * (streams that closed with an error code) are counted per session; past the budget the session gets GOAWAY (ENHANCE_YOUR_CALM)
   * and is closed. Work already started stays bounded by the in-flight limits.
   */
  private countResets(stream: http2.Http2Stream): void {
    const session = stream.session;
    stream.once('close', () => {
      // NO_ERROR: the stream ended normally; anything else was reset (by the peer, or by a timeout above).
      if (stream.rstCode === http2.constants.NGHTTP2_NO_ERROR || !session || session.destroyed) return;
      const now = performance.now();
      let budget = this.resetBudgets.get(session);
      if (!budget) {
        budget = new TokenBucket({ burst: this.limits.h2ResetBurst, ratePerSecond: this.limits.h2ResetRate }, now);
        this.resetBudgets.set(session, budget);
      }
      if (budget.take(now) > 0) {
        session.destroy(undefined, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      }
    });
  }

  /**
   * `nexus start` binds the port first, with a handler that answers
   * "starting" (so a busy port fails before migrations run or a key is
   * printed), then gives the bound server to fastify: `handler` (fastify's)
   * takes over when fastify calls listen(), after its routes are ready.
   */
  takeOver(handler: Handler): this {
    this.next = handler;
    return this;
  }

  /** Already bound (see takeOver): listening again switches to the new handler and reports `listening`, as fastify expects. */
  override listen(...args: unknown[]): this {
    if (!this.listening) return super.listen(...(args as Parameters<net.Server['listen']>));
    if (this.next) this.handler = this.next;
    this.next = undefined;
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  /**
   * Stops accepting; whatever is still open when the drain deadline passes
   * (a silent socket, a request that never finishes) is closed, so a stop
   * never waits longer than NEXUS_SHUTDOWN_TIMEOUT_MS (plus a second for
   * streams to receive their final status).
   */
  override close(callback?: (err?: Error) => void): this {
    super.close(callback);
    // Stops the inner server's timeout checks (it never listened: nothing else to close).
    this.http1.close();
    for (const socket of this.sniffing) socket.destroy();
    this.drainTimer ??= setTimeout(() => this.closeAllConnections(), this.limits.shutdownTimeoutMs + 1_000);
    this.drainTimer.unref();
    this.once('close', () => clearTimeout(this.drainTimer));
    return this;
  }

  /** Used by fastify on close: idle keep-alive sockets go, HTTP/2 sessions get a GOAWAY and finish their streams. */
  closeIdleConnections(): void {
    this.http1.closeIdleConnections();
    for (const socket of this.sniffing) socket.destroy();
    for (const session of this.sessions) session.close();
  }

  closeAllConnections(): void {
    this.http1.closeAllConnections();
    for (const socket of this.sniffing) socket.destroy();
    for (const session of this.sessions) session.destroy();
  }

  // fastify sets these on the server it listens with; they belong to the HTTP/1.1 side.
  set keepAliveTimeout(ms: number) {
    this.http1.keepAliveTimeout = ms;
  }
  get keepAliveTimeout(): number {
    return this.http1.keepAliveTimeout;
  }
  set requestTimeout(ms: number) {
    this.http1.requestTimeout = ms;
  }
  get requestTimeout(): number {
    return this.http1.requestTimeout;
  }
}

import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';

/** fastify's request handler; it serves HTTP/2 compat requests through the same API. */
type Handler = http.RequestListener;

// Every HTTP/2 prior-knowledge connection opens with this preface (RFC 9113 §3.4).
const H2_PREFACE_START = Buffer.from('PRI ');

/**
 * One TCP port for HTTP/1.1 (browsers, curl, Connect and gRPC-Web) and
 * HTTP/2 cleartext (gRPC clients). Node's cleartext HTTP/2 server cannot
 * fall back to HTTP/1.1, so each new connection is routed by its first
 * bytes to the matching server.
 */
export class DualProtocolServer extends net.Server {
  readonly http1: http.Server;
  readonly http2: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  constructor(handler: Handler) {
    super((socket) => this.route(socket));
    this.http1 = http.createServer(handler);
    this.http2 = http2.createServer({}, handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
    this.http2.on('session', (session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
  }

  private route(socket: net.Socket): void {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const decidable = seen.length >= H2_PREFACE_START.length || !H2_PREFACE_START.subarray(0, seen.length).equals(seen);
      if (!decidable) return;
      socket.off('data', onData);
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
  }

  /** Used by fastify on close: idle keep-alive sockets go, HTTP/2 sessions get a GOAWAY and finish their streams. */
  closeIdleConnections(): void {
    this.http1.closeIdleConnections();
    for (const session of this.sessions) session.close();
  }

  closeAllConnections(): void {
    this.http1.closeAllConnections();
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

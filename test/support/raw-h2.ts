import net from 'node:net';

/**
 * A hostile HTTP/2 peer written frame by frame: it ignores the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS and can reset what it opens (rapid reset),
 * which no well-behaved client library does. Loopback only; every loop in
 * the tests using it is bounded.
 */
export class RawH2Peer {
  private readonly socket: net.Socket;
  private buffered = Buffer.alloc(0);
  private nextId = 1;
  readonly received = { serverResets: 0, goaway: false, goawayCode: -1, headers: 0, closed: false };
  readonly opened: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.received.closed = true));
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        this.socket.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
        this.socket.write(frame(0x4, 0, 0, Buffer.alloc(0)));
        resolve();
      });
      this.socket.once('error', reject);
    });
  }

  /** Opens a stream: one HEADERS frame (END_HEADERS, with END_STREAM when `endStream`). Returns its id. */
  open(path: string, headers: Record<string, string>, endStream = true): number {
    const id = this.nextId;
    this.nextId += 2;
    const block = Buffer.concat(
      Object.entries({ ':method': 'POST', ':scheme': 'http', ':authority': 'localhost', ':path': path, ...headers }).map(([k, v]) => literal(k, v)),
    );
    this.write(frame(0x1, endStream ? 0x5 : 0x4, id, block));
    return id;
  }

  /** DATA on a stream. */
  data(id: number, payload: Buffer, endStream: boolean): void {
    this.write(frame(0x0, endStream ? 0x1 : 0, id, payload));
  }

  reset(id: number): void {
    const code = Buffer.alloc(4);
    code.writeUInt32BE(0x8); // CANCEL
    this.write(frame(0x3, 0, id, code));
  }

  /** False once the server closed the connection (writes are then dropped). */
  get open_(): boolean {
    return !this.received.closed && !this.socket.destroyed;
  }

  /** Resolves once the socket's write buffer drained (or the socket closed). */
  drained(): Promise<void> {
    if (!this.open_ || this.socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => resolve();
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private write(bytes: Buffer): void {
    if (this.open_) this.socket.write(bytes);
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) return;
      const type = this.buffered[3]!;
      const flags = this.buffered[4]!;
      const payload = this.buffered.subarray(9, 9 + length);
      this.buffered = this.buffered.subarray(9 + length);
      if (type === 0x4 && (flags & 0x1) === 0) this.write(frame(0x4, 0x1, 0, Buffer.alloc(0))); // ACK the server's SETTINGS
      // RST_STREAM from the server: REFUSED_STREAM (nghttp2) or ENHANCE_YOUR_CALM (Node) for streams over the limit.
      if (type === 0x3) this.received.serverResets++;
      if (type === 0x1) this.received.headers++;
      if (type === 0x7) {
        this.received.goaway = true;
        this.received.goawayCode = payload.readUInt32BE(4);
      }
      if (type === 0x6 && (flags & 0x1) === 0) this.write(frame(0x6, 0x1, 0, payload)); // PING ACK
    }
  }
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK "literal header field without indexing, new name", no Huffman coding (RFC 7541 §6.2.2). */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
}

function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s);
  return Buffer.concat([hpackInt(bytes.length, 7), bytes]);
}

function hpackInt(n: number, prefixBits: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (n < max) return Buffer.from([n]);
  const out = [max];
  n -= max;
  while (n >= 128) {
    out.push((n % 128) + 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

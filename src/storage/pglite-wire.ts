import { Duplex } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST_CODE = 80_877_103;
const GSSENC_REQUEST_CODE = 80_877_104;
const CANCEL_REQUEST_CODE = 80_877_102;
const TERMINATE = 0x58; // 'X'

/**
 * The PostgreSQL wire protocol spoken to PGlite inside this process: a
 * Duplex that node-postgres uses in place of a TCP socket (its `stream`
 * option). No port, no file, nothing another process could connect to: the
 * only way into the embedded database is through this object.
 *
 * Messages are cut from the byte stream (the startup message has no type
 * byte, every later one has) and handed to PGlite one by one under its
 * mutex, the way pglite-socket does over a socket; PGlite answers with raw
 * protocol bytes, pushed back to the driver as they come.
 */
export class PGliteWire extends Duplex {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private closing = false;
  private rolledBack: Promise<void> | undefined;

  constructor(private readonly db: PGlite) {
    super();
  }

  /** The socket API node-postgres calls. */
  connect(): this {
    process.nextTick(() => this.emit('connect'));
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.drain().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closing = true;
    // A session that goes away mid-transaction must not leave it open for the next one.
    this.rollbackIfOpen().then(
      () => callback(error),
      () => callback(error),
    );
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.closing) return;
      const message = this.next();
      if (!message) return;
      if (!this.started) {
        const code = message.readInt32BE(4);
        if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
          this.push(Buffer.from('N')); // no encryption: there is no wire to protect
          continue;
        }
        if (code === CANCEL_REQUEST_CODE) continue;
        this.started = true;
      } else if (message[0] === TERMINATE) {
        this.finish();
        return;
      }
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(new Uint8Array(message), {
          onRawData: (data) => {
            if (!this.closing && data.length) this.push(Buffer.from(data));
          },
        }),
      );
    }
  }

  /** The next complete message, or undefined while it is still arriving. */
  private next(): Buffer | undefined {
    const headerAt = this.started ? 1 : 0;
    if (this.buffer.length < headerAt + 4) return undefined;
    const length = headerAt + this.buffer.readInt32BE(headerAt);
    if (this.buffer.length < length) return undefined;
    const message = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return message;
  }

  private finish(): void {
    if (this.closing) return;
    this.closing = true;
    void this.rollbackIfOpen().finally(() => this.push(null));
  }

  private rollbackIfOpen(): Promise<void> {
    this.rolledBack ??= (async () => {
      if (!this.db.closed && this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    })();
    return this.rolledBack;
  }
}

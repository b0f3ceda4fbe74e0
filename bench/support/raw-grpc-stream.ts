import http2 from 'node:http2';
import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';

/**
 * A bare gRPC server-streaming call over node:http2: one request message,
 * then each response message decoded with protobuf-es as its frame arrives.
 * The streams benchmark's load generator: with 10,000 streams in one client
 * process, Connect's client pipeline (several async iterables per message)
 * costs as much CPU as the server under test, and both share the machine's
 * two cores. This keeps the client's share small; the server and the wire
 * format are exactly what a Connect or grpc-go client talks to.
 */
export function rawServerStream<I extends DescMessage, O extends DescMessage>(
  session: http2.ClientHttp2Session,
  path: string,
  input: I,
  output: O,
  request: MessageShape<I>,
  headers: Record<string, string>,
  handlers: { message(m: MessageShape<O>): void; end(status: string, message: string): void },
): http2.ClientHttp2Stream {
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc+proto',
    te: 'trailers',
    ...headers,
  });
  const body = toBinary(input, request);
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  stream.end(frame);

  let pending: Buffer = Buffer.alloc(0);
  let status = '';
  let statusMessage = '';
  stream.on('response', (h) => {
    // A trailers-only answer (an error before any message) carries the status in the headers.
    if (h['grpc-status'] !== undefined) {
      status = String(h['grpc-status']);
      statusMessage = decodeURIComponent(String(h['grpc-message'] ?? ''));
    }
  });
  stream.on('trailers', (t) => {
    status = String(t['grpc-status'] ?? '');
    statusMessage = decodeURIComponent(String(t['grpc-message'] ?? ''));
  });
  stream.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const length = pending.readUInt32BE(1);
      if (pending.length < 5 + length) break;
      handlers.message(fromBinary(output, pending.subarray(5, 5 + length)));
      pending = pending.subarray(5 + length);
    }
  });
  stream.on('close', () => handlers.end(status || 'closed', statusMessage));
  stream.on('error', () => undefined); // reported through close
  return stream;
}

import http2 from 'node:http2';
import { fromBinary } from '@bufbuild/protobuf';
import { findTrailerError } from '@connectrpc/connect/protocol-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app.js';

const SECRET = 'sk_live_stream_9c8b7a6d';
const PATH = '/nexus.v1.ConnectionService/WatchConnections';

function envelope(flags: number, data: Uint8Array): Buffer {
  const b = Buffer.alloc(5 + data.length);
  b[0] = flags;
  b.writeUInt32BE(data.length, 1);
  b.set(data, 5);
  return b;
}

function envelopes(buf: Buffer): { flags: number; data: Buffer }[] {
  const out = [];
  for (let o = 0; o + 5 <= buf.length; ) {
    const n = buf.readUInt32BE(o + 1);
    out.push({ flags: buf[o]!, data: buf.subarray(o + 5, o + 5 + n) });
    o += 5 + n;
  }
  return out;
}

// A protobuf body that cannot be parsed: field 1 (length-delimited) claims more bytes than follow.
const BAD_PROTO = new Uint8Array([0x0a, 0xff, 0xff, 0x01, ...Buffer.from(SECRET)]);

/** The ErrorInfo reason carried by gRPC status trailers (grpc-status-details-bin). */
function reasonOf(status: string, statusDetailsBin: string): string | undefined {
  const err = findTrailerError(new Headers({ 'grpc-status': status, 'grpc-status-details-bin': statusDetailsBin }));
  return err?.findDetails(ErrorInfoSchema)[0]?.reason;
}

/**
 * Connect reads a stream's request before any interceptor runs; its decode
 * errors must leave as for unary calls (protocol-errors.ts): INVALID_ARGUMENT
 * with an ErrorInfo, a generic message, never INTERNAL, never the input.
 */
describe('request decode errors of WatchConnections', () => {
  let nexus: TestApp;
  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'embedded' });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  async function post(contentType: string, body: Buffer) {
    const res = await fetch(`${nexus.baseUrl}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${ADMIN_KEY}`, 'connect-protocol-version': '1' },
      body: new Uint8Array(body),
    });
    return Buffer.from(await res.arrayBuffer());
  }

  it.each([
    ['application/connect+json', envelope(0, Buffer.from(JSON.stringify({ workspaceId: 5, resumeCursor: { x: SECRET } })))],
    ['application/connect+proto', envelope(0, BAD_PROTO)],
  ])('Connect streaming (%s)', async (contentType, body) => {
    const frames = envelopes(await post(contentType, body));
    const end = frames.at(-1)!;
    expect(end.flags & 0b10).toBe(0b10);
    const text = end.data.toString();
    expect(text).not.toContain(SECRET);
    const json = JSON.parse(text) as { error: { code: string; message: string; details: { type: string; value: string }[] } };
    expect(json.error.code).toBe('invalid_argument');
    expect(json.error.message).toBe('the request body is not a valid nexus.v1.WatchConnectionsRequest');
    const info = json.error.details.find((d) => d.type === 'google.rpc.ErrorInfo')!;
    expect(fromBinary(ErrorInfoSchema, Buffer.from(info.value, 'base64')).reason).toBe('ERROR_REASON_INVALID_FIELD');
  });

  it('gRPC-Web', async () => {
    const frames = envelopes(await post('application/grpc-web+proto', envelope(0, BAD_PROTO)));
    const trailer = frames.at(-1)!;
    expect(trailer.flags & 0x80).toBe(0x80);
    const text = trailer.data.toString();
    expect(text).not.toContain(SECRET);
    expect(text).toMatch(/grpc-status: ?3\r\n/);
    expect(reasonOf('3', /grpc-status-details-bin: ?([^\r\n]+)/.exec(text)![1]!)).toBe('ERROR_REASON_INVALID_FIELD');
  });

  it('gRPC (HTTP/2)', async () => {
    const client = http2.connect(nexus.baseUrl);
    try {
      const req = client.request({
        ':method': 'POST',
        ':path': PATH,
        'content-type': 'application/grpc+proto',
        te: 'trailers',
        authorization: `Bearer ${ADMIN_KEY}`,
      });
      req.end(envelope(0, BAD_PROTO));
      const meta: Record<string, unknown> = {};
      req.on('response', (h) => Object.assign(meta, h));
      req.on('trailers', (t) => Object.assign(meta, t));
      req.resume();
      await new Promise((resolve) => req.on('close', resolve));
      expect(meta['grpc-status']).toBe('3');
      expect(decodeURIComponent(String(meta['grpc-message']))).toBe('the request body is not a valid nexus.v1.WatchConnectionsRequest');
      expect(reasonOf('3', String(meta['grpc-status-details-bin']))).toBe('ERROR_REASON_INVALID_FIELD');
      expect(JSON.stringify(meta)).not.toContain(SECRET);
    } finally {
      client.close();
    }
  });
});

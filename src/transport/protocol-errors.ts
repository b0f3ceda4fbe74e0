import { Code, ConnectError } from '@connectrpc/connect';
import {
  createAsyncIterable,
  encodeEnvelope,
  pipe,
  readAllBytes,
  transformSplitEnvelope,
  type UniversalHandler,
  type UniversalServerResponse,
} from '@connectrpc/connect/protocol';
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamFromJson,
  endStreamToJson,
  errorFromJsonBytes,
  errorToJsonBytes,
} from '@connectrpc/connect/protocol-connect';
import { findTrailerError, setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import { trailerFlag, trailerParse, trailerSerialize } from '@connectrpc/connect/protocol-grpc-web';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { errorInfo } from './error-mapper.js';
import { locateJsonProblem, type InputProblem } from './input-validation.js';

/**
 * The @connectrpc/* version this file was checked against. It uses their
 * protocol internals (envelopes, end-stream and trailer codecs), which are not
 * covered by semver, so package.json pins every @connectrpc/* package to
 * exactly this version (test/unit/transport/connect-pin.test.ts holds both to
 * it). To upgrade: re-read those internals, re-run test/integration/validation.test.ts
 * and the protocol-error tests over all three protocols, then change both.
 */
export const CONNECT_VERSION_CHECKED = '2.1.2';

/**
 * Connect decodes and size-checks a request before any interceptor runs, so
 * its own errors would leave without an ErrorInfo, sometimes as INTERNAL,
 * and with messages that quote the offending input (which may be a secret).
 * This wraps each unary and server-streaming handler and rewrites exactly
 * those errors (the ones without an ErrorInfo) into a generic message, the
 * right code and a reason, in whichever protocol the call used. Errors from
 * our handlers already carry an ErrorInfo and pass through untouched.
 */
export function withSafeProtocolErrors(handler: UniversalHandler): UniversalHandler {
  if (handler.method.methodKind === 'server_streaming') return withSafeStreamErrors(handler);
  if (handler.method.methodKind !== 'unary') return handler;
  const inputName = handler.method.input.typeName;
  const wrapped = async (req: Parameters<UniversalHandler>[0]): Promise<UniversalServerResponse> => {
    const contentType = req.header.get('content-type') ?? '';
    if (contentType.startsWith('application/grpc-web')) return rewriteGrpcWeb(await handler(req), inputName);
    if (contentType.startsWith('application/grpc')) return rewriteGrpc(await handler(req), inputName);
    const recorded = recordJsonRequest(req);
    const res = await handler(recorded.req);
    return rewriteConnect(res, inputName, () => {
      const json = recorded.json();
      return json === undefined ? undefined : locateJsonProblem(handler.method.input, json);
    });
  };
  return Object.assign(wrapped, handler);
}

/** Largest request message accepted; larger ones get RESOURCE_EXHAUSTED. */
export const READ_MAX_BYTES = 1024 * 1024;

type UniversalRequest = Parameters<UniversalHandler>[0];

/**
 * A Connect unary request whose JSON is kept as Connect reads it (the body
 * passes through; at most READ_MAX_BYTES are kept, Connect enforces the
 * limit), so that a request that fails to decode can have its bad field
 * named. GET requests carry the JSON in `?message=`. Compressed or binary
 * requests are not kept.
 */
function recordJsonRequest(req: UniversalRequest): { req: UniversalRequest; json: () => unknown } {
  const none = { req, json: () => undefined };
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET') {
    if (url.searchParams.get('encoding') !== 'json' || url.searchParams.has('compression')) return none;
    const message = url.searchParams.get('message') ?? '';
    const text = url.searchParams.get('base64') === '1' ? Buffer.from(message, 'base64url').toString('utf8') : message;
    return { req, json: () => parseJson(text) };
  }
  const body = req.body;
  const isJson = (req.header.get('content-type') ?? '').startsWith('application/json');
  const encoded = (req.header.get('content-encoding') ?? 'identity') !== 'identity';
  if (!isJson || encoded || body === null || typeof body !== 'object' || !(Symbol.asyncIterator in body)) return none;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const passthrough = (async function* () {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (size <= READ_MAX_BYTES) chunks.push(chunk);
      size += chunk.byteLength;
      yield chunk;
    }
  })();
  return {
    req: { ...req, body: passthrough },
    json: () => (size > READ_MAX_BYTES ? undefined : parseJson(Buffer.concat(chunks).toString('utf8'))),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The replacement for an error that came from decoding or limits, or
 * undefined to keep it. `locate` names the field of a JSON request that
 * failed to decode, when it can.
 */
function safeError(err: ConnectError, inputName: string, locate?: () => InputProblem | undefined): ConnectError | undefined {
  if (err.findDetails(ErrorInfoSchema).length > 0) return undefined;
  switch (err.code) {
    case Code.ResourceExhausted:
      return new ConnectError('the request message is too large', Code.ResourceExhausted, undefined, [errorInfo('REQUEST_TOO_LARGE')]);
    case Code.InvalidArgument:
    case Code.Internal:
      // Our own unexpected failures are INTERNAL "internal error" and stay so; anything else
      // without details here is Connect failing to read the request.
      if (err.rawMessage === 'internal error') return undefined;
      {
        const problem = err.code === Code.InvalidArgument ? locate?.() : undefined;
        if (problem) {
          return new ConnectError(`${problem.path}: ${problem.problem}`, Code.InvalidArgument, undefined, [
            errorInfo('INVALID_FIELD', { field: problem.path }),
          ]);
        }
      }
      return new ConnectError(`the request body is not a valid ${inputName}`, Code.InvalidArgument, undefined, [errorInfo('INVALID_FIELD', { field: 'body' })]);
    default:
      return undefined;
  }
}

async function bodyBytes(res: UniversalServerResponse): Promise<Uint8Array> {
  if (res.body === undefined) return new Uint8Array(0);
  return readAllBytes(res.body, Number.MAX_SAFE_INTEGER);
}

/** A response body must stay an async iterable of chunks. */
function asBody(bytes: Uint8Array): UniversalServerResponse['body'] {
  return createAsyncIterable([bytes]);
}

async function rewriteConnect(res: UniversalServerResponse, inputName: string, locate: () => InputProblem | undefined): Promise<UniversalServerResponse> {
  // Only Connect error bodies (JSON) are rewritten; 404/405/415 answers have none.
  if (res.status === 200 || !new Headers(res.header).get('content-type')?.startsWith('application/json')) return res;
  const bytes = await bodyBytes(res);
  let original: ConnectError;
  try {
    original = errorFromJsonBytes(bytes, undefined, new ConnectError('', Code.Unknown));
  } catch {
    return { ...res, body: asBody(bytes) };
  }
  const replacement = safeError(original, inputName, locate);
  if (!replacement) return { ...res, body: asBody(bytes) };
  const body = errorToJsonBytes(replacement, {});
  const header = new Headers(res.header);
  header.set('content-length', String(body.byteLength));
  return { ...res, status: codeToHttpStatus(replacement.code), header, body: asBody(body) };
}

function rewriteGrpc(res: UniversalServerResponse, inputName: string): UniversalServerResponse {
  for (const key of ['trailer', 'header'] as const) {
    const headers = res[key] ? new Headers(res[key]) : undefined;
    const err = headers && findTrailerError(headers);
    const replacement = err && safeError(err, inputName);
    if (replacement) return { ...res, [key]: setTrailerStatus(headers, replacement) };
  }
  return res;
}

/** gRPC-Web carries its status in a trailer frame at the end of the body. */
async function rewriteGrpcWeb(res: UniversalServerResponse, inputName: string): Promise<UniversalServerResponse> {
  const bytes = await bodyBytes(res);
  const frames: { flags: number; data: Uint8Array }[] = [];
  for (let offset = 0; offset + 5 <= bytes.byteLength; ) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + offset + 1, 4).getUint32(0);
    frames.push({ flags: bytes[offset]!, data: bytes.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  const last = frames.at(-1);
  if (!last || (last.flags & trailerFlag) !== trailerFlag) return { ...res, body: asBody(bytes) };
  const trailer = trailerParse(last.data);
  const err = findTrailerError(trailer);
  const replacement = err && safeError(err, inputName);
  if (!replacement) return { ...res, body: asBody(bytes) };
  const rewritten = encodeEnvelope(trailerFlag, trailerSerialize(setTrailerStatus(trailer, replacement)));
  const kept = frames.slice(0, -1).map((f) => encodeEnvelope(f.flags, f.data));
  const body = new Uint8Array([...kept.flatMap((k) => [...k]), ...rewritten]);
  return { ...res, body: asBody(body) };
}

/**
 * Server streams: the status travels at the end of a body that may stay
 * open for hours, so nothing is buffered. Envelopes pass through one by one
 * and only the final one (Connect end-stream, gRPC-Web trailer frame) is
 * rewritten; gRPC's trailers are rewritten in place once the body is done,
 * before the adapter sends them.
 */
function withSafeStreamErrors(handler: UniversalHandler): UniversalHandler {
  const inputName = handler.method.input.typeName;
  const wrapped = async (req: Parameters<UniversalHandler>[0]): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    const body = res.body;
    if (body === undefined) return res;
    const contentType = req.header.get('content-type') ?? '';
    if (contentType.startsWith('application/grpc-web')) {
      return { ...res, body: rewriteFinalEnvelope(body, trailerFlag, (data) => rewriteTrailerFrame(data, inputName)) };
    }
    if (contentType.startsWith('application/grpc')) {
      const trailer = res.trailer;
      return {
        ...rewriteGrpc(res, inputName),
        body: (async function* () {
          yield* body;
          const err = trailer && findTrailerError(trailer);
          const replacement = err && safeError(err, inputName);
          if (replacement) setTrailerStatus(trailer, replacement);
        })(),
      };
    }
    if (contentType.startsWith('application/connect')) {
      return { ...res, body: rewriteFinalEnvelope(body, endStreamFlag, (data) => rewriteEndStream(data, inputName)) };
    }
    return res;
  };
  return Object.assign(wrapped, handler);
}

async function* rewriteFinalEnvelope(
  body: AsyncIterable<Uint8Array>,
  flag: number,
  rewrite: (data: Uint8Array) => Uint8Array | undefined,
): AsyncIterable<Uint8Array> {
  for await (const envelope of pipe(body, transformSplitEnvelope(0xffffffff))) {
    const data = (envelope.flags & flag) === flag ? (rewrite(envelope.data) ?? envelope.data) : envelope.data;
    yield encodeEnvelope(envelope.flags, data);
  }
}

function rewriteEndStream(data: Uint8Array, inputName: string): Uint8Array | undefined {
  const end = endStreamFromJson(data);
  const replacement = end.error && safeError(end.error, inputName);
  if (!replacement) return undefined;
  return new TextEncoder().encode(JSON.stringify(endStreamToJson(end.metadata, replacement, {})));
}

function rewriteTrailerFrame(data: Uint8Array, inputName: string): Uint8Array | undefined {
  const trailer = trailerParse(data);
  const err = findTrailerError(trailer);
  const replacement = err && safeError(err, inputName);
  return replacement ? trailerSerialize(setTrailerStatus(trailer, replacement)) : undefined;
}

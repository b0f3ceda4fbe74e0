import { create, type DescMethod, type DescMethodServerStreaming, type DescMethodUnary } from '@bufbuild/protobuf';
import { ConnectError, createContextValues, type Transport } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';

/** `nexus.v1.TokenService/GetToken` */
export const procedureOf = (m: DescMethod) => `${m.parent.typeName}/${m.name}`;

/**
 * Calls any unary or server-streaming method with an empty request (reading a
 * stream to its end): the error it ended with, or undefined.
 */
export async function callWithEmptyRequest(t: Transport, m: DescMethod, header = new Headers()): Promise<ConnectError | undefined> {
  try {
    if (m.methodKind === 'unary') {
      const unary = m as DescMethodUnary;
      await t.unary(unary, undefined, 10_000, header, create(unary.input), createContextValues());
    } else if (m.methodKind === 'server_streaming') {
      const streaming = m as DescMethodServerStreaming;
      const input = (async function* () {
        yield create(streaming.input);
      })();
      const res = await t.stream(streaming, undefined, 10_000, header, input, createContextValues());
      for await (const _ of res.message) void _;
    } else {
      throw new Error(`${procedureOf(m)}: a ${m.methodKind} RPC; callWithEmptyRequest knows unary and server-streaming ones`);
    }
    return undefined;
  } catch (err) {
    return ConnectError.from(err);
  }
}

/** ErrorInfo.reason of an error, e.g. `ERROR_REASON_UNAUTHENTICATED`. */
export function reasonOf(err: ConnectError | undefined): string | undefined {
  return err?.findDetails(ErrorInfoSchema)[0]?.reason;
}

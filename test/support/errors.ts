import { Code, ConnectError } from '@connectrpc/connect';
import { expect } from 'vitest';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';

/** Awaits `promise`, expecting a ConnectError with this code and ErrorInfo reason (without the ERROR_REASON_ prefix). */
export async function expectConnectError(promise: Promise<unknown>, code: Code, reason: string): Promise<ConnectError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${Code[code]} / ${reason}`).toBeInstanceOf(ConnectError);
  const err = caught as ConnectError;
  const infos = err.findDetails(ErrorInfoSchema);
  expect({ code: Code[err.code], reason: infos[0]?.reason, message: err.rawMessage }).toMatchObject({
    code: Code[code],
    reason: `ERROR_REASON_${reason}`,
  });
  expect(infos[0]?.domain).toBe('nexus');
  return err;
}

import { Code } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../../gen/ts/google/rpc/error_details_pb.js';
import { ErrorReason, ErrorReasonSchema } from '../../../gen/ts/nexus/v1/errors_pb.js';
import { ProviderInUseError, type ErrorReasonName } from '../../../src/domain/shared/errors.js';
import { connectErrorFrom, errorInfo, errorReasonValueName } from '../../../src/transport/error-mapper.js';

describe('ErrorInfo reasons come from the generated ErrorReason enum', () => {
  it('sends the full enum value name of every reason', () => {
    const names = Object.keys(ErrorReason).filter((k) => Number.isNaN(Number(k)) && k !== 'UNSPECIFIED') as ErrorReasonName[];
    expect(names.length).toBe(ErrorReasonSchema.values.length - 1);
    for (const name of names) {
      expect(errorReasonValueName(name)).toBe(`ERROR_REASON_${name}`);
      expect(errorInfo(name).value.reason).toBe(`ERROR_REASON_${name}`);
    }
  });

  it('DeleteProvider on a provider in use: FAILED_PRECONDITION, PROVIDER_IN_USE (15)', () => {
    const err = connectErrorFrom(new ProviderInUseError('acme', 2));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(ErrorReason.PROVIDER_IN_USE).toBe(15);
    const [info] = err.findDetails(ErrorInfoSchema);
    expect(info?.reason).toBe('ERROR_REASON_PROVIDER_IN_USE');
    expect(info?.metadata.provider).toBe('acme');
  });
});

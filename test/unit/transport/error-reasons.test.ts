import { Code } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../../gen/ts/google/rpc/error_details_pb.js';
import { ErrorReason, ErrorReasonSchema } from '../../../gen/ts/nexus/v1/errors_pb.js';
import { MalformedClientCredentials } from '../../../src/domain/auth/client-credentials.js';
import { TokenVerificationError } from '../../../src/domain/auth/signing-keys.js';
import { OAuthRejectedError } from '../../../src/domain/oauth/oauth-errors.js';
import { IdentityInvalidError, IdentityUnavailableError } from '../../../src/domain/oauth/provider-identity.js';
import { ResponseTooLargeError } from '../../../src/domain/outbound/safe-fetch.js';
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

  // The domain's inner signals are NexusErrors too: one that escaped its catcher would still leave with its own code, never INTERNAL.
  it.each([
    [new OAuthRejectedError('invalid_grant', 400), Code.FailedPrecondition, 'PROVIDER_REJECTED'],
    [new IdentityInvalidError('the ID token does not verify'), Code.FailedPrecondition, 'PROVIDER_IDENTITY_INVALID'],
    [new IdentityUnavailableError("the issuer's JWKS could not be read"), Code.Unavailable, 'PROVIDER_UNAVAILABLE'],
    [new ResponseTooLargeError(1024), Code.Unavailable, 'PROVIDER_UNAVAILABLE'],
    [new TokenVerificationError(true), Code.Unauthenticated, 'UNAUTHENTICATED'],
    [new MalformedClientCredentials(), Code.Unauthenticated, 'CLIENT_AUTHENTICATION_FAILED'],
  ] as const)('%s leaves as its code and reason', (error, code, reason) => {
    const err = connectErrorFrom(error);
    expect(err.code).toBe(code);
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe(`ERROR_REASON_${reason}`);
  });

  it('PROVIDER_REJECTED carries the OAuth error code, nothing the server described', () => {
    const [info] = connectErrorFrom(new OAuthRejectedError('invalid_grant', 400, 'detail for the log')).findDetails(ErrorInfoSchema);
    expect(ErrorReason.PROVIDER_REJECTED).toBe(260);
    expect(info?.metadata).toEqual({ error: 'invalid_grant' });
  });
});

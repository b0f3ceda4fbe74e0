import { echo, NexusError, type ErrorKind } from '../shared/errors.js';

/**
 * Errors of end-user sign-in, token grants and handoffs (ErrorReason 70-89),
 * in the one style of errors.ts: a class per failure with its kind and reason.
 * Messages say what to do and never contain a token, code or secret.
 */

export class ClientAuthenticationFailedError extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'CLIENT_AUTHENTICATION_FAILED';
  constructor() {
    super('client authentication failed');
  }
}
export class ClientNotFoundError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'CLIENT_NOT_FOUND';
  constructor(id: string) {
    super(`client "${echo(id)}" not found`, { client_id: echo(id) });
  }
}
export class RedirectUriNotAllowedError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'REDIRECT_URI_NOT_ALLOWED';
  constructor() {
    super("redirect_uri is not one of the client's registered redirect URIs", { field: 'redirect_uri' });
  }
}
export class SiweMessageInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'SIWE_MESSAGE_INVALID';
  constructor(problem: string, field?: string) {
    super(`SIWE message: ${problem}`, field ? { field } : {});
  }
}
export class SiweSignatureInvalidError extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'SIWE_SIGNATURE_INVALID';
  constructor() {
    super("the signature does not match the SIWE message's address");
  }
}
export class SiweDomainMismatchError extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'SIWE_DOMAIN_MISMATCH';
  constructor(field: 'domain' | 'uri') {
    super(`the SIWE message's ${field} is not allowed for this client`, { field });
  }
}
export class SiweChainMismatchError extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'SIWE_CHAIN_MISMATCH';
  constructor() {
    super("the SIWE message's chain id is not allowed for this client", { field: 'chain_id' });
  }
}
export class SiweExpiredError extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'SIWE_EXPIRED';
  constructor(problem: string) {
    super(`the SIWE message ${problem}`);
  }
}
export class NonceInvalidError extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'NONCE_INVALID';
  constructor(problem: string) {
    super(`the SIWE nonce ${problem}; get a new one with GetNonce`);
  }
}
export class SessionNotFoundError extends NexusError {
  readonly kind: ErrorKind;
  readonly reason = 'SESSION_NOT_FOUND';
  constructor(kind: ErrorKind = 'not_found') {
    super('the session does not exist, has ended, or belongs to another account or client');
    this.kind = kind;
  }
}
export class UnsupportedGrantTypeError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'UNSUPPORTED_GRANT_TYPE';
  constructor() {
    super('grant_type must be "authorization_code", "refresh_token" or "urn:ietf:params:oauth:grant-type:token-exchange"', { field: 'grant_type' });
  }
}
export class AuthorizationCodeInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'AUTHORIZATION_CODE_INVALID';
  constructor(problem: string) {
    super(`the authorization code ${problem}`, { field: 'code' });
  }
}
export class PkceVerificationFailedError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'PKCE_VERIFICATION_FAILED';
  constructor() {
    super('code_verifier does not match the code_challenge', { field: 'code_verifier' });
  }
}
export class RedirectUriMismatchError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'REDIRECT_URI_MISMATCH';
  constructor() {
    super('redirect_uri differs from the one the code was issued for', { field: 'redirect_uri' });
  }
}
export class RefreshTokenInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'REFRESH_TOKEN_INVALID';
  constructor(problem: string) {
    super(`the refresh token ${problem}`, { field: 'refresh_token' });
  }
}
export class HandoffCodeInvalidError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'HANDOFF_CODE_INVALID';
  constructor() {
    super('this handoff code is not valid; ask the app to open the page again', { field: 'code' });
  }
}
export class HandoffCodeExpiredError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'HANDOFF_CODE_EXPIRED';
  constructor() {
    super('this handoff code has expired (codes last 30 seconds); ask the app to open the page again', { field: 'code' });
  }
}
export class HandoffCodeAlreadyUsedError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'HANDOFF_CODE_ALREADY_USED';
  constructor() {
    super('this handoff code was already used; ask the app to open the page again', { field: 'code' });
  }
}
export class HandoffIpMismatchError extends NexusError {
  readonly kind = 'permission_denied';
  readonly reason = 'HANDOFF_IP_MISMATCH';
  constructor() {
    super('this handoff code was issued to another network address');
  }
}

/* Token exchange (RFC 8693; ErrorReason 240-249). */

export class SubjectTokenInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'SUBJECT_TOKEN_INVALID';
  constructor(problem: string) {
    super(`the subject_token ${problem}`, { field: 'subject_token' });
  }
}
export class SubjectTokenTypeUnsupportedError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'SUBJECT_TOKEN_TYPE_UNSUPPORTED';
  constructor(field: 'subject_token_type' | 'requested_token_type') {
    super(`${field} must be "urn:ietf:params:oauth:token-type:access_token"`, { field });
  }
}
export class SubjectTokenScopeMissingError extends NexusError {
  readonly kind = 'permission_denied';
  readonly reason = 'SCOPE_MISSING';
  constructor() {
    super('the subject_token was not granted the "tokens" scope; sign in again asking for it', { scope: 'tokens' });
  }
}
export class ExchangeTargetNotFoundError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'EXCHANGE_TARGET_NOT_FOUND';
  constructor(field: 'resource' | 'audience', problem: string) {
    super(`${field}: ${problem}`, { field });
  }
}
export class ExchangeTargetAmbiguousError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'EXCHANGE_TARGET_AMBIGUOUS';
  constructor() {
    super('audience: the workspace has several connections to this provider; name one with resource instead', { field: 'audience' });
  }
}
export class ExchangeStaticCredentialError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'EXCHANGE_STATIC_CREDENTIAL';
  constructor() {
    super('the connection holds a static credential, not an OAuth access token: it is not exchangeable (use GetToken)');
  }
}
export class ExchangeClientNotAllowedError extends NexusError {
  readonly kind = 'permission_denied';
  readonly reason = 'EXCHANGE_CLIENT_NOT_ALLOWED';
  constructor() {
    super('only confidential clients may use the token-exchange grant');
  }
}

import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  AuthenticateResponseSchema,
  BrandingSchema,
  ExchangeTokenResponseSchema,
  GetNonceResponseSchema,
  InitHandoffResponseSchema,
  ListScopesResponseSchema,
  RedeemHandoffResponseSchema,
  RevokeResponseSchema,
  type AuthService as AuthServiceDesc,
  type AuthenticateRequest,
  type ExchangeTokenRequest,
  type GetNonceRequest,
  type InitHandoffRequest,
  type RedeemHandoffRequest,
  type RevokeRequest,
} from '../../../gen/ts/nexus/v1/auth_pb.js';
import type { AuthService, IssuedTokens } from '../../domain/auth/auth-service.js';
import { clientCredentials } from '../../domain/auth/client-credentials.js';
import type { ExchangedToken, TokenEndpoint } from '../../domain/token-exchange/token-endpoint.js';
import { callerOf } from '../access.js';
import { clientIpOf } from '../client-ip.js';
import { recordCall, requestIdKey } from '../audit-interceptor.js';
import type { AuditLog } from '../../domain/audit/types.js';
import { accountToProto, intentToDomain, intentToWire } from '../mappers/client-mapper.js';

export class AuthHandler implements ServiceImpl<typeof AuthServiceDesc> {
  constructor(
    private readonly service: AuthService,
    private readonly endpoint: TokenEndpoint,
    private readonly audit?: AuditLog,
  ) {}

  /** A successful end-user auth event (the interceptor has no project for client-authenticated calls; refusals of those are not recorded). */
  private record(
    ctx: HandlerContext,
    action: string,
    session: { id: string; projectId: string; clientId: string },
    account: { id: string; workspaceId: string },
    detail?: Record<string, string>,
  ) {
    recordCall(this.audit, ctx, {
      projectId: session.projectId,
      actor: { kind: 'end_user', accountId: account.id, workspaceId: account.workspaceId, clientId: session.clientId },
      action,
      target: session.id ? { type: 'session', id: session.id } : { type: 'client', id: session.clientId },
      outcome: 'success',
      ...(detail ? { detail } : {}),
    });
  }

  async getNonce(req: GetNonceRequest) {
    const { nonce, expireTime } = await this.service.getNonce(req.clientId);
    return create(GetNonceResponseSchema, { nonce, expireTime: timestampFromDate(expireTime) });
  }

  async authenticate(req: AuthenticateRequest, ctx: HandlerContext) {
    const result = await this.service.authenticate(credentialsOf(ctx, req), {
      message: req.message,
      signature: req.signature,
      sessionId: req.sessionId,
      scopes: req.scopes,
      responseType: req.responseType,
      codeChallenge: req.codeChallenge,
      codeChallengeMethod: req.codeChallengeMethod,
      redirectUri: req.redirectUri,
    });
    this.record(ctx, 'auth.sign_in', result.session, result.account, { response_type: result.kind });
    const common = { sessionId: result.session.id, account: accountToProto(result.account), scopes: result.scopes };
    if (result.kind === 'code') return create(AuthenticateResponseSchema, { ...common, code: result.code });
    return create(AuthenticateResponseSchema, {
      ...common,
      accessToken: result.accessToken,
      tokenType: 'Bearer',
      expiresIn: result.expiresIn,
      refreshToken: result.refreshToken,
    });
  }

  async exchangeToken(req: ExchangeTokenRequest, ctx: HandlerContext) {
    const result = await this.endpoint.grant(credentialsOf(ctx, req), req, { clientIp: clientIpOf(ctx), requestId: ctx.values.get(requestIdKey) });
    // Audited by the domain, for this transport and POST /oauth/token alike.
    if (result.kind === 'exchange') return create(ExchangeTokenResponseSchema, exchangedResponse(result.token));
    return create(ExchangeTokenResponseSchema, tokenResponse(result.tokens));
  }

  async revoke(req: RevokeRequest, ctx: HandlerContext) {
    await this.service.revoke(credentialsOf(ctx, req), req.token, req.tokenTypeHint);
    return create(RevokeResponseSchema, {});
  }

  listScopes() {
    return create(ListScopesResponseSchema, { scopes: this.service.listScopes().map((s) => ({ ...s })) });
  }

  async initHandoff(req: InitHandoffRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const result = await this.service.initHandoff(caller, { redirectUri: req.redirectUri, intent: intentToDomain(req.intent) }, clientIpOf(ctx));
    return create(InitHandoffResponseSchema, {
      code: result.code,
      expireTime: timestampFromDate(result.expireTime),
      webAppUrl: result.webAppUrl,
    });
  }

  async redeemHandoff(req: RedeemHandoffRequest, ctx: HandlerContext) {
    const session = await this.service.redeemHandoff(req.code, clientIpOf(ctx));
    this.record(ctx, 'auth.redeem_handoff', { id: '', projectId: session.account.projectId, clientId: session.client.id }, session.account, {
      intent: session.intent,
    });
    return create(RedeemHandoffResponseSchema, {
      accessToken: session.accessToken,
      tokenType: 'Bearer',
      expireTime: timestampFromDate(session.expireTime),
      scopes: session.scopes,
      account: accountToProto(session.account),
      branding: create(BrandingSchema, session.branding),
      redirectUri: session.redirectUri,
      intent: intentToWire(session.intent),
      clientId: session.client.id,
    });
  }
}

/** Basic header first (RFC 6749 2.3.1), else the request's client_id/client_secret; parsed lazily so errors map uniformly. */
function credentialsOf(ctx: HandlerContext, req: { clientId: string; clientSecret: string }) {
  return () => clientCredentials(ctx.requestHeader.get('authorization'), req.clientId, req.clientSecret);
}

function tokenResponse(t: IssuedTokens) {
  return {
    accessToken: t.accessToken,
    tokenType: 'Bearer',
    expiresIn: t.expiresIn,
    refreshToken: t.refreshToken,
    scopes: t.scopes,
    sessionId: t.session.id,
    account: accountToProto(t.account),
  };
}

function exchangedResponse(t: ExchangedToken) {
  return { accessToken: t.accessToken, tokenType: t.tokenType, expiresIn: t.expiresIn ?? 0, scopes: t.scopes, issuedTokenType: t.issuedTokenType };
}

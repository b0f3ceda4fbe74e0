import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  GetTokenResponseSchema,
  RefreshTokenResponseSchema,
  type GetTokenRequest,
  type RefreshTokenRequest,
  type TokenService as TokenServiceDesc,
} from '../../../gen/ts/nexus/v1/token_pb.js';
import type { TokenService } from '../../domain/tokens/token-service.js';
import { callerOf } from '../access.js';
import { credentialToProto } from '../mappers/token-mapper.js';

export class TokenHandler implements ServiceImpl<typeof TokenServiceDesc> {
  constructor(private readonly tokens: TokenService) {}

  async getToken(req: GetTokenRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const margin = req.minRemaining ? Number(req.minRemaining.seconds) * 1000 + Math.floor(req.minRemaining.nanos / 1e6) : undefined;
    const credential = credentialToProto(req.connectionId, await this.tokens.getToken(caller, req.connectionId, margin));
    return create(GetTokenResponseSchema, { credential });
  }

  async refreshToken(req: RefreshTokenRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const credential = credentialToProto(req.connectionId, await this.tokens.refreshToken(caller, req.connectionId));
    return create(RefreshTokenResponseSchema, { credential });
  }
}

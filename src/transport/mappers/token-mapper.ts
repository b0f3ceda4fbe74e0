import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { CredentialSchema, StrategyType, type Credential } from '../../../gen/ts/nexus/v1/token_pb.js';
import type { IssuedCredential } from '../../domain/model/issued-credential.js';
import { apiKeyLocationToWire } from './enums.js';

/** The one Credential message both GetToken and RefreshToken return. */
export function credentialToProto(connectionId: string, c: IssuedCredential): Credential {
  const base = { connectionId };
  switch (c.type) {
    case 'oauth2':
      return create(CredentialSchema, {
        ...base,
        strategy: { type: StrategyType.OAUTH2 },
        credentials: { case: 'oauth2', value: { accessToken: c.accessToken, tokenType: c.tokenType, scopes: c.scopes } },
        expireTime: c.expiresAt ? timestampFromDate(c.expiresAt) : undefined,
      });
    case 'api_key':
      return create(CredentialSchema, {
        ...base,
        strategy: {
          type: StrategyType.API_KEY,
          apiKey: {
            location: apiKeyLocationToWire(c.placement.location),
            name: c.placement.name,
            prefix: c.placement.prefix,
            field: c.placement.field,
          },
        },
        credentials: { case: 'apiKey', value: { apiKey: c.apiKey } },
        extra: c.extra as Credential['extra'],
      });
    case 'basic_auth':
      return create(CredentialSchema, {
        ...base,
        strategy: { type: StrategyType.BASIC_AUTH },
        credentials: { case: 'basicAuth', value: { username: c.username, password: c.password } },
        extra: c.extra as Credential['extra'],
      });
    case 'aws_sigv4':
      return create(CredentialSchema, {
        ...base,
        strategy: { type: StrategyType.AWS_SIGV4 },
        credentials: {
          case: 'awsSigv4',
          value: {
            accessKeyId: c.accessKeyId,
            secretAccessKey: c.secretAccessKey,
            sessionToken: c.sessionToken,
            region: c.region,
            service: c.service,
          },
        },
        extra: c.extra as Credential['extra'],
      });
    case 'bearer':
      return create(CredentialSchema, {
        ...base,
        strategy: { type: StrategyType.BEARER },
        credentials: { case: 'bearer', value: { token: c.token } },
        extra: c.extra as Credential['extra'],
      });
  }
}

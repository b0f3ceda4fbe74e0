import { create } from '@bufbuild/protobuf';
import { timestampFromDate, type Duration } from '@bufbuild/protobuf/wkt';
import { ApiKeySchema, ApiKeyScope, type ApiKey } from '../../../gen/ts/nexus/v1/api_key_pb.js';
import type { ApiKeyListing } from '../../domain/access/api-keys.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import type { ApiKeyScope as Scope } from '../../domain/model/api-key.js';

const TO_WIRE: Record<Scope, ApiKeyScope> = {
  admin: ApiKeyScope.ADMIN,
  connections: ApiKeyScope.CONNECTIONS,
  tokens: ApiKeyScope.TOKENS,
  operator: ApiKeyScope.OPERATOR,
};
const FROM_WIRE = new Map<ApiKeyScope, Scope>(Object.entries(TO_WIRE).map(([k, v]) => [v, k as Scope]));

/** A key as the API shows it: never its secret or hash. */
export function apiKeyToProto(key: ApiKeyListing): ApiKey {
  return create(ApiKeySchema, {
    id: key.id,
    projectId: key.projectId,
    name: key.name,
    prefix: key.displayPrefix,
    scopes: key.scopes.map((s) => TO_WIRE[s]),
    createTime: timestampFromDate(key.createdAt),
    ...(key.expiresAt ? { expireTime: timestampFromDate(key.expiresAt) } : {}),
    ...(key.lastUsedAt ? { lastUseTime: timestampFromDate(key.lastUsedAt) } : {}),
    ...(key.revokedAt ? { revokeTime: timestampFromDate(key.revokedAt) } : {}),
  });
}

export function scopesFromProto(scopes: ApiKeyScope[]): Scope[] {
  return scopes.map((s) => {
    const scope = FROM_WIRE.get(s);
    if (!scope) throw new InvalidFieldError('scopes', 'API_KEY_SCOPE_UNSPECIFIED is not a scope');
    return scope;
  });
}

/** A Duration in milliseconds; undefined when unset. Bounds are the domain's. */
export function durationMs(duration: Duration | undefined, field: string): number | undefined {
  if (!duration) return undefined;
  const ms = Number(duration.seconds) * 1_000 + Math.trunc(duration.nanos / 1_000_000);
  if (!Number.isFinite(ms)) throw new InvalidFieldError(field, 'out of range');
  return ms;
}

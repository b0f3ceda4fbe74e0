import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AccountSchema, BrandingSchema, HandoffIntent, type Branding } from '../../../gen/ts/nexus/v1/auth_pb.js';
import { ClientSchema, ClientType, HandoffIpBinding, type Client } from '../../../gen/ts/nexus/v1/client_pb.js';
import type { ClientInput } from '../../domain/auth/client-validation.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import type { AccountRow } from '../../domain/model/account.js';
import type { OAuthClientRow } from '../../domain/model/oauth-client.js';

/** A client as the admin API shows it: never its secret. */
export function clientToProto(row: OAuthClientRow): Client {
  return create(ClientSchema, {
    id: row.id,
    projectId: row.projectId,
    type: row.type === 'CONFIDENTIAL' ? ClientType.CONFIDENTIAL : ClientType.PUBLIC,
    displayName: row.displayName,
    redirectUris: row.redirectUris,
    branding: brandingToProto(row),
    siweOrigins: row.siweOrigins,
    siweChainIds: row.siweChainIds.map(BigInt),
    handoffIpBinding: row.handoffIpBinding === 'RELAXED' ? HandoffIpBinding.RELAXED : HandoffIpBinding.STRICT,
    createTime: timestampFromDate(row.createdAt),
    updateTime: timestampFromDate(row.updatedAt),
  });
}

export function clientInputFromProto(client: Client | undefined): ClientInput {
  if (!client) throw new InvalidFieldError('client', 'is required');
  const chainIds = client.siweChainIds.map((id) => {
    if (id > BigInt(Number.MAX_SAFE_INTEGER) || id <= 0n) throw new InvalidFieldError('client.siwe_chain_ids', 'out of range');
    return Number(id);
  });
  return {
    type: client.type === ClientType.CONFIDENTIAL ? 'CONFIDENTIAL' : client.type === ClientType.PUBLIC ? 'PUBLIC' : undefined,
    displayName: client.displayName,
    redirectUris: client.redirectUris,
    branding: brandingFromProto(client.branding),
    siweOrigins: client.siweOrigins,
    siweChainIds: chainIds,
    handoffIpBinding:
      client.handoffIpBinding === HandoffIpBinding.RELAXED ? 'RELAXED' : client.handoffIpBinding === HandoffIpBinding.STRICT ? 'STRICT' : undefined,
  };
}

/** Branding as sent (a client's or a project's): unset fields are empty. */
export function brandingFromProto(branding: Branding | undefined): { displayName: string; logoUrl: string; accentColor: string } {
  return { displayName: branding?.displayName ?? '', logoUrl: branding?.logoUrl ?? '', accentColor: branding?.accentColor ?? '' };
}

/** Branding with the client's display name as the default name. */
export function brandingToProto(row: OAuthClientRow) {
  return create(BrandingSchema, {
    displayName: row.branding.displayName || row.displayName,
    logoUrl: row.branding.logoUrl ?? '',
    accentColor: row.branding.accentColor ?? '',
  });
}

export function accountToProto(row: AccountRow) {
  return create(AccountSchema, { id: row.id, address: row.address, workspaceId: row.workspaceId, projectId: row.projectId });
}

export function intentToDomain(intent: HandoffIntent): string {
  return intent === HandoffIntent.CONNECTIONS ? 'CONNECTIONS' : '';
}

export function intentToWire(intent: string): HandoffIntent {
  return intent === 'CONNECTIONS' ? HandoffIntent.CONNECTIONS : HandoffIntent.UNSPECIFIED;
}

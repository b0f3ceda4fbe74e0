import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ConnectionSchema, type Connection } from '../../../gen/ts/nexus/v1/connection_pb.js';
import type { ConnectionView } from '../../domain/model/connection.js';
import { statusToWire } from './enums.js';

/** A connection on the wire: status and metadata, never a credential. */
export function connectionToProto(c: ConnectionView): Connection {
  return create(ConnectionSchema, {
    id: c.id,
    projectId: c.projectId,
    workspaceId: c.workspaceId,
    providerId: c.providerId,
    providerName: c.providerName,
    status: statusToWire(c.status),
    statusReason: c.statusReason,
    scopes: c.scopes,
    returnUrl: c.returnUrl,
    fields: (c.fields ?? undefined) as Connection['fields'],
    supersededBy: c.supersededBy ?? '',
    tokenExpireTime: c.tokenExpiresAt ? timestampFromDate(c.tokenExpiresAt) : undefined,
    createTime: timestampFromDate(c.createdAt),
    updateTime: timestampFromDate(c.updatedAt),
    providerSubject: c.providerSubject ?? '',
    providerEmail: c.providerEmail ?? '',
  });
}

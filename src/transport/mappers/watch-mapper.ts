import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ConnectionEventType,
  WatchConnectionResponseSchema,
  WatchConnectionsResponseSchema,
  type WatchConnectionResponse,
  type WatchConnectionsResponse,
} from '../../../gen/ts/nexus/v1/connection_pb.js';
import type { WatchItem } from '../../domain/connections/connection-watch.js';
import { connectionToProto } from './connection-mapper.js';

const TYPES: Record<Extract<WatchItem, { kind: 'event' }>['type'], ConnectionEventType> = {
  SNAPSHOT: ConnectionEventType.SNAPSHOT,
  CREATED: ConnectionEventType.CREATED,
  ACTIVE: ConnectionEventType.ACTIVE,
  ATTENTION_REQUIRED: ConnectionEventType.ATTENTION_REQUIRED,
  FAILED: ConnectionEventType.FAILED,
  REVOKED: ConnectionEventType.REVOKED,
  REFRESHED: ConnectionEventType.REFRESHED,
  DELETED: ConnectionEventType.DELETED,
  UPDATED: ConnectionEventType.UPDATED,
};

function item(w: WatchItem) {
  if (w.kind === 'heartbeat') {
    return { case: 'heartbeat' as const, value: { time: timestampFromDate(w.at), cursor: w.cursor } };
  }
  return {
    case: 'event' as const,
    value: { type: TYPES[w.type], connection: connectionToProto(w.connection), eventTime: timestampFromDate(w.at), cursor: w.cursor },
  };
}

// A live event is one WatchItem shared by every stream it reaches; so is its message (serializing does not change it).
const single = new WeakMap<WatchItem, WatchConnectionResponse>();
const multiple = new WeakMap<WatchItem, WatchConnectionsResponse>();

/** Both watch responses share one shape: an event (never a credential) or a heartbeat. */
export function watchConnectionResponse(w: WatchItem): WatchConnectionResponse {
  let res = single.get(w);
  if (!res) single.set(w, (res = create(WatchConnectionResponseSchema, { item: item(w) })));
  return res;
}

export function watchConnectionsResponse(w: WatchItem): WatchConnectionsResponse {
  let res = multiple.get(w);
  if (!res) multiple.set(w, (res = create(WatchConnectionsResponseSchema, { item: item(w) })));
  return res;
}

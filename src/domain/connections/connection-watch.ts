import type { ConnectionRow, ConnectionView } from '../model/connection.js';
import {
  ConnectionNotFoundError,
  echo,
  InvalidFieldError,
  ProviderNotFoundError,
  ResumeCursorExpiredError,
  ServerShuttingDownError,
  SnapshotTooLargeError,
  StreamBehindError,
  StreamQuotaExceededError,
  TooManyStreamsError,
} from '../shared/errors.js';
import type { Principal } from '../shared/principal.js';
import { requireOwnRow, workspaceFor } from '../shared/workspace-scope.js';
import { checkConnectionId } from './connection-id.js';
import {
  viewOf,
  type ConnectionEventRow,
  type ConnectionEventTypeName,
  type ConnectionEvents,
  type EventMark,
  type SubscriptionFilter,
} from './connection-events.js';
import { decodeCursor, encodeCursor } from './event-cursor.js';
import { WatchQueue } from './watch-queue.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence, Tx } from '../ports/persistence.js';

export type WatchItem =
  | { kind: 'event'; type: ConnectionEventTypeName | 'SNAPSHOT'; connection: ConnectionView; at: Date; cursor: string }
  | { kind: 'heartbeat'; at: Date; cursor: string };

export interface WatchQuery {
  /** WatchConnection: exactly this connection. */
  connectionId?: string;
  workspaceId?: string;
  /** Provider id or name. */
  provider?: string;
  resumeCursor: string;
}

export interface WatchOptions {
  heartbeatMs: number;
  maxStreams: number;
  /** Streams one API key (or one end user's workspace) may hold; unbounded when unset. */
  maxStreamsPerPrincipal?: number;
  /** Of maxStreams, the streams only admin API keys may take. */
  adminReserve?: number;
  /** Most connections a snapshot may hold: it is read into memory in one transaction. */
  snapshotMax: number;
  /** Events older than this are pruned; a cursor that old is refused. */
  retentionMs: number;
  /** Dates heartbeats and snapshots and ages resume cursors; the system clock when unset. */
  clock?: Clock;
}

// A cursor is refused a little before its events are due for pruning, so
// the replay never races the pruner.
const EXPIRY_MARGIN_MS = 5 * 60_000;
const REPLAY_PAGE = 500;
const SNAPSHOT_PAGE = 500;

// What RetryInfo suggests to a caller over its stream quota.
const STREAM_RETRY_MS = 5_000;

/** Who a stream counts against: an end user's workspace (all its sessions), else the API key. */
function quotaKey(caller: Principal): string {
  return caller.user ? `workspace:${caller.projectId}:${caller.user.workspaceId}` : `key:${caller.keyId}`;
}

/** Counts open streams by method (the nexus_streams_open gauge). */
export interface StreamGauge {
  inc(method: string): void;
  dec(method: string): void;
}

/**
 * WatchConnection(s): the current state (or the events after a resume
 * cursor), then live events from the hub, with heartbeats. Scoped to the
 * caller's project like every other read.
 */
export class ConnectionWatch {
  private open = 0;
  /** Open streams per quota holder (see quotaKey). */
  private readonly openBy = new Map<string, number>();
  /** One live event reaches many streams: build its item once (the hub hands every stream the same row). */
  private readonly liveItems = new WeakMap<ConnectionEventRow, WatchItem>();
  private readonly clock: Clock;

  constructor(
    private readonly store: Persistence,
    private readonly events: ConnectionEvents,
    private readonly options: WatchOptions,
    private readonly gauge?: StreamGauge,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  get openStreams(): number {
    return this.open;
  }

  watch(caller: Principal, query: WatchQuery, signal: AbortSignal): AsyncGenerator<WatchItem> {
    const method = query.connectionId === undefined ? 'WatchConnections' : 'WatchConnection';
    return this.bounded(caller, method, () => this.run(caller, query, signal));
  }

  /**
   * Runs a server stream under the limits every stream shares (this
   * process's cap, the admin reserve, the caller's quota): the watches, and
   * WatchAuditEvents.
   */
  async *bounded<T>(caller: Principal, method: string, stream: () => AsyncGenerator<T>): AsyncGenerator<T> {
    const key = quotaKey(caller);
    this.admit(caller, key);
    this.open++;
    this.openBy.set(key, (this.openBy.get(key) ?? 0) + 1);
    this.gauge?.inc(method);
    try {
      yield* stream();
    } finally {
      this.open--;
      const left = this.openBy.get(key)! - 1;
      if (left > 0) this.openBy.set(key, left);
      else this.openBy.delete(key);
      this.gauge?.dec(method);
    }
  }

  /**
   * The process-wide cap, then the admin reserve (the last streams are kept
   * for admin keys, so an operator can always watch), then the caller's own
   * quota (one key or workspace cannot take every stream).
   */
  private admit(caller: Principal, key: string): void {
    const { maxStreams, maxStreamsPerPrincipal, adminReserve = 0 } = this.options;
    if (this.open >= maxStreams) throw new TooManyStreamsError(maxStreams);
    const admin = caller.user === undefined && caller.scopes.has('admin');
    if (!admin && this.open >= maxStreams - adminReserve) {
      throw new StreamQuotaExceededError(
        'only the streams reserved for admin API keys are left on this server; retry later or on another replica',
        maxStreams - adminReserve,
        STREAM_RETRY_MS,
      );
    }
    if (maxStreamsPerPrincipal !== undefined && (this.openBy.get(key) ?? 0) >= maxStreamsPerPrincipal) {
      throw new StreamQuotaExceededError(
        `this ${caller.user ? 'workspace' : 'API key'} already holds its maximum of ${maxStreamsPerPrincipal} open streams; close one first`,
        maxStreamsPerPrincipal,
        STREAM_RETRY_MS,
      );
    }
  }

  private async *run(caller: Principal, query: WatchQuery, signal: AbortSignal): AsyncGenerator<WatchItem> {
    const filter = await this.resolve(caller, query);
    const resume = query.resumeCursor ? decodeCursor(query.resumeCursor) : undefined;
    if (resume && resume.at.getTime() < this.clock() - this.options.retentionMs + EXPIRY_MARGIN_MS) {
      throw new ResumeCursorExpiredError();
    }
    let queue: WatchQueue;
    try {
      queue = new WatchQueue(this.events, filter, this.options.heartbeatMs, signal);
    } catch {
      throw new ServerShuttingDownError();
    }
    try {
      let mark: EventMark;
      if (resume) {
        mark = resume;
      } else {
        const snapshot = await this.snapshot(filter);
        mark = snapshot.mark;
        const cursor = encodeCursor(mark);
        for (const connection of snapshot.connections) yield { kind: 'event', type: 'SNAPSHOT', connection, at: snapshot.at, cursor };
      }
      // Replay from the table until no listener outage happened meanwhile.
      do {
        queue.missed = false;
        for (;;) {
          const page = await this.store.events.listAfter(filter, String(mark.id), REPLAY_PAGE);
          for (const e of page) {
            mark = { id: Number(e.id), at: e.createdAt };
            yield { kind: 'event', type: e.type, connection: viewOf(e.connection), at: e.createdAt, cursor: encodeCursor(mark) };
          }
          if (page.length < REPLAY_PAGE) break;
        }
      } while (queue.missed);
      queue.goLive(mark);
      // The first heartbeat says: the snapshot (or replay) is complete, live events follow.
      yield { kind: 'heartbeat', at: new Date(this.clock()), cursor: encodeCursor(queue.position()) };
      for (;;) {
        const item = await queue.next();
        if (signal.aborted) return;
        switch (item.kind) {
          case 'closed':
            throw new ServerShuttingDownError();
          case 'overflow':
            throw new StreamBehindError();
          case 'heartbeat':
            yield { kind: 'heartbeat', at: new Date(this.clock()), cursor: encodeCursor(queue.position()) };
            break;
          case 'event':
            yield this.liveItem(item.event);
        }
      }
    } finally {
      queue.close();
    }
  }

  /** A user token watches its own workspace only (defaulted to it); an API key the whole project. */
  private liveItem(e: ConnectionEventRow): WatchItem {
    let item = this.liveItems.get(e);
    if (!item) {
      item = { kind: 'event', type: e.type, connection: viewOf(e.connection), at: e.createdAt, cursor: encodeCursor({ id: Number(e.id), at: e.createdAt }) };
      this.liveItems.set(e, item);
    }
    return item;
  }

  private async resolve(caller: Principal, query: WatchQuery): Promise<SubscriptionFilter & { projectId: string }> {
    const projectId = caller.projectId;
    if (query.connectionId !== undefined) {
      checkConnectionId('connection_id', query.connectionId);
      const row = requireOwnRow(caller, await this.store.connections.findById(projectId, query.connectionId), `connection "${echo(query.connectionId)}"`);
      if (!row) throw new ConnectionNotFoundError(query.connectionId);
      return { projectId, connectionId: row.id };
    }
    const filter: SubscriptionFilter & { projectId: string } = { projectId };
    query = { ...query, workspaceId: workspaceFor(caller, query.workspaceId ?? '') };
    if (query.workspaceId) {
      if (query.workspaceId.length > 256) throw new InvalidFieldError('workspace_id', 'must be at most 256 characters');
      filter.workspaceId = query.workspaceId;
    }
    if (query.provider) {
      const provider = await this.store.providers.findByIdOrName(projectId, query.provider);
      if (!provider) throw new ProviderNotFoundError(query.provider);
      filter.providerId = provider.id;
    }
    return filter;
  }

  /**
   * The matching connections and the newest event id, read in one
   * REPEATABLE READ snapshot: events commit in id order within a project,
   * so exactly the events up to that id are reflected in the rows.
   */
  private snapshot(filter: SubscriptionFilter & { projectId: string }): Promise<{ connections: ConnectionView[]; mark: EventMark; at: Date }> {
    return this.store.transaction(
      async (tx) => {
        const at = new Date(this.clock());
        const latest = await this.store.events.latest(filter.projectId, tx);
        const rows = await this.matchingRows(filter, tx);
        const names = new Map<string, string>();
        for (const providerId of new Set(rows.map((r) => r.providerId))) {
          names.set(providerId, (await this.store.providers.findById(filter.projectId, providerId, tx))?.name ?? '');
        }
        return {
          connections: rows.map((r) => ({ ...r, credentialsSealed: null, providerName: names.get(r.providerId) ?? '' })),
          mark: latest ? { id: Number(latest.id), at: latest.createdAt } : { id: 0, at },
          at,
        };
      },
      { repeatableRead: true },
    );
  }

  private async matchingRows(filter: SubscriptionFilter & { projectId: string }, tx: Tx): Promise<ConnectionRow[]> {
    if (filter.connectionId) {
      const row = await this.store.connections.findById(filter.projectId, filter.connectionId, tx);
      return row ? [row] : [];
    }
    const rows: ConnectionRow[] = [];
    for (let beforeId: string | undefined; ; ) {
      // One row past the limit tells "exactly at the limit" from "over it".
      const limit = Math.min(SNAPSHOT_PAGE, this.options.snapshotMax + 1 - rows.length);
      const page = await this.store.connections.list({ ...filter, beforeId, limit }, tx);
      rows.push(...page);
      if (rows.length > this.options.snapshotMax) throw new SnapshotTooLargeError(this.options.snapshotMax);
      if (page.length < limit) break;
      beforeId = page[page.length - 1]!.id;
    }
    // Oldest first, like the events that follow.
    return rows.reverse();
  }
}

import type { ConnectionEventRow, ConnectionEventTypeName, ConnectionSnapshot } from '../model/connection-event.js';
import type { ConnectionView } from '../model/connection.js';
import { CREDENTIAL_REVOKED_SUFFIX, PROVIDERS_CHANGED_SUFFIX } from '../ports/persistence.js';
import type { EventListener, Persistence, Tx } from '../ports/persistence.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { enqueueForEvent } from '../webhooks/events.js';

export type { ConnectionEventRow, ConnectionEventTypeName };

/** What a subscriber wants; projectId undefined means every project (internal consumers only, e.g. a cache). */
export interface SubscriptionFilter {
  projectId?: string | undefined;
  workspaceId?: string | undefined;
  providerId?: string | undefined;
  connectionId?: string | undefined;
}

export interface Subscriber {
  filter: SubscriptionFilter;
  /** Each matching event, in commit order within a project. May repeat an event already seen: dedupe by id. */
  onEvent(event: ConnectionEventRow): void;
  /**
   * The id this subscriber has seen everything up to (in its project), or
   * undefined while it is still reading its snapshot. After the listening
   * session was lost, the hub replays the table from here.
   */
  position?(): number | undefined;
  /** Events may have been missed while position() was undefined: replay from the table before going live. */
  onMissed?(): void;
  /** For all-project subscribers: events may have been missed and are not replayed; start over (e.g. flush a cache). */
  onResync?(): void;
  /** For all-project subscribers: a provider of the project was updated or deleted (by any replica). */
  onProvidersChanged?(projectId: string): void;
  /** The hub is shutting down. */
  onClose?(): void;
}

/**
 * An API key or user session (its id is a principal's keyId) was revoked, by
 * any replica; undefined: revocations may have been missed (the listening
 * session was lost and is back), so whoever holds a credential checks it again.
 */
export type CredentialRevocation = { projectId: string; credentialId: string } | undefined;

export interface EventMark {
  id: number;
  at: Date;
}

export interface ConnectionEventsLog {
  warn(context: Record<string, unknown>, message: string): void;
}

const FETCH_RETRY_MS = 500;
const REPLAY_PAGE = 500;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Connection events across replicas. `publish` appends the event (and its
 * NOTIFY) inside the transaction that changed the connection, so an event
 * exists if and only if the change committed. Each process holds one
 * listening session (EventListener); a notification names the project and
 * event id, the hub reads the events of the projects someone here watches
 * (one query per batch, not per subscriber) and fans them out in memory.
 * Fetches and replays run one at a time, so subscribers get each project's
 * events in commit order.
 */
export class ConnectionEvents {
  private readonly byProject = new Map<string, Set<Subscriber>>();
  private readonly everyProject = new Set<Subscriber>();
  private readonly marks = new Map<string, EventMark>();
  private pendingIds: string[] = [];
  private catchUpPending = false;
  private running = false;
  private closed = false;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly publishHooks = new Set<(connectionId: string) => void>();
  private readonly revocationHooks = new Set<(revocation: CredentialRevocation) => void>();

  constructor(
    private readonly store: Persistence,
    private readonly listener: EventListener,
    /** `clock` decides what is old enough to prune; the system clock when unset. */
    private readonly options: { retentionMs: number; log: ConnectionEventsLog; clock?: Clock },
  ) {}

  async start(): Promise<void> {
    await this.listener.start({
      notify: (payload) => this.onNotify(payload),
      reconnected: () => {
        this.credentialRevoked(undefined);
        this.catchUpPending = true;
        this.kick();
      },
    });
    void this.prune();
    this.pruneTimer = setInterval(() => void this.prune(), Math.min(PRUNE_EVERY_MS, this.options.retentionMs));
    this.pruneTimer.unref();
  }

  /**
   * Records a change to `connection` in the caller's transaction; watchers
   * everywhere see it after commit. The webhook outbox rows for it are
   * written in the same transaction (webhooks/events.ts), after the event
   * under its per-project lock, so deliveries of a connection are queued in
   * commit order too.
   */
  async publish(tx: Tx, type: ConnectionEventTypeName, connection: ConnectionView): Promise<ConnectionEventRow> {
    for (const hook of this.publishHooks) hook(connection.id);
    const event = await this.store.events.append({ type, connection: snapshotOf(connection) }, tx);
    await enqueueForEvent(this.store, event, new Date((this.options.clock ?? systemClock)()), tx);
    return event;
  }

  /**
   * Records, in the caller's transaction, that the project's providers
   * changed. This process's subscribers hear it at once (before commit, like
   * onPublish hooks: dropping a cache entry early is harmless); every
   * replica's hear it again from the NOTIFY after commit.
   */
  async publishProvidersChanged(tx: Tx, projectId: string): Promise<void> {
    this.providersChanged(projectId);
    await this.store.events.notifyProvidersChanged(projectId, tx);
  }

  /**
   * Tells `hook` of every change published by this process at once, before
   * its commit: a per-process cache drops the entry without waiting for the
   * notification round trip. (Other replicas learn of it through subscribe.)
   */
  onPublish(hook: (connectionId: string) => void): () => void {
    this.publishHooks.add(hook);
    return () => this.publishHooks.delete(hook);
  }

  /**
   * Tells `hook` of every revoked API key or session, from any replica, after
   * its commit (the storage layer queues the NOTIFY in the revoking statement),
   * and of possibly missed ones (undefined). Key caches and open streams use it.
   */
  onCredentialRevoked(hook: (revocation: CredentialRevocation) => void): () => void {
    this.revocationHooks.add(hook);
    return () => this.revocationHooks.delete(hook);
  }

  subscribe(subscriber: Subscriber): () => void {
    if (this.closed) throw new Error('connection events are shut down');
    const projectId = subscriber.filter.projectId;
    if (projectId === undefined) {
      this.everyProject.add(subscriber);
    } else {
      let set = this.byProject.get(projectId);
      if (!set) this.byProject.set(projectId, (set = new Set()));
      set.add(subscriber);
    }
    return () => {
      if (projectId === undefined) {
        this.everyProject.delete(subscriber);
        return;
      }
      const set = this.byProject.get(projectId);
      set?.delete(subscriber);
      if (set?.size === 0) this.byProject.delete(projectId);
    };
  }

  /** The newest event of the project this process has dispatched: a caught-up subscriber has seen everything up to it. */
  mark(projectId: string): EventMark | undefined {
    return this.marks.get(projectId);
  }

  get subscriberCount(): number {
    let n = this.everyProject.size;
    for (const set of this.byProject.values()) n += set.size;
    return n;
  }

  /** Ends every subscription (streams end so clients reconnect elsewhere) and stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pruneTimer);
    const all = [...this.everyProject, ...[...this.byProject.values()].flatMap((s) => [...s])];
    this.everyProject.clear();
    this.byProject.clear();
    for (const s of all) s.onClose?.();
    await this.listener.stop();
  }

  /**
   * Fans an event out to this process's subscribers only, with no database
   * in the path: what the streams benchmark uses as its reference. Real
   * changes go through `publish`.
   */
  dispatchLocal(row: ConnectionEventRow): void {
    this.dispatch(row);
  }

  /** Deletes events older than the retention; every replica does it, which is harmless. */
  async prune(): Promise<number> {
    try {
      return await this.store.events.pruneBefore(new Date((this.options.clock ?? systemClock)() - this.options.retentionMs));
    } catch (err) {
      this.options.log.warn({ error: (err as Error).message }, 'pruning connection events failed; will retry');
      return 0;
    }
  }

  private onNotify(payload: string): void {
    if (payload.endsWith(CREDENTIAL_REVOKED_SUFFIX)) {
      const rest = payload.slice(0, -CREDENTIAL_REVOKED_SUFFIX.length);
      const sep = rest.lastIndexOf(':');
      if (sep > 0 && sep < rest.length - 1) this.credentialRevoked({ projectId: rest.slice(0, sep), credentialId: rest.slice(sep + 1) });
      return;
    }
    if (payload.endsWith(PROVIDERS_CHANGED_SUFFIX)) {
      this.providersChanged(payload.slice(0, -PROVIDERS_CHANGED_SUFFIX.length));
      return;
    }
    const sep = payload.lastIndexOf(':');
    const projectId = payload.slice(0, sep);
    const id = payload.slice(sep + 1);
    if (sep <= 0 || !/^\d+$/.test(id)) return;
    if (this.everyProject.size === 0 && !this.byProject.has(projectId)) return;
    this.pendingIds.push(id);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
      if (!this.closed && (this.pendingIds.length > 0 || this.catchUpPending)) this.kick();
    });
  }

  /** One task at a time; a failed read (database down) is retried, never dropped. */
  private async drain(): Promise<void> {
    while (!this.closed && (this.catchUpPending || this.pendingIds.length > 0)) {
      try {
        if (this.catchUpPending) {
          // Notifications that arrived after the reconnect queue up behind this replay.
          this.catchUpPending = false;
          try {
            await this.catchUp();
          } catch (err) {
            this.catchUpPending = true;
            throw err;
          }
        } else {
          const ids = this.pendingIds.slice(0, 1000);
          const rows = await this.store.events.findByIds(ids);
          this.pendingIds.splice(0, ids.length);
          for (const row of rows) this.dispatch(row);
        }
      } catch (err) {
        this.options.log.warn({ error: (err as Error).message }, 'reading connection events failed; retrying');
        await new Promise((r) => setTimeout(r, FETCH_RETRY_MS));
      }
    }
  }

  private async catchUp(): Promise<void> {
    for (const s of this.everyProject) s.onResync?.();
    for (const [projectId, subs] of [...this.byProject]) {
      let from: number | undefined;
      for (const s of subs) {
        const p = s.position?.();
        if (p === undefined) s.onMissed?.();
        else from = from === undefined ? p : Math.min(from, p);
      }
      if (from === undefined) continue;
      for (let after = from; ; ) {
        const page = await this.store.events.listAfter({ projectId }, String(after), REPLAY_PAGE);
        for (const row of page) this.dispatch(row);
        if (page.length < REPLAY_PAGE) break;
        after = Number(page[page.length - 1]!.id);
      }
    }
  }

  private credentialRevoked(revocation: CredentialRevocation): void {
    for (const hook of this.revocationHooks) hook(revocation);
  }

  private providersChanged(projectId: string): void {
    for (const s of this.everyProject) s.onProvidersChanged?.(projectId);
  }

  private dispatch(row: ConnectionEventRow): void {
    const id = Number(row.id);
    const mark = this.marks.get(row.projectId);
    if (!mark || mark.id < id) this.marks.set(row.projectId, { id, at: row.createdAt });
    for (const s of this.byProject.get(row.projectId) ?? []) if (matches(s.filter, row)) s.onEvent(row);
    for (const s of this.everyProject) if (matches(s.filter, row)) s.onEvent(row);
  }
}

export function matches(f: SubscriptionFilter, e: { projectId: string; workspaceId: string; providerId: string; connectionId: string }): boolean {
  return (
    (f.projectId === undefined || f.projectId === e.projectId) &&
    (!f.workspaceId || f.workspaceId === e.workspaceId) &&
    (!f.providerId || f.providerId === e.providerId) &&
    (!f.connectionId || f.connectionId === e.connectionId)
  );
}

/** Everything about a connection except its sealed credentials. */
export function snapshotOf(c: ConnectionView): ConnectionSnapshot {
  return {
    id: c.id,
    projectId: c.projectId,
    workspaceId: c.workspaceId,
    providerId: c.providerId,
    providerName: c.providerName,
    status: c.status,
    statusReason: c.statusReason,
    scopes: c.scopes,
    returnUrl: c.returnUrl,
    fields: c.fields,
    supersededBy: c.supersededBy,
    tokenExpiresAt: c.tokenExpiresAt ? c.tokenExpiresAt.toISOString() : null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

/** The connection view an event carries (no credentials: they were never stored in the event). */
export function viewOf(s: ConnectionSnapshot): ConnectionView {
  return {
    id: s.id,
    projectId: s.projectId,
    workspaceId: s.workspaceId,
    providerId: s.providerId,
    providerName: s.providerName,
    status: s.status as ConnectionView['status'],
    statusReason: s.statusReason,
    scopes: s.scopes,
    returnUrl: s.returnUrl,
    fields: s.fields,
    supersededBy: s.supersededBy,
    credentialsSealed: null,
    tokenExpiresAt: s.tokenExpiresAt ? new Date(s.tokenExpiresAt) : null,
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
  };
}

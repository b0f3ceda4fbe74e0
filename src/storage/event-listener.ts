import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { EVENTS_CHANNEL } from './repositories/connection-event-repository.js';
import type { EventListener, ListenerHandlers } from '../domain/ports/persistence.js';

export type { EventListener, ListenerHandlers };

export interface ListenerLog {
  warn(context: Record<string, unknown>, message: string): void;
  info(context: Record<string, unknown>, message: string): void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * One dedicated session per process, outside the pool: a pooled client would
 * be handed to queries (and LISTEN is per session), and a pool recycles idle
 * clients. When the session is lost (PostgreSQL restarted, network cut) it
 * reconnects with capped exponential backoff and jitter, and reports
 * `reconnected` so the hub replays what it missed from the table.
 */
export class PostgresEventListener implements EventListener {
  private client: pg.Client | undefined;
  private handlers: ListenerHandlers | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly log: ListenerLog,
  ) {}

  get connected(): boolean {
    return this.client !== undefined;
  }

  async start(handlers: ListenerHandlers): Promise<void> {
    this.handlers = handlers;
    try {
      await this.connect();
    } catch (err) {
      // The pool just migrated, so this is a blip: keep trying in the background.
      this.lost(undefined, err);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, connectionTimeoutMillis: 5_000 });
    client.on('notification', (n) => {
      if (n.channel === EVENTS_CHANNEL && n.payload) this.handlers!.notify(n.payload);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, undefined));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
  }

  private lost(client: pg.Client | undefined, err: unknown): void {
    if (this.stopped || (client && this.client !== client)) return;
    this.client = undefined;
    client?.removeAllListeners('end');
    client?.end().catch(() => {});
    this.log.warn({ error: (err as Error | undefined)?.message }, 'event listener lost its database session; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect().then(
        () => {
          if (this.stopped) return;
          this.attempt = 0;
          this.log.info({}, 'event listener reconnected');
          this.handlers!.reconnected();
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
    this.timer.unref();
  }
}

/**
 * The embedded database (PGlite, in-process) is exactly one session, which
 * the pool of one already holds: a second, dedicated session would interleave
 * with it. PostgreSQL delivers a session's own notifications to itself,
 * so the listener LISTENs on that pooled session instead; NOTIFY still fires
 * at commit and the hub is the same. Embedded is one process by construction,
 * so nothing else could be listening anyway.
 */
export class SessionEventListener implements EventListener {
  private readonly attached = new WeakSet<pg.PoolClient>();
  private handlers: ListenerHandlers | undefined;
  private first = true;

  constructor(private readonly dataSource: DataSource) {}

  async start(handlers: ListenerHandlers): Promise<void> {
    this.handlers = handlers;
    const pool = (this.dataSource.driver as PostgresDriver).master as pg.Pool;
    // A replacement session (the old one broke) is attached as it opens.
    pool.on('connect', (client) => this.attach(client));
    const client = await pool.connect();
    try {
      this.attach(client);
      await client.query('SELECT 1');
    } finally {
      client.release();
    }
  }

  async stop(): Promise<void> {
    this.handlers = undefined;
  }

  private attach(client: pg.PoolClient): void {
    if (this.attached.has(client)) return;
    this.attached.add(client);
    client.on('notification', (n) => {
      if (n.channel === EVENTS_CHANNEL && n.payload) this.handlers?.notify(n.payload);
    });
    // Queued ahead of any query the pool hands this client to.
    void client.query(`LISTEN ${EVENTS_CHANNEL}`).catch(() => {});
    if (!this.first) this.handlers?.reconnected();
    this.first = false;
  }
}

/** The listener that fits the database: a dedicated session on PostgreSQL, the pooled one when embedded. */
export function createEventListener(database: { dataSource: DataSource; embedded: boolean; url: string | undefined }, log: ListenerLog): EventListener {
  return database.embedded || !database.url ? new SessionEventListener(database.dataSource) : new PostgresEventListener(database.url, log);
}

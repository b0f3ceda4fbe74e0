import { ConnectError } from '@connectrpc/connect';
import { ConnectionEventType, type ConnectionEvent, type WatchConnectionResponse, type WatchConnectionsResponse } from '../../gen/ts/nexus/v1/connection_pb.js';
import { RETURN_URL, type Clients } from './test-app.js';

type Item = WatchConnectionResponse | WatchConnectionsResponse;

/**
 * Reads a watch stream in the background and keeps everything it delivered,
 * so a test can make changes and then wait for what it expects to arrive.
 */
export class StreamRecorder {
  readonly items: Item[] = [];
  error: ConnectError | undefined;
  ended = false;
  readonly done: Promise<void>;
  private readonly abort = new AbortController();

  constructor(open: (signal: AbortSignal) => AsyncIterable<Item>) {
    this.done = (async () => {
      try {
        for await (const item of open(this.abort.signal)) this.items.push(item);
      } catch (err) {
        if (!this.abort.signal.aborted) this.error = ConnectError.from(err);
      } finally {
        this.ended = true;
      }
    })();
  }

  /** Events only (snapshot items included), in arrival order. */
  get events(): ConnectionEvent[] {
    return this.items.flatMap((i) => (i.item.case === 'event' ? [i.item.value] : []));
  }

  get heartbeats(): number {
    return this.items.filter((i) => i.item.case === 'heartbeat').length;
  }

  /** The cursor of the last event or heartbeat delivered. */
  get lastCursor(): string {
    const last = this.items.at(-1);
    if (!last || last.item.case === undefined) throw new Error('nothing delivered yet');
    return last.item.value.cursor;
  }

  /** Events after the first heartbeat (the end of the snapshot or replay). */
  get liveEvents(): ConnectionEvent[] {
    const first = this.items.findIndex((i) => i.item.case === 'heartbeat');
    if (first < 0) return [];
    return this.items.slice(first + 1).flatMap((i) => (i.item.case === 'event' ? [i.item.value] : []));
  }

  async until(predicate: (r: StreamRecorder) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (this.ended && !predicate(this)) throw new Error(`stream ended (${this.error?.message ?? 'ok'}) before ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${describe(this.events)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits for the snapshot (or replay) to be complete: the first heartbeat. */
  ready(timeoutMs?: number): Promise<void> {
    return this.until((r) => r.heartbeats > 0, 'the first heartbeat', timeoutMs);
  }

  stop(): Promise<void> {
    this.abort.abort();
    return this.done;
  }
}

export function describe(events: ConnectionEvent[]): string {
  return JSON.stringify(events.map((e) => `${ConnectionEventType[e.type]} ${e.connection?.id}`));
}

export function watchAll(api: Clients, req: { workspaceId?: string; provider?: string; resumeCursor?: string } = {}): StreamRecorder {
  return new StreamRecorder((signal) => api.connections.watchConnections(req, { signal }));
}

export function watchOne(api: Clients, id: string, resumeCursor = ''): StreamRecorder {
  return new StreamRecorder((signal) => api.connections.watchConnection({ connectionId: id, resumeCursor }, { signal }));
}

/** [type, connection id] pairs, for exact comparisons. */
export function summary(events: ConnectionEvent[]): [string, string][] {
  return events.map((e) => [ConnectionEventType[e.type]!, e.connection!.id]);
}

/** Creates a static (acme-api or legacy-crm) connection and submits its credentials: CREATED then ACTIVE. */
export async function staticConnection(api: Clients, workspaceId: string, provider = 'acme-api', key = 'ak_watch_secret_5e1f0c9d'): Promise<string> {
  const created = await api.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: provider }, returnUrl: RETURN_URL });
  const credentials: Record<string, string> = provider === 'acme-api' ? { api_key: key } : { username: 'u', password: key };
  await api.connections.submitCredentials({ state: created.state, credentials });
  return created.connection!.id;
}

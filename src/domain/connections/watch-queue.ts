import type { ConnectionEventRow, ConnectionEvents, EventMark, SubscriptionFilter } from './connection-events.js';

export type QueueItem = { kind: 'event'; event: ConnectionEventRow } | { kind: 'heartbeat' } | { kind: 'closed' } | { kind: 'overflow' };

/** How many undelivered events one stream may hold before it is ended (the client resumes with its cursor). */
export const MAX_BUFFERED_EVENTS = 10_000;

/**
 * One stream's subscription to the hub. Subscribed before the stream reads
 * its snapshot or replays the table, so nothing committed in between is
 * lost; it buffers until `goLive`, then drops anything at or below the
 * stream's position (already sent), so nothing is sent twice.
 */
export class WatchQueue {
  private readonly items: QueueItem[] = [];
  private wake: (() => void) | undefined;
  private live: EventMark | undefined;
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout;
  private events = 0;
  /** The hub may have lost events while this stream had no position yet. */
  missed = false;

  constructor(
    private readonly hub: ConnectionEvents,
    private readonly filter: SubscriptionFilter & { projectId: string },
    heartbeatMs: number,
    signal: AbortSignal,
  ) {
    this.unsubscribe = hub.subscribe({
      filter,
      onEvent: (event) => this.push({ kind: 'event', event }),
      position: () => this.live?.id,
      onMissed: () => (this.missed = true),
      onClose: () => this.push({ kind: 'closed' }),
    });
    this.timer = setInterval(() => this.push({ kind: 'heartbeat' }), heartbeatMs);
    this.timer.unref();
    signal.addEventListener('abort', () => this.push({ kind: 'closed' }), { once: true });
  }

  /** Switches to live delivery after everything up to `mark` was sent. */
  goLive(mark: EventMark): void {
    this.live = mark;
  }

  /** Where the client is: the last event sent, or the hub's newest event of the project once nothing is pending. */
  position(): EventMark {
    const mark = this.live!;
    const hub = this.hub.mark(this.filter.projectId);
    return this.events === 0 && hub && hub.id > mark.id ? hub : mark;
  }

  /** The next thing to send: a new event, a heartbeat, or the end. */
  async next(): Promise<QueueItem> {
    for (;;) {
      const item = this.items.shift();
      if (!item) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (item.kind !== 'event') return item;
      this.events--;
      const id = Number(item.event.id);
      if (id <= this.live!.id) continue;
      this.live = { id, at: item.event.createdAt };
      return item;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.unsubscribe();
  }

  private push(item: QueueItem): void {
    if (item.kind === 'event') {
      if (++this.events > MAX_BUFFERED_EVENTS) item = { kind: 'overflow' };
    } else if (item.kind === 'heartbeat' && this.items.at(-1)?.kind === 'heartbeat') {
      return; // a client that is not reading needs one heartbeat, not a pile
    }
    // The end jumps the queue: on shutdown or abort nothing else is sent.
    if (item.kind === 'closed' || item.kind === 'overflow') this.items.unshift(item);
    else this.items.push(item);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

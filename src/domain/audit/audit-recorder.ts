import type { AuditEventRow } from '../model/audit-event.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { AuditEventsPort } from '../ports/persistence.js';
import { AuditBacklogFullError } from '../shared/errors.js';
import { chain, toUnchained, type UnchainedEvent } from './chain.js';
import type { AuditEventInput, AuditLog } from './types.js';

export interface AuditRecorderOptions {
  /** Longest an event waits in memory before its batch is written (NEXUS_AUDIT_FLUSH_MS). */
  flushMs: number;
  /** Events buffered before new RPCs are refused with UNAVAILABLE (NEXUS_AUDIT_BUFFER_MAX). */
  maxBuffered: number;
  /** A batch this large is written at once, without waiting for the timer. */
  batchSize?: number;
  /** Dates the events; the system clock when unset. */
  clock?: Clock;
  warn?: (message: string, context: object) => void;
}

interface Pending {
  event: UnchainedEvent;
  written?: () => void;
}

/**
 * The audit log's writer. `record` queues an event in memory; a flush every
 * `flushMs` (or at `batchSize` events) writes each project's queued events
 * in one transaction, one multi-row INSERT, chained after the project's
 * head. `write` queues and waits until the event is stored (admin and
 * lifecycle events). A failed flush keeps its events and retries; while
 * `maxBuffered` events wait, `admit` refuses new RPCs (back-pressure, never
 * a silent drop). `close` writes what is left.
 *
 * What a crash can lose: the events queued and not yet flushed, normally
 * those of the last `flushMs`, at most `maxBuffered` plus the calls in
 * flight when the buffer filled.
 */
export class AuditRecorder implements AuditLog {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly batchSize: number;
  private readonly clock: Clock;
  private readonly listeners: ((rows: AuditEventRow[]) => void)[] = [];

  constructor(
    private readonly store: AuditEventsPort,
    private readonly options: AuditRecorderOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.clock = options.clock ?? systemClock;
  }

  record(event: AuditEventInput): void {
    this.enqueue({ event: toUnchained(event, new Date(this.clock())) });
  }

  /** Queues the event and resolves once it is stored (its batch is written at once). */
  write(event: AuditEventInput): Promise<void> {
    return new Promise<void>((resolve) => {
      this.enqueue({ event: toUnchained(event, new Date(this.clock())), written: resolve });
      this.flushSoon(0);
    });
  }

  /** Told of every batch written (this process's audit streams wake up). */
  onWritten(listener: (rows: AuditEventRow[]) => void): void {
    this.listeners.push(listener);
  }

  /** Events waiting to be written. */
  get buffered(): number {
    return this.queue.length;
  }

  /** Throws UNAVAILABLE (AUDIT_BACKLOG_FULL) while the buffer is full: called before an RPC runs. */
  admit(): void {
    if (this.queue.length >= this.options.maxBuffered) throw new AuditBacklogFullError(this.options.flushMs);
  }

  /** Writes every queued event now; resolves when the queue (as of now) is stored or a flush failed. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = this.writeQueued().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  /** Stops the timer and writes what is queued (retried a few times, bounded). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (let attempt = 0; attempt < 5 && this.queue.length > 0; attempt++) {
      await this.flush();
      if (this.queue.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    if (this.queue.length > 0) this.options.warn?.('audit events could not be written before shutdown', { lost: this.queue.length });
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    if (this.queue.length >= this.batchSize) this.flushSoon(0);
    else this.flushSoon(this.options.flushMs);
  }

  private flushSoon(delayMs: number): void {
    if (this.closed && delayMs > 0) delayMs = 0;
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(() => {
        if (this.queue.length > 0) this.flushSoon(this.options.flushMs);
      });
    }, delayMs);
    this.timer.unref?.();
  }

  private async writeQueued(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    const byProject = new Map<string, Pending[]>();
    for (const p of batch) {
      const list = byProject.get(p.event.projectId);
      if (list) list.push(p);
      else byProject.set(p.event.projectId, [p]);
    }
    const failed: Pending[] = [];
    for (const [projectId, pending] of byProject) {
      try {
        const rows = await this.store.appendChain(projectId, (head) =>
          chain(
            head,
            pending.map((p) => p.event),
          ),
        );
        for (const p of pending) p.written?.();
        for (const listener of this.listeners) listener(rows);
      } catch (err) {
        failed.push(...pending);
        this.options.warn?.('writing audit events failed; will retry', { projectId, events: pending.length, error: (err as Error).message });
      }
    }
    // Kept, in order, ahead of what was queued meanwhile.
    if (failed.length > 0) this.queue = [...failed, ...this.queue];
  }
}

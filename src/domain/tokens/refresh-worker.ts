import type { Refresher } from './refresher.js';
import type { Persistence } from '../ports/persistence.js';
import { systemClock, type Clock } from '../ports/clock.js';

export interface RefreshWorkerOptions {
  batchSize: number;
  concurrency: number;
  pollMs: number;
  leadMs: number;
}

/** What the worker reports (metrics); the domain never imports a metrics library. */
export interface WorkerObserver {
  polled(): void;
  claimed(count: number): void;
  inFlight(count: number): void;
  backlog(due: number, backingOff: number): void;
}

export interface RefreshWorkerDeps {
  store: Persistence;
  refresher: Refresher;
  observer?: WorkerObserver | undefined;
  warn: (message: string, context: Record<string, unknown>) => void;
  /** What "due" is measured against (default: the system clock). */
  clock?: Clock | undefined;
}

/**
 * Refreshes OAuth tokens before they expire, in every replica that runs it.
 * Each poll claims due connections with FOR UPDATE SKIP LOCKED and a lease
 * (Refresher.claimDue), so replicas split the work and no connection is
 * refreshed twice, then runs them through the same path as GetToken.
 *
 * Claims are sized to the free concurrency slots, so every claimed attempt
 * starts its provider call at once: a lease never ticks away while its
 * attempt waits in a local queue (which could make another replica presume
 * the holder dead). While claims come back full it claims again as slots
 * free up; once a claim comes back short it sleeps for the poll interval.
 */
export class RefreshWorker {
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: RefreshWorkerDeps,
    private readonly options: RefreshWorkerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops claiming and waits for the refreshes in flight (each bounded by the provider timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await Promise.all(this.inFlight);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule(this.options.pollMs);
      });
    }, ms);
  }

  private async poll(): Promise<void> {
    const { store, refresher, observer } = this.deps;
    const { batchSize, concurrency, leadMs } = this.options;
    try {
      const now = (this.deps.clock ?? systemClock)();
      const backlog = await store.refresh.countDue({ dueBefore: new Date(now + leadMs), now: new Date(now) });
      observer?.backlog(backlog.due, backlog.backingOff);
      while (!this.stopped) {
        const free = concurrency - this.inFlight.size;
        if (free === 0) {
          await Promise.race(this.inFlight);
          continue;
        }
        const want = Math.min(batchSize, free);
        observer?.polled();
        const claims = await refresher.claimDue(leadMs, want);
        observer?.claimed(claims.length);
        for (const claim of claims) {
          const run: Promise<void> = refresher.run(claim).then(
            () => undefined,
            (err: unknown) => this.deps.warn('background refresh failed unexpectedly', { err, connectionId: claim.row.id }),
          );
          const tracked = run.finally(() => {
            this.inFlight.delete(tracked);
            observer?.inFlight(this.inFlight.size);
          });
          this.inFlight.add(tracked);
        }
        observer?.inFlight(this.inFlight.size);
        if (claims.length < want) break;
      }
    } catch (err) {
      // Typically the database is unreachable; the next poll tries again.
      this.deps.warn('refresh worker poll failed', { err });
    }
  }
}

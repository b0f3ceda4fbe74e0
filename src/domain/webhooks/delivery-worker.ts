import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditLog } from '../audit/types.js';
import type { ClaimedDelivery, DeliveryOutcome } from '../model/webhook-delivery.js';
import type { WebhookSecretRecord } from '../model/webhook.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { WebhookDeliveriesPort } from '../ports/webhook-deliveries.js';
import type { ErrorReasonName } from '../shared/errors.js';
import { isPastMaxAge, retryDelay } from './backoff.js';
import { describeFailure, type WebhookSender } from './sender.js';

export interface DeliveryWorkerOptions {
  pollMs: number;
  batchSize: number;
  concurrency: number;
  leaseMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxAgeMs: number;
}

/** What the worker reports (metrics); the domain never imports a metrics library. */
export interface DeliveryObserver {
  polled(): void;
  /** One attempt ended: succeeded, failed (retried later) or dead (failed past the maximum age). */
  attempted(outcome: 'succeeded' | 'failed' | 'dead', seconds: number): void;
  inFlight(count: number): void;
  backlog(due: number, backingOff: number): void;
}

export interface DeliveryWorkerDeps {
  deliveries: WebhookDeliveriesPort;
  send: WebhookSender;
  /** Standard Webhooks headers for the body, signed with every given secret (signing.ts). */
  sign: (input: { id: string; timestamp: number; body: string; secrets: string[] }) => Record<string, string>;
  /** The endpoint's secrets that sign at `nowMs`, opened (secrets.ts liveWebhookSecrets); throws when none opens. */
  liveSecrets: (endpoint: { id: string; secrets: WebhookSecretRecord[] }, nowMs: number) => string[];
  audit: AuditLog;
  observer?: DeliveryObserver | undefined;
  warn: (message: string, context: Record<string, unknown>) => void;
  /** What "due", backoffs, leases and the maximum age are measured against (default: the system clock). */
  clock?: Clock | undefined;
  random?: () => number;
  /** This worker's name in lease_owner (default host:pid:random). */
  name?: string;
}

/** How soon a nudge polls: events committed together make one poll. */
const NUDGE_MS = 20;

class NoLiveSecretError extends Error {
  constructor() {
    super('no live signing secret of the endpoint opens');
  }
}

/** The ErrorReason of a failed attempt in the audit log; the last one of a dead delivery. */
const FAILED_REASON: ErrorReasonName = 'WEBHOOK_DELIVERY_FAILED';
const DEAD_REASON: ErrorReasonName = 'WEBHOOK_DELIVERY_DEAD';

/**
 * Delivers webhooks from the outbox (webhook_deliveries), in every replica
 * that runs it. Each poll claims due deliveries with FOR UPDATE SKIP LOCKED
 * and a lease (WebhookDeliveriesPort.claim), only the oldest unfinished one
 * per endpoint and connection (so a connection's events arrive in order),
 * signs and POSTs each through the SSRF-safe sender, and writes the outcome
 * back: 2xx is delivered; anything else (an HTTP error, a redirect, a
 * timeout, a refused connection or URL) is retried after an exponential
 * backoff with full jitter, until the delivery is older than the maximum
 * age, when it is dead. A replica killed mid-attempt leaves its lease to
 * lapse; the delivery is then claimed and sent again with the same
 * webhook-id (at least once: receivers deduplicate on it).
 *
 * Cheap when idle: one indexed count per poll interval (the claim runs only
 * when something is due), and `nudge()` (a connection event committed)
 * brings the next poll forward.
 */
export class DeliveryWorker {
  private readonly inFlight = new Map<Promise<void>, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private running = false;
  private stopping = false;
  /** Settles when stop() is called: a poll waiting for a free slot stops waiting. */
  private stopCalled: Promise<void> = new Promise(() => undefined);
  private onStop: () => void = () => undefined;
  private nudged = false;
  /** When the scheduled poll fires (process clock). */
  private dueAt = 0;
  private readonly name: string;
  private claims = 0;

  constructor(
    private readonly deps: DeliveryWorkerDeps,
    private readonly options: DeliveryWorkerOptions,
  ) {
    this.name = deps.name ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  }

  start(): void {
    this.running = true;
    this.stopping = false;
    this.stopCalled = new Promise((resolve) => (this.onStop = resolve));
    this.schedule(0);
  }

  /** Polls soon (a new event may have queued deliveries); several nudges in a row make one poll. */
  nudge(): void {
    if (!this.running) return;
    if (this.polling) {
      this.nudged = true;
      return;
    }
    // Already due that soon: a steady stream of events must not keep pushing the poll back.
    if (this.dueAt <= Date.now() + NUDGE_MS) return;
    this.schedule(NUDGE_MS);
  }

  /**
   * Stops claiming, then waits up to `drainMs` for the attempts in flight;
   * those still running are aborted and handed back (due again at once), or,
   * when the database cannot be reached, left to their lease.
   */
  async stop(drainMs = 0): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.onStop();
    clearTimeout(this.timer);
    await this.polling;
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, drainMs);
    });
    await Promise.race([Promise.all(this.inFlight.keys()), deadline]);
    clearTimeout(timer);
    for (const controller of this.inFlight.values()) controller.abort();
    await Promise.all(this.inFlight.keys());
  }

  /** Runs one poll now (tests with an injected clock drive the worker with it instead of timers). */
  async pollOnce(): Promise<void> {
    await this.poll();
  }

  /** Resolves once every attempt in flight has ended. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight.keys());
  }

  private now(): number {
    return (this.deps.clock ?? systemClock)();
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        const again = this.nudged;
        this.nudged = false;
        this.schedule(again ? 0 : this.options.pollMs);
      });
    }, ms);
  }

  private async poll(): Promise<void> {
    const { deliveries, observer } = this.deps;
    const { batchSize, concurrency, leaseMs } = this.options;
    try {
      const backlog = await deliveries.backlog(new Date(this.now()));
      observer?.backlog(backlog.due, backlog.backingOff);
      if (backlog.due === 0) return;
      for (;;) {
        if (this.stopping) break;
        const free = concurrency - this.inFlight.size;
        if (free === 0) {
          await Promise.race([...this.inFlight.keys(), this.stopCalled]);
          continue;
        }
        const want = Math.min(batchSize, free);
        const now = this.now();
        observer?.polled();
        const claimed = await deliveries.claim({
          now: new Date(now),
          limit: want,
          owner: `${this.name}:${++this.claims}`,
          leaseUntil: new Date(now + leaseMs),
        });
        for (const claim of claimed) this.track(claim);
        observer?.inFlight(this.inFlight.size);
        if (claimed.length < want) break;
      }
    } catch (err) {
      // Typically the database is unreachable; the next poll tries again.
      this.deps.warn('webhook delivery poll failed', { err });
    }
  }

  private track(claim: ClaimedDelivery): void {
    const controller = new AbortController();
    const run = this.attempt(claim, controller.signal).catch((err: unknown) =>
      this.deps.warn('webhook delivery failed unexpectedly', { err, deliveryId: claim.id }),
    );
    const tracked: Promise<void> = run.finally(() => {
      this.inFlight.delete(tracked);
      this.deps.observer?.inFlight(this.inFlight.size);
    });
    this.inFlight.set(tracked, controller);
  }

  /** One attempt: sign, send, write the outcome back, audit it. */
  private async attempt(claim: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const { deliveries, observer } = this.deps;
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | undefined;
    try {
      const now = this.now();
      let secrets: string[];
      try {
        secrets = this.deps.liveSecrets({ id: claim.endpointId, secrets: claim.secrets }, now);
      } catch {
        // A key left the ring (or every secret expired): never send an unsigned message. Retried, then dead.
        throw new NoLiveSecretError();
      }
      const body = JSON.stringify(claim.payload);
      const headers = this.deps.sign({ id: claim.messageId, timestamp: Math.floor(now / 1000), body, secrets });
      const response = await this.deps.send(claim.url, { headers, body, signal });
      statusCode = response.status;
      if (statusCode < 200 || statusCode >= 300) error = response.excerpt ? `HTTP ${statusCode}: ${response.excerpt}` : `HTTP ${statusCode}`;
    } catch (err) {
      if (signal.aborted) {
        // The worker is stopping: not the receiver's failure. Hand the delivery back for another replica (or lease expiry).
        await deliveries.release(claim, new Date(this.now())).catch(() => undefined);
        return;
      }
      error = err instanceof NoLiveSecretError ? err.message : describeFailure(err);
    }
    const seconds = (performance.now() - started) / 1000;
    const now = this.now();
    let outcome: DeliveryOutcome;
    if (error === undefined) {
      outcome = { status: 'succeeded', statusCode: statusCode!, at: new Date(now) };
    } else if (isPastMaxAge(claim.createdAt, now, this.options.maxAgeMs)) {
      outcome = { status: 'dead', statusCode, error };
    } else {
      const delay = retryDelay(claim.attempts, this.options.backoffBaseMs, this.options.backoffMaxMs, this.deps.random);
      outcome = { status: 'pending', statusCode, error, nextAttemptAt: new Date(now + delay) };
    }
    const written = await deliveries.complete(claim, outcome);
    if (!written) {
      // Our lease lapsed and another worker took the delivery over: its attempt is the one on record.
      this.deps.warn('webhook delivery lease lapsed before the attempt ended', { deliveryId: claim.id });
    }
    const label = outcome.status === 'succeeded' ? 'succeeded' : outcome.status === 'dead' ? 'dead' : 'failed';
    observer?.attempted(label, seconds);
    this.deps.audit.record({
      projectId: claim.projectId,
      actor: { kind: 'system' },
      action: 'webhook.delivery',
      target: { type: 'webhook_delivery', id: claim.id },
      outcome: outcome.status === 'succeeded' ? 'success' : 'failed',
      ...(outcome.status === 'succeeded' ? {} : { reason: outcome.status === 'dead' ? DEAD_REASON : FAILED_REASON }),
      detail: {
        endpoint_id: claim.endpointId,
        message_id: claim.messageId,
        event_type: claim.eventType,
        attempt: claim.attempts,
        ...(statusCode !== null ? { status_code: statusCode } : {}),
        ...(error !== undefined ? { error } : {}),
      },
    });
  }
}

import type { ClaimedDelivery, DeliveryOutcome } from '../model/webhook-delivery.js';

/** The webhook delivery queue (webhook_deliveries): what the delivery worker needs of it. */
export interface WebhookDeliveriesPort {
  /**
   * Claims up to `limit` deliveries that are due (pending or with a lapsed
   * lease, next attempt not in the future, endpoint enabled), only the oldest
   * unfinished one per (endpoint, connection), and leases them to `owner`
   * until `leaseUntil`, counting the attempt. FOR UPDATE SKIP LOCKED: workers
   * claiming at the same moment, in any replica, get disjoint rows.
   */
  claim(p: { now: Date; limit: number; owner: string; leaseUntil: Date }): Promise<ClaimedDelivery[]>;
  /**
   * Writes an attempt's outcome and drops the lease, if the lease is still
   * this attempt's (`owner` and the attempt count); false when another
   * worker has taken the delivery over since (our lease lapsed).
   */
  complete(claim: Pick<ClaimedDelivery, 'id' | 'leaseOwner' | 'attempts'>, outcome: DeliveryOutcome): Promise<boolean>;
  /** Hands a claimed delivery back unfinished (the worker is stopping): due again at `now`, the attempt still counted. */
  release(claim: Pick<ClaimedDelivery, 'id' | 'leaseOwner' | 'attempts'>, now: Date): Promise<boolean>;
  /** Unfinished deliveries of enabled endpoints (every replica's): due now, waiting out a backoff. For the gauges. */
  backlog(now: Date): Promise<{ due: number; backingOff: number }>;
}

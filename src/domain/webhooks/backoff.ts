/**
 * When a failed webhook delivery is tried again: exponential backoff with
 * "full jitter" (the delay is drawn uniformly from [0, ceiling], the ceiling
 * doubling with each failed attempt up to `maxMs`).
 *
 * Full rather than the refresh worker's equal jitter: after a receiver's
 * outage every endpoint's backlog fails at once, and spreading the retries
 * over the whole window is what keeps them from coming back in lockstep
 * when it recovers; a receiver that is down gains nothing from a floor.
 * (Attempts are at least a poll interval apart anyway: a row is claimed at
 * most once per poll.)
 */
export function retryDelay(failedAttempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempts, 1) - 1, 40);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

/**
 * Whether a delivery that just failed is dead: it has been retried for
 * `maxAgeMs` since it was written (the event's age, not its attempts'
 * count, bounds how stale a notice a receiver may still get).
 */
export function isPastMaxAge(createdAt: Date, now: number, maxAgeMs: number): boolean {
  return now - createdAt.getTime() >= maxAgeMs;
}
